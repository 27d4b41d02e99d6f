"""Hunt-group routing state from FreeSWITCH events: who answered a group's call, and
members logging in or out with their phone's code. Pure: an event in, changes out.

Both read only values Centrex itself wrote: the markers the group's dial string put
on each member's leg (`centrex_group`, `centrex_group_member`), and the headers of
the CUSTOM event the log-in code's dialplan fires (built from the digest-authenticated
caller, see `xmlcurl.group`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from xmlcurl import fsnames as fs

from .events import Event


@dataclass(frozen=True)
class GroupAnswered:
    """A member answered a call of the group: cyclic ringing starts after them next."""

    domain: str
    group: str  # the group's extension
    member: str


@dataclass(frozen=True)
class GroupLogin:
    domain: str
    group: str  # the group's extension or short number
    member: str
    logged_in: bool


def _valid(domain: str, *numbers: str) -> bool:
    return (
        bool(domain) and not any(c.isspace() for c in domain) and all(n.isdigit() for n in numbers)
    )


def on_group_answer(event: Event, node: str, now: datetime) -> tuple[GroupAnswered, ...]:
    group, _, domain = event.get(fs.VAR_PREFIX + fs.V_GROUP).partition("@")
    member = event.get(fs.VAR_PREFIX + fs.V_GROUP_MEMBER)
    if not _valid(domain, group, member):
        return ()
    return (GroupAnswered(domain.lower(), group, member),)


def on_group_login(event: Event, node: str, now: datetime) -> tuple[GroupLogin, ...]:
    domain = event.get(fs.EV_GROUP_DOMAIN)
    group, member = event.get(fs.EV_GROUP_NUMBER), event.get(fs.EV_GROUP_MEMBER)
    state = event.get(fs.EV_GROUP_LOGGED_IN)
    if not _valid(domain, group, member) or state not in ("true", "false"):
        return ()
    return (GroupLogin(domain.lower(), group, member, state == "true"),)
