"""The line page's fields ↔ a user's call handling, as the tenant document has it.

What the form shows for a stored call handling, and the call handling a submitted form
asks for. What the line's other pages set (ringing, selective handling, rule lists,
the planner: `admin.lines.ringing`, `.selective`, `.rules`, `.planner`) is kept as it
is by a save, and summed up read-only (`kept_elsewhere`, in the user's language).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from provisioning.call_handling import CallHandling, stored_dnd_on

# The forwards the page edits, in the order it shows them.
FORWARDS = ("forward_always", "forward_no_answer", "forward_busy", "forward_unreachable")
DEFAULT_NO_ANSWER_SECONDS = 20


@dataclass(frozen=True)
class ForwardFields:
    enabled: bool = False
    to: str = ""
    # Only while this schedule of the tenant's is in force ("": at all times).
    schedule: str = ""
    # Not for calls that reached the line through a group.
    direct_only: bool = False
    # The forwarded party presses 1 to take the call.
    confirm: bool = False


@dataclass(frozen=True)
class ForwardingFields:
    forwards: dict[str, ForwardFields]
    no_answer_after: int = DEFAULT_NO_ANSWER_SECONDS
    do_not_disturb: bool = False
    # Caller ID: present no number on my calls; do not show me who calls.
    withhold: bool = False
    hide_incoming: bool = False
    # One of the tenant's numbers presented instead of the line's own ("": the line's).
    outgoing_number: str = ""


def fields_of(call_handling: dict[str, Any]) -> ForwardingFields:
    forwards = {}
    for key in FORWARDS:
        forward = call_handling.get(key)
        given = forward or {}
        forwards[key] = ForwardFields(
            forward is not None,
            given.get("to", ""),
            given.get("schedule") or "",
            bool(given.get("direct_only")),
            bool(given.get("confirm")),
        )
    no_answer = call_handling.get("forward_no_answer") or {}
    after = no_answer.get("after")
    if after is None and no_answer.get("rings") is not None:
        after = no_answer["rings"] * 5
    caller_id = call_handling.get("caller_id") or {}
    return ForwardingFields(
        forwards,
        DEFAULT_NO_ANSWER_SECONDS if after is None else after,
        stored_dnd_on(call_handling),
        bool(caller_id.get("withhold")),
        bool(caller_id.get("hide_incoming")),
        caller_id.get("outgoing_number") or "",
    )


def call_handling_for(stored: dict[str, Any], fields: ForwardingFields) -> dict[str, Any]:
    """`stored` with the page's fields applied: a forward turned off is removed, one
    turned on keeps what the page does not show."""
    changed = dict(stored)
    for key in FORWARDS:
        wanted = fields.forwards[key]
        if not wanted.enabled:
            changed.pop(key, None)
            continue
        forward = {**(stored.get(key) or {}), "to": wanted.to.strip()}
        options = {
            "schedule": wanted.schedule or None,
            "direct_only": wanted.direct_only or None,
            "confirm": wanted.confirm or None,
        }
        for option, value in options.items():
            if value is None:
                forward.pop(option, None)
            else:
                forward[option] = value
        if key == "forward_no_answer":
            forward.pop("rings", None)
            forward["after"] = fields.no_answer_after
        changed[key] = forward
    if fields.do_not_disturb:
        changed["do_not_disturb"] = {**(stored.get("do_not_disturb") or {}), "enabled": True}
    elif isinstance(stored.get("do_not_disturb"), dict):
        # Kept as set (its priority callers), turned off. `{}` is on: enabled is its default.
        changed["do_not_disturb"] = {**stored["do_not_disturb"], "enabled": False}
    caller_id = {
        **(stored.get("caller_id") or {}),
        "withhold": fields.withhold,
        "hide_incoming": fields.hide_incoming,
        "outgoing_number": fields.outgoing_number.strip() or None,
    }
    changed["caller_id"] = {k: v for k, v in caller_id.items() if v is not None}
    return changed


def kept_elsewhere(call_handling: dict[str, Any]) -> list[str]:
    """What else is in force on the line, set on its other pages, said plainly (in the
    user's language): so that the forwarding page never hides what a call will do."""
    handling = CallHandling.model_validate(call_handling)
    said: list[str] = []
    dnd = handling.do_not_disturb
    priority = dnd.priority_callers if dnd is not None and dnd.enabled else None
    if priority is not None and priority != type(priority)() and priority.enabled:
        said.append(_("Do not disturb lets priority callers through."))
    simultaneous = handling.simultaneous_ring
    if simultaneous is not None and simultaneous.enabled:
        numbers = ", ".join(simultaneous.numbers)
        said.append(_("Simultaneous ring: %(numbers)s ring with my phones.", numbers=numbers))
    sequential = handling.sequential_ring
    if sequential is not None and sequential.enabled:
        steps = ", ".join(step.number for step in sequential.steps)
        said.append(_("Sequential ring: my phones first, then %(numbers)s.", numbers=steps))
    selective = handling.selective
    if (selective.reject is not None and selective.reject.enabled) or selective.reject_anonymous:
        said.append(_("Some callers are rejected (selective rejection)."))
    if any(entry.callers.enabled for entry in selective.forward):
        said.append(_("Some callers are forwarded (selective forwarding)."))
    if any(entry.callers.enabled for entry in selective.distinctive_ring):
        said.append(_("Some callers ring differently (distinctive ring)."))
    if selective.screening is not None and selective.screening.enabled:
        said.append(_("Some callers are screened: they say their name first."))
    if handling.rule_lists:
        names = ", ".join(rule_list.name for rule_list in handling.rule_lists)
        said.append(_("Rule lists: %(names)s.", names=names))
    planner = handling.planner
    if planner.periods or planner.special_days is not None:
        periods = ", ".join(period.name for period in planner.periods)
        said.append(_("Weekly planner: %(periods)s.", periods=periods or "—"))
    return said
