"""A call to a park slot: parked there, or taken from there (mod_valet_parking).

Pure. A call *transferred* to a slot number (a blind transfer by REFER, or any transfer:
the hunt then carries the number it came from, RDNIS) — or any call from outside that
reaches one — is parked in that slot of the tenant's lot, `park@<domain>`, in silence
(`fsnames.VALET_SILENCE` says why). A colleague who *dials* the slot takes the call
waiting there. The lot's name holds the tenant's domain: one tenant never takes
another's calls, and phones' BLF keys on `park+<slot>@<domain>` light from it
(mod_valet_parking's own presence; the event listener leaves those keys alone).

A parked call nobody takes within the tenant's timeout rings back the user who parked
it — the REFER's Referred-By, else the line the call was last rung to, else the number
it was transferred from, whichever is one of the tenant's lines — as a call to that
line, with its own call handling. So does a call transferred to a slot already taken.
"""

from __future__ import annotations

from xmlcurl import fsnames as fs
from xmlcurl import handover
from xmlcurl.decisions import Action, Answer, Hangup, Park, Prompt, Retrieve, Route, Transfer
from xmlcurl.inputs import CallData, LineData, ParkData
from xmlcurl.request import CallRequest


def lot_name(domain: str) -> str:
    return fs.VALET_LOT_PREFIX + domain


def is_slot(park: ParkData | None, destination: str) -> bool:
    return park is not None and destination in park.slots


def parks(request: CallRequest, caller_line: LineData | None) -> bool:
    """The call is to be parked (transferred here, or from outside), not a colleague
    dialling the slot to take the call waiting there."""
    return caller_line is None or request.transferred_from is not None


def parker(request: CallRequest, data: CallData) -> str | None:
    """The tenant's line the parked call goes back to."""
    return next((ext for ext in request.parker_candidates if ext in data.lines), None)


def route_park(
    request: CallRequest, data: CallData, park: ParkData, caller: LineData | None
) -> Route:
    tenant = data.tenant
    lot, slot = lot_name(tenant.domain), request.destination
    if not parks(request, caller):
        actions: tuple[Action, ...] = (
            Answer(),
            Retrieve(lot, slot),
            # Nobody waits in the slot.
            Prompt(fs.PROMPT_NOTHING_TO_PICK_UP),
            Hangup(fs.NORMAL_CLEARING),
        )
        return Route(request.context, slot, f"take the call parked in {slot}", actions)
    back_to = parker(request, data)
    ring_back: tuple[Action, ...] = (
        (Transfer(back_to, tenant.domain),) if back_to else (Hangup(fs.NORMAL_CLEARING),)
    )
    actions = (
        Answer(),
        # Its next hunt (the ring-back) is a new call, not a failed ring coming back.
        *handover.clear_failover(),
        Park(lot, slot, park.timeout),
        *ring_back,
    )
    name = f"park in {slot}, then back to {back_to or 'nobody: hang up'}"
    return Route(request.context, slot, name, actions)
