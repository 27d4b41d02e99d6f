"""The ringing page's rows ↔ a user's simultaneous ring, sequential ring and
do-not-disturb's priority callers, as the tenant document has them.

`rows_of` gives what the page shows for a stored call handling (the form's data);
`requested` gives the call handling the submitted rows ask for, and where each part of
it came from on the page, so that a refusal of the document's checks lands beside the
row that was typed. A ring switched off keeps its numbers (`enabled: false`), to be
switched on again without typing them again. Blank rows are left out; nothing is
checked here: the document's rules (`provisioning.line_settings`) check and normalise
every number. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from provisioning.call_handling import Callers, CallHandling

# Where a part of the call handling was typed: a path through the form (field names,
# list row indexes), e.g. ("sequential_steps", 1, "number").
Place = tuple[str | int, ...]

CALLER_LISTS = ("numbers", "extensions")
DEFAULT_RINGS = 3
_PATH = "call_handling"
# The last part of a path: `.name` or a list index.
_LAST_PART = re.compile(r"(?:\.[^.\[]+|\[\d+\])$")


def _callers_rows(callers: Callers | None, show: Callable[[str], str]) -> dict[str, Any]:
    given = callers or Callers()
    return {
        "numbers": [show(n) for n in given.numbers],
        "extensions": list(given.extensions),
        "contacts": list(given.contacts),
        "anonymous": given.anonymous,
    }


def rows_of(call_handling: Mapping[str, Any], show: Callable[[str], str]) -> dict[str, Any]:
    """The page's rows for a stored call handling (numbers as `show` writes them)."""
    handling = CallHandling.model_validate(call_handling)
    sim, seq, dnd = handling.simultaneous_ring, handling.sequential_ring, handling.do_not_disturb
    return {
        "simultaneous": sim is not None and sim.enabled,
        "simultaneous_numbers": [show(n) for n in sim.numbers] if sim else [],
        "simultaneous_skip_when_on_call": bool(sim and sim.skip_when_on_call),
        "simultaneous_confirm": bool(sim and sim.confirm),
        "simultaneous_schedule": (sim.schedule if sim else None) or "",
        "simultaneous_callers": _callers_rows(sim.callers if sim else None, show),
        "sequential": seq is not None and seq.enabled,
        "sequential_own_rings": seq.own_rings if seq else DEFAULT_RINGS,
        "sequential_steps": [
            {"number": show(step.number), "rings": step.rings} for step in seq.steps
        ]
        if seq
        else [],
        "sequential_confirm": bool(seq and seq.confirm),
        "sequential_schedule": (seq.schedule if seq else None) or "",
        "sequential_callers": _callers_rows(seq.callers if seq else None, show),
        "priority_callers": _callers_rows(dnd.priority_callers if dnd else None, show),
    }


@dataclass
class _Request:
    """The call handling asked for, and where each of its parts was typed."""

    places: dict[str, Place]

    def typed(self, rows: list[Any], path: str, place: Place) -> list[str]:
        """The non-blank rows of a list, each remembered at its row."""
        kept: list[str] = []
        for row, value in enumerate(rows):
            text = (value or "").strip()
            if text:
                self.places[f"{path}[{len(kept)}]"] = (*place, row)
                kept.append(text)
        return kept

    def callers(self, rows: Mapping[str, Any], path: str, name: str) -> dict[str, Any]:
        """A caller list as the document writes it; `{}` when it names nobody."""
        found: dict[str, Any] = {}
        for key in CALLER_LISTS:
            values = self.typed(rows.get(key) or [], f"{path}.{key}", (name, key))
            if values:
                found[key] = values
        contacts = [c for c in rows.get("contacts") or [] if c]
        for i in range(len(contacts)):
            self.places[f"{path}.contacts[{i}]"] = (name, "contacts")
        if contacts:
            found["contacts"] = contacts
        if rows.get("anonymous"):
            found["anonymous"] = True
        self.places[path] = (name, "numbers", 0)
        return found

    def criteria(self, rows: Mapping[str, Any], prefix: str, path: str) -> dict[str, Any]:
        """When and for whom a ring applies (none given: always, every caller)."""
        found: dict[str, Any] = {}
        self.places[f"{path}.schedule"] = (f"{prefix}_schedule",)
        if rows.get(f"{prefix}_schedule"):
            found["schedule"] = rows[f"{prefix}_schedule"]
        callers = self.callers(rows[f"{prefix}_callers"], f"{path}.callers", f"{prefix}_callers")
        if callers:
            found["callers"] = callers
        if rows.get(f"{prefix}_confirm"):
            found["confirm"] = True
        return found


def _off(rows: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """`enabled: false` for a ring whose box is not ticked; nothing (its default, on)
    for one that is."""
    return {} if rows.get(prefix) else {"enabled": False}


def requested(
    stored: Mapping[str, Any], rows: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Place]]:
    """`stored` with the page's rows applied (a ring turned off keeps its numbers, and
    is removed when it has none), and the place on the page of each part it names
    (paths of the document, as the checks say them:
    `call_handling.sequential_ring.steps[0].number`)."""
    ask = _Request({})
    changed = dict(stored)

    path = f"{_PATH}.simultaneous_ring"
    numbers = ask.typed(rows["simultaneous_numbers"], f"{path}.numbers", ("simultaneous_numbers",))
    ask.places[f"{path}.numbers"] = ("simultaneous_numbers", 0)
    if rows.get("simultaneous") or numbers:
        simultaneous = {**_off(rows, "simultaneous"), "numbers": numbers}
        simultaneous.update(ask.criteria(rows, "simultaneous", path))
        if rows.get("simultaneous_skip_when_on_call"):
            simultaneous["skip_when_on_call"] = True
        changed["simultaneous_ring"] = simultaneous
    else:
        changed.pop("simultaneous_ring", None)

    path = f"{_PATH}.sequential_ring"
    steps: list[dict[str, Any]] = []
    for row, step in enumerate(rows["sequential_steps"]):
        number = (step.get("number") or "").strip()
        if number:
            at = f"{path}.steps[{len(steps)}]"
            ask.places[f"{at}.number"] = ("sequential_steps", row, "number")
            ask.places[f"{at}.rings"] = ("sequential_steps", row, "rings")
            steps.append({"number": number, "rings": step.get("rings")})
    ask.places[f"{path}.steps"] = ("sequential_steps", 0, "number")
    ask.places[f"{path}.own_rings"] = ("sequential_own_rings",)
    if rows.get("sequential") or steps:
        changed["sequential_ring"] = {
            **_off(rows, "sequential"),
            "own_rings": rows.get("sequential_own_rings"),
            "steps": steps,
            **ask.criteria(rows, "sequential", path),
        }
    else:
        changed.pop("sequential_ring", None)

    path = f"{_PATH}.do_not_disturb.priority_callers"
    priority = ask.callers(rows["priority_callers"], path, "priority_callers")
    dnd = stored.get("do_not_disturb")
    if priority:
        # Off unless it was on: priority callers alone do not turn do-not-disturb on.
        changed["do_not_disturb"] = {
            **(dnd if isinstance(dnd, dict) else {"enabled": False}),
            "priority_callers": priority,
        }
    elif isinstance(dnd, dict):
        changed["do_not_disturb"] = {k: v for k, v in dnd.items() if k != "priority_callers"}
    return changed, ask.places


def place_of(path: str, places: Mapping[str, Place]) -> Place | None:
    """Where on the page a problem of the document at `path` belongs: the part typed
    there, or the nearest part holding it; None if the page has none."""
    while path:
        if path in places:
            return places[path]
        shorter = _LAST_PART.sub("", path)
        path = "" if shorter == path else shorter
    return None
