"""Where a call can be sent: each kind of destination specified once.

A destination — a number's route in force, a group's or a queue's overflow, and a
user's forward target — is one `Destination`. Each kind has one `Kind` here: how a
form names it, how it is checked against the tenant, how it reads in words. How it
is compiled into FreeSWITCH's actions is `xmlcurl.destinations.DESTINATIONS`, keyed by
the same names (a test keeps the two in step). Adding a kind of destination (a
conference room, a park slot) is one entry in each.

Pure: pydantic models and functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from provisioning import validation as v
from provisioning.errors import Message, said
from provisioning.numbering import DEFAULT_ALLOWED, NotANumber, allowed, classify

# What a user's forward names to send calls to their own voicemail box.
VOICEMAIL = "voicemail"


class Destination(BaseModel):
    """Exactly one of: a user's line, a hunt group, a queue, a conference room, a
    user's voicemail box, an announcement (then hang up), an external number, or hang
    up."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    user: str | None = Field(default=None, description="Extension whose line rings")
    group: str | None = Field(default=None, description="Name of a hunt group")
    queue: str | None = Field(default=None, description="Name of a queue")
    conference: str | None = Field(default=None, description="Name of a conference room")
    voicemail: str | None = Field(default=None, description="Extension whose box records")
    announcement: str | None = Field(default=None, description="Announcement played, then hang up")
    number: str | None = Field(default=None, description="External number, national or E.164")
    hangup: bool = Field(default=False, description="End the call")

    @model_validator(mode="after")
    def _exactly_one(self) -> Destination:
        given = [k for k in KINDS if getattr(self, k) not in (None, False)]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(KINDS)}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in KINDS if getattr(self, k) not in (None, False))

    @property
    def target(self) -> str:
        value = getattr(self, self.kind)
        return "" if value is True else str(value)


class Context(Protocol):
    """What a destination is checked against: the tenant around it
    (`tenant_routing.RoutingContext`)."""

    @property
    def country(self) -> str: ...
    @property
    def users(self) -> set[str]: ...
    @property
    def voicemail_users(self) -> set[str]: ...
    @property
    def groups(self) -> Mapping[str, Any]: ...  # case-folded name →
    @property
    def queues(self) -> Mapping[str, Any]: ...
    @property
    def conferences(self) -> Mapping[str, Any]: ...
    @property
    def check(self) -> Callable[..., Any]: ...
    @property
    def fail(self) -> Callable[[str, Message], None]: ...


def _check_user(dest: Destination, path: str, ctx: Context) -> None:
    if dest.user not in ctx.users:
        ctx.fail(f"{path}.user", v.unknown_user(str(dest.user)))


def _check_group(dest: Destination, path: str, ctx: Context) -> None:
    if (dest.group or "").casefold() not in ctx.groups:
        ctx.fail(
            f"{path}.group",
            said("unknown_group", "no group is named %(name)r", name=str(dest.group)),
        )


def _check_queue(dest: Destination, path: str, ctx: Context) -> None:
    if (dest.queue or "").casefold() not in ctx.queues:
        ctx.fail(
            f"{path}.queue",
            said("unknown_queue", "no queue is named %(name)r", name=str(dest.queue)),
        )


def _check_conference(dest: Destination, path: str, ctx: Context) -> None:
    if (dest.conference or "").casefold() not in ctx.conferences:
        ctx.fail(
            f"{path}.conference",
            said(
                "unknown_room_named",
                "no conference room is named %(name)r",
                name=dest.conference or "",
            ),
        )


def _check_voicemail(dest: Destination, path: str, ctx: Context) -> None:
    if dest.voicemail not in ctx.voicemail_users:
        ctx.fail(
            f"{path}.voicemail",
            said(
                "unknown_voicemail",
                "no user with voicemail has extension %(extension)s",
                extension=str(dest.voicemail),
            ),
        )


def _check_announcement(dest: Destination, path: str, ctx: Context) -> None:
    dest.announcement = ctx.check(f"{path}.announcement", v.check_media_name, dest.announcement)


def _check_number(dest: Destination, path: str, ctx: Context) -> None:
    dest.number = ctx.check(f"{path}.number", v.check_public_number, dest.number, ctx.country)
    try:
        category = classify(str(dest.number), ctx.country).category
    except NotANumber:
        return
    # A tenant-wide destination calls national numbers only: no toll fraud.
    if not allowed(category, DEFAULT_ALLOWED):
        ctx.fail(
            f"{path}.number",
            said(
                "destination_barred",
                "%(category)s numbers cannot be a destination",
                category=category.value,
            ),
        )


def _nothing_to_check(_dest: Destination, _path: str, _ctx: Context) -> None:
    return


def _name_of(target: str, names: Mapping[str, str]) -> str:
    return names.get(target, "?")


@dataclass(frozen=True)
class Kind:
    name: str
    # How a form names it.
    label: str
    check: Callable[[Destination, str, Context], None]
    # The destination in words, from its target; `names` gives users' names.
    describe: Callable[[str, Mapping[str, str]], str]


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("user", "A user's line", _check_user, lambda t, n: f"line {t} ({_name_of(t, n)})"),
        Kind("group", "A hunt group", _check_group, lambda t, _n: f"group {t}"),
        Kind("queue", "A queue", _check_queue, lambda t, _n: f"queue {t}"),
        Kind(
            "conference",
            "A conference room",
            _check_conference,
            lambda t, _n: f"conference room {t}",
        ),
        Kind(
            "voicemail",
            "A voicemail box",
            _check_voicemail,
            lambda t, n: f"voicemail of {t} ({_name_of(t, n)})",
        ),
        Kind(
            "announcement",
            "An announcement, then hang up",
            _check_announcement,
            lambda t, _n: f"announcement {t}, then hang up",
        ),
        Kind("number", "An outside number", _check_number, lambda t, _n: f"number {t}"),
        Kind("hangup", "Hang up", _nothing_to_check, lambda _t, _n: "hang up"),
    )
}


def check_destination(dest: Destination, path: str, ctx: Context) -> None:
    KINDS[dest.kind].check(dest, path, ctx)


def describe(dest: Destination | None, names: Mapping[str, str]) -> str:
    """A destination in words; `names` gives users' names by extension."""
    if dest is None:
        return "nowhere (the call is rejected)"
    return KINDS[dest.kind].describe(dest.target, names)


def forward_destination(to: str, owner: str) -> Destination:
    """A user's forward target as the document keeps it (`voicemail`, a company
    extension, or an E.164 number, as `call_handling` normalised it) → the destination
    it stands for: the owner's own box, that line, or the outside number."""
    if to == VOICEMAIL:
        return Destination(voicemail=owner)
    if to.isdigit():
        return Destination(user=to)
    return Destination(number=to)
