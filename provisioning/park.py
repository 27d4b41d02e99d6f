"""Call park: the tenant's parking slots, as the tenant document gives them.

A tenant with a `park:` block has a lot of numbered slots (701–709 unless told
otherwise). A call transferred to a slot number waits there; a colleague who dials the
slot takes it; nobody does within `timeout` seconds, and it rings back the user who
parked it. Off unless the block is there: slot numbers would otherwise take numbers
that existing tenants use for their own lines. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from provisioning import validation as v
from provisioning.errors import said
from provisioning.tenant_routing import RoutingContext

DEFAULT_FIRST_SLOT = "701"
DEFAULT_LAST_SLOT = "709"
DEFAULT_TIMEOUT = 60
MAX_SLOTS = 100


class ParkDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    first_slot: str = Field(default=DEFAULT_FIRST_SLOT, description="First slot number")
    last_slot: str = Field(default=DEFAULT_LAST_SLOT, description="Last slot number")
    timeout: int = Field(
        default=DEFAULT_TIMEOUT,
        ge=5,
        le=3600,
        description="Seconds a call waits parked before it rings back the user who parked it",
    )


def slot_numbers(first: str, last: str) -> tuple[str, ...]:
    """Every slot from `first` to `last`, numbers of the same length."""
    return tuple(str(n).zfill(len(first)) for n in range(int(first), int(last) + 1))


def check_park(park: ParkDoc | None, taken: dict[str, str], ctx: RoutingContext) -> None:
    """Slots are extensions of the same length, in order, at most 100, and none of them
    is a user's extension, a group's or queue's number or a speed dial code."""
    if park is None:
        return
    first = ctx.check("park.first_slot", v.check_extension, park.first_slot, ctx.country)
    last = ctx.check("park.last_slot", v.check_extension, park.last_slot, ctx.country)
    if not (v.EXTENSION.fullmatch(first) and v.EXTENSION.fullmatch(last)):
        return
    if len(first) != len(last):
        ctx.fail(
            "park.last_slot", said("park_slot_length", "must have as many digits as first_slot")
        )
        return
    if int(last) < int(first):
        ctx.fail("park.last_slot", said("park_slot_order", "must not come before first_slot"))
        return
    if int(last) - int(first) + 1 > MAX_SLOTS:
        ctx.fail("park.last_slot", said("park_slot_count", "at most %(max)d slots", max=MAX_SLOTS))
        return
    for slot in slot_numbers(first, last):
        if slot in taken:
            ctx.fail(
                "park",
                said(
                    "park_slot_taken",
                    "slot %(slot)s (slots %(first)s–%(last)s) is already used by %(owner)s",
                    slot=slot,
                    first=first,
                    last=last,
                    owner=taken[slot],
                ),
            )
        else:
            try:
                v.check_extension(slot, ctx.country)
            except v.InvalidValue as exc:
                ctx.fail(
                    "park",
                    said(
                        "park_slot_refused",
                        "slot %(slot)s: %(problem)s",
                        slot=slot,
                        problem=str(exc),
                    ),
                )


def dumped(park: ParkDoc | None) -> dict[str, Any] | None:
    """As stored and exported: the block with what differs from the defaults (an empty
    block still turns parking on)."""
    return None if park is None else park.model_dump(exclude_defaults=True)
