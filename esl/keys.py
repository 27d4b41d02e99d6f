"""Keys Centrex lights itself: states FreeSWITCH cannot know (FREESWITCH.md §5).

Phones subscribe to `<proto>+<user>@<domain>`; sofia asks for those with a
PRESENCE_PROBE and lights them from PRESENCE_IN events of that proto:

- `dnd+<extension>`: lit while the user does not want to be disturbed;
- `grp+<group number>`: lit while at least one member of the hunt group is logged in;
- `grp+<group number>-<extension>`: lit while that member is logged in (a member's
  own log-in key, beside the `*55`/`*56` codes).

`park+<slot>` keys are not Centrex's: mod_valet_parking answers and lights them itself
(`xmlcurl.park`).

`key_states` is pure: database rows in, every key's state out. The listener compares
it with what it last published and sends only the changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from provisioning.call_handling import stored_dnd_on
from xmlcurl import fsnames as fs

KEY_PROTOS = (fs.PROTO_DND, fs.PROTO_GROUP)
# What may follow `<proto>+` in a key Centrex answers for: digits, one `-` for members.
_USER = re.compile(r"[0-9]{2,8}(?:-[0-9]{2,8})?")


@dataclass(frozen=True, order=True)
class Key:
    proto: str
    user: str
    domain: str

    @classmethod
    def parse(cls, proto: str, to: str) -> Key | None:
        """`to` as sofia puts it in a probe: `<proto>+<user>@<host>`."""
        if proto not in KEY_PROTOS:
            return None
        prefix, plus, rest = to.partition("+")
        user, at, domain = rest.partition("@")
        if not (plus and prefix == proto and at and _USER.fullmatch(user) and domain):
            return None
        if any(c.isspace() or c in "<>;,\"'" for c in domain):
            return None
        return cls(proto, user, domain.lower())

    @property
    def address(self) -> str:
        return f"{self.user}@{self.domain}"


def key_states(
    dnd_rows: Iterable[tuple[str, str, dict[str, Any] | None]],
    member_rows: Iterable[tuple[str, str, str, bool]],
) -> dict[Key, bool]:
    """Every key's state from (extension, domain, call handling) of users with a DND
    setting and (domain, group number, member extension, logged in) of group members.
    Keys not listed are off."""
    states: dict[Key, bool] = {}
    for extension, domain, call_handling in dnd_rows:
        states[Key(fs.PROTO_DND, extension, domain)] = stored_dnd_on(call_handling)
    for domain, group, member, logged_in in member_rows:
        states[Key(fs.PROTO_GROUP, f"{group}-{member}", domain)] = bool(logged_in)
        whole = Key(fs.PROTO_GROUP, group, domain)
        states[whole] = states.get(whole, False) or bool(logged_in)
    return states
