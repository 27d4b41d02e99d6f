"""Conference rooms of the tenant document (meet-me rooms) and the ad-hoc conference.

Pure: the pydantic model of a room and the checks `parse_document` runs on it (every
problem with its path). A room is dialled at its extension inside the tenant, or
reached from a public number routed to it (`Destination(conference=<name>)`); callers
give its PIN, if it has one, to mod_conference. How a room becomes FreeSWITCH's
`conference` application is `xmlcurl.conference`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from provisioning import validation as v
from provisioning.errors import Message, said

# A room holds this many callers unless it says otherwise.
DEFAULT_MAX_MEMBERS = 10
# mod_conference takes any limit but 1 (conference_max_members); more than 100 people
# on one node's mixer is not a Centrex room.
MIN_MEMBERS, MAX_MEMBERS = 2, 100
# The ad-hoc conference a user starts from a call: 3 to 6 participants, the initiator
# included (seed 002 §2).
ADHOC_MAX_MEMBERS = 6
PIN = re.compile(r"[0-9]{4,8}")


class ConferenceDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    name: str = Field(description="Unique among the tenant's conference rooms (any case)")
    extension: str = Field(description="The room's number inside the tenant (digits)")
    pin: str | None = Field(default=None, description="4–8 digits asked of every caller")
    moderator_pin: str | None = Field(
        default=None, description="4–8 digits: who gives it joins as moderator (needs pin)"
    )
    max_members: int = Field(
        default=DEFAULT_MAX_MEMBERS,
        ge=MIN_MEMBERS,
        le=MAX_MEMBERS,
        description="Callers the room holds at once; the next one is refused",
    )
    wait_for_moderator: bool = Field(
        default=False,
        description="Callers wait with music until a moderator joins (needs moderator_pin)",
    )


def check_pin(value: str) -> str:
    value = value.strip()
    if not PIN.fullmatch(value):
        raise v.InvalidValue(said("room_pin_digits", "must be 4 to 8 digits"))
    return value


Check = Callable[..., Any]
Fail = Callable[[str, Message], None]


def check_conferences(
    conferences: list[ConferenceDoc],
    taken: dict[str, str],
    country: str,
    check: Check,
    fail: Fail,
) -> dict[str, ConferenceDoc]:
    """Names unique, extensions unique among `taken` (extension → path of its owner,
    filled here), PINs well formed; returns the rooms by case-folded name."""
    rooms: dict[str, ConferenceDoc] = {}
    for i, room in enumerate(conferences):
        path = f"conferences[{i}]"
        room.name = check(f"{path}.name", v.check_text, room.name)
        key = room.name.casefold()
        if key in rooms:
            fail(
                f"{path}.name",
                said(
                    "room_name_taken",
                    "%(name)r is already the name of a conference room",
                    name=room.name,
                ),
            )
        rooms.setdefault(key, room)
        room.extension = check(f"{path}.extension", v.check_extension, room.extension, country)
        if room.extension in taken:
            fail(f"{path}.extension", v.extension_taken(room.extension, taken[room.extension]))
        taken.setdefault(room.extension, path)
        if room.pin is not None:
            room.pin = check(f"{path}.pin", check_pin, room.pin)
        if room.moderator_pin is not None:
            room.moderator_pin = check(f"{path}.moderator_pin", check_pin, room.moderator_pin)
            if room.pin is None:
                # mod_conference would then let in only those who know the moderator PIN.
                fail(
                    f"{path}.moderator_pin",
                    said("moderator_pin_alone", "a moderator PIN needs a PIN for the others"),
                )
            elif room.moderator_pin == room.pin:
                fail(
                    f"{path}.moderator_pin", said("moderator_pin_same", "must differ from the PIN")
                )
        if room.wait_for_moderator and room.moderator_pin is None:
            fail(
                f"{path}.wait_for_moderator",
                said("wait_without_moderator", "needs a moderator PIN (who else would start it?)"),
            )
    return rooms
