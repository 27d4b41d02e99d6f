"""Tenant-level routing in the tenant document: where calls to the tenant's numbers go
by schedule, hunt groups, queues, and the destinations they hand calls to.

Pure: pydantic models and the checks `parse_document` runs on them (values in
canonical form, every problem with its path). Media are named, not embedded: they are
uploaded on their own, and a name with no media plays the stock sound instead.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from provisioning import validation as v
from provisioning.destinations import Destination, check_destination
from provisioning.errors import Message, said

# One ring is five seconds, as users count them.
RING_SECONDS = 5
GROUP_SHORT_NUMBERS = range(200, 1000)
DEFAULT_MAX_MEMBERS = 10


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


class NumberRoute(_Model):
    schedule: str = Field(description="While this schedule is in force")
    to: Destination


class Distribution(enum.StrEnum):
    CYCLIC = "cyclic"  # each member in turn, starting after the last one who answered
    HIERARCHICAL = "hierarchical"  # first available member in list order
    SIMULTANEOUS = "simultaneous"  # all members at once
    LEAST_ACTIVE = "least_active"  # the member idle for longest first
    RANDOM = "random"


class GroupDoc(_Model):
    name: str
    extension: str = Field(description="The group's number inside the tenant (digits)")
    short_number: str | None = Field(default=None, description="200–999, dialled inside")
    members: list[str] = Field(default_factory=list, description="Extensions, in order")
    max_members: int = Field(default=DEFAULT_MAX_MEMBERS, ge=1, le=100)
    distribution: Distribution = Distribution.HIERARCHICAL
    rings: int = Field(default=4, ge=1, le=20, description="Rings per member (1 ring = 5 s)")
    cycles: int = Field(default=1, ge=1, le=10, description="Times round the members")
    overflow: Destination = Field(
        default_factory=lambda: Destination(hangup=True), description="When nobody answers"
    )
    members_call_handling: bool = Field(
        default=False, description="Members' own forwards and do-not-disturb apply to its calls"
    )
    ringback: str | None = Field(default=None, description="Ringback tone (media name)")
    music_on_hold: str | None = Field(default=None, description="Hold music (media name)")


class QueueStrategy(enum.StrEnum):
    LONGEST_IDLE = "longest_idle"
    SIMULTANEOUS = "simultaneous"
    CYCLIC = "cyclic"
    HIERARCHICAL = "hierarchical"
    FEWEST_CALLS = "fewest_calls"
    LEAST_TALK_TIME = "least_talk_time"
    RANDOM = "random"


class QueueDoc(_Model):
    name: str
    extension: str
    short_number: str | None = None
    agents: list[str] = Field(default_factory=list, description="Extensions, in order")
    strategy: QueueStrategy = QueueStrategy.LONGEST_IDLE
    max_wait: int = Field(default=300, ge=0, le=3600, description="Seconds; 0 = no limit")
    overflow: Destination = Field(default_factory=lambda: Destination(hangup=True))
    wrap_up: int = Field(default=10, ge=0, le=600, description="Seconds between an agent's calls")
    music_on_hold: str | None = None
    agent_rings: int = Field(default=4, ge=1, le=20, description="Rings per offer to an agent")


class SpeedDialDoc(_Model):
    code: str = Field(description="What users dial, e.g. 550")
    number: str = Field(description="The external number it calls")
    name: str = ""


class DirectoryEntryDoc(_Model):
    """An external contact of the company directory, dialled as `##<code>`."""

    name: str
    number: str
    code: str | None = Field(default=None, description="Short code, dialled as ##code")


Fail = Callable[[str, Message], None]
Check = Callable[..., Any]


@dataclass
class RoutingContext:
    """What the tenant-level routing is checked against."""

    country: str
    users: set[str]
    voicemail_users: set[str]
    schedules: set[str]  # case-folded names
    check: Check
    fail: Fail
    groups: dict[str, GroupDoc] = field(default_factory=dict)  # case-folded name →
    queues: dict[str, QueueDoc] = field(default_factory=dict)
    conferences: dict[str, Any] = field(default_factory=dict)  # case-folded name → room


def check_routing(
    groups: list[GroupDoc],
    queues: list[QueueDoc],
    taken: dict[str, str],
    ctx: RoutingContext,
) -> None:
    """Groups and queues: names, numbers (unique among `taken`: extension → path of its
    owner), members, overflow; overflow loops between groups are refused."""

    def number(path: str, value: str, short: bool = False) -> str:
        value = ctx.check(path, v.check_extension, value, ctx.country)
        if short and v.whole_number(value, -1) not in GROUP_SHORT_NUMBERS:
            ctx.fail(path, said("short_number", "a short number is between 200 and 999"))
        if value in taken:
            ctx.fail(path, v.extension_taken(value, taken[value]))
        taken.setdefault(value, path)
        return value

    def common(path: str, item: GroupDoc | QueueDoc, people: list[str], field_name: str) -> None:
        item.name = ctx.check(f"{path}.name", v.check_text, item.name)
        key = item.name.casefold()
        if key in ctx.groups or key in ctx.queues:
            ctx.fail(
                f"{path}.name",
                said(
                    "group_name_taken",
                    "%(name)r is already the name of a group or queue",
                    name=item.name,
                ),
            )
        item.extension = number(f"{path}.extension", item.extension)
        if item.short_number is not None:
            item.short_number = number(f"{path}.short_number", item.short_number, short=True)
        seen: set[str] = set()
        for k, ext in enumerate(people):
            if ext not in ctx.users:
                ctx.fail(f"{path}.{field_name}[{k}]", v.unknown_user(ext))
            elif ext in seen:
                ctx.fail(
                    f"{path}.{field_name}[{k}]",
                    said("member_listed_twice", "%(extension)s is listed twice", extension=ext),
                )
            seen.add(ext)
        if item.music_on_hold is not None:
            item.music_on_hold = ctx.check(
                f"{path}.music_on_hold", v.check_media_name, item.music_on_hold
            )

    for i, group in enumerate(groups):
        path = f"groups[{i}]"
        common(path, group, group.members, "members")
        ctx.groups.setdefault(group.name.casefold(), group)
        if len(group.members) > group.max_members:
            ctx.fail(
                f"{path}.members",
                said("too_many_members", "at most %(max)d members", max=group.max_members),
            )
        if group.ringback is not None:
            group.ringback = ctx.check(f"{path}.ringback", v.check_media_name, group.ringback)
    for i, queue in enumerate(queues):
        common(f"queues[{i}]", queue, queue.agents, "agents")
        ctx.queues.setdefault(queue.name.casefold(), queue)
    for i, group in enumerate(groups):
        check_destination(group.overflow, f"groups[{i}].overflow", ctx)
    for i, queue in enumerate(queues):
        check_destination(queue.overflow, f"queues[{i}].overflow", ctx)
    _check_overflow_loops(groups, ctx)


def _check_overflow_loops(groups: list[GroupDoc], ctx: RoutingContext) -> None:
    """Group A overflowing to B overflowing to A would ring forever: refused."""
    for i, group in enumerate(groups):
        seen = [group.name.casefold()]
        current = group
        while current.overflow.kind == "group":
            following = ctx.groups.get((current.overflow.group or "").casefold())
            if following is None:
                break
            if following.name.casefold() in seen:
                chain = " → ".join([*(g for g in seen), following.name.casefold()])
                ctx.fail(
                    f"groups[{i}].overflow",
                    said("overflow_loop", "overflow loop: %(chain)s", chain=chain),
                )
                break
            seen.append(following.name.casefold())
            current = following


def check_number_routes(
    routes: list[NumberRoute], otherwise: Destination | None, path: str, ctx: RoutingContext
) -> None:
    for k, route in enumerate(routes):
        if route.schedule.casefold() not in ctx.schedules:
            ctx.fail(
                f"{path}.routes[{k}].schedule",
                said(
                    "unknown_route_schedule", "no schedule is named %(name)r", name=route.schedule
                ),
            )
        check_destination(route.to, f"{path}.routes[{k}].to", ctx)
    if otherwise is not None:
        check_destination(otherwise, f"{path}.otherwise", ctx)


def check_speed_dials(
    speed_dials: list[SpeedDialDoc],
    directory: list[DirectoryEntryDoc],
    taken: dict[str, str],
    ctx: RoutingContext,
) -> None:
    for i, dial in enumerate(speed_dials):
        path = f"speed_dials[{i}]"
        dial.code = ctx.check(f"{path}.code", v.check_extension, dial.code, ctx.country)
        if dial.code in taken:
            ctx.fail(f"{path}.code", v.extension_taken(dial.code, taken[dial.code]))
        taken.setdefault(dial.code, path)
        dial.number = ctx.check(f"{path}.number", v.check_public_number, dial.number, ctx.country)
        dial.name = ctx.check(f"{path}.name", v.check_text, dial.name, required=False)
    codes: dict[str, int] = {}
    for i, entry in enumerate(directory):
        path = f"directory[{i}]"
        entry.name = ctx.check(f"{path}.name", v.check_text, entry.name)
        entry.number = ctx.check(f"{path}.number", v.check_public_number, entry.number, ctx.country)
        if entry.code is not None:
            entry.code = ctx.check(f"{path}.code", v.check_extension, entry.code, ctx.country)
            if entry.code in codes:
                ctx.fail(
                    f"{path}.code",
                    said(
                        "directory_code_taken",
                        "##%(code)s is already %(other)s",
                        code=entry.code,
                        other=f"directory[{codes[entry.code]}]",
                    ),
                )
            codes.setdefault(entry.code, i)
