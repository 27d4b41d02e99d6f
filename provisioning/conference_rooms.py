"""Use cases of a tenant's conference rooms, one room at a time (REST API, panel).

A change reads and writes the tenant's rooms alone (a few hundred at most, kept with
the tenant), checked with the tenant document's rules and messages: the rooms' numbers
against the tenant's extensions, group and queue numbers, speed dials and park slots,
found by indexed queries for those numbers only (never the whole tenant, which may hold
100,000 users); a room renamed or removed while a number or an overflow still sends
calls to it is refused, as the document refuses a route to a room that does not exist.
Rooms are found by name, whatever its case. Problems carry the document's paths
(`conferences[1].pin`).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioning import validation as v
from provisioning.conferences import ConferenceDoc, check_conferences
from provisioning.document import Checker
from provisioning.errors import DocumentInvalid, Message, Problem, said, structure_problem
from provisioning.lookup import NotFound
from provisioning.models import HuntGroup, PublicNumber, Queue, Tenant
from provisioning.service import ApplyReport
from provisioning.tenant_settings import numbers_taken, tenant_of


def list_rooms(session: Session, domain: str) -> list[ConferenceDoc]:
    return [ConferenceDoc.model_validate(room) for room in tenant_of(session, domain).conferences]


def _index(rooms: list[dict[str, Any]], name: str) -> int | None:
    wanted = name.strip().casefold()
    return next(
        (i for i, room in enumerate(rooms) if str(room.get("name", "")).casefold() == wanted),
        None,
    )


def _no_room(name: str) -> NotFound:
    return NotFound(said("unknown_room", "no conference room %(name)s", name=name))


def find_room(session: Session, domain: str, name: str) -> ConferenceDoc:
    rooms = tenant_of(session, domain).conferences
    at = _index(rooms, name)
    if at is None:
        raise _no_room(name)
    return ConferenceDoc.model_validate(rooms[at])


def _routes_to(session: Session, tenant: Tenant, name: str) -> list[str]:
    """The paths of what sends calls to the room `name`: numbers' routes and groups' and
    queues' overflows (read for a rename or removal only)."""
    wanted = name.casefold()

    def to_room(destination: Any) -> bool:
        return isinstance(destination, dict) and (
            str(destination.get("conference") or "").casefold() == wanted
        )

    found = []
    numbers = session.execute(
        select(PublicNumber.position, PublicNumber.routing).where(
            PublicNumber.tenant_id == tenant.id
        )
    )
    for row in numbers:
        routing = row.routing or {}
        for j, route in enumerate(routing.get("routes", [])):
            if to_room(route.get("to") if isinstance(route, dict) else None):
                found.append(f"numbers[{row.position}].routes[{j}].to")
        if to_room(routing.get("otherwise")):
            found.append(f"numbers[{row.position}].otherwise")
    for model, kind in ((HuntGroup, "groups"), (Queue, "queues")):
        units = session.execute(
            select(model.position, model.settings).where(model.tenant_id == tenant.id)
        )
        for row in units:
            if to_room((row.settings or {}).get("overflow")):
                found.append(f"{kind}[{row.position}].overflow")
    return found


def _checked(session: Session, tenant: Tenant, rooms: list[dict[str, Any]]) -> list[ConferenceDoc]:
    """The rooms as the document checks them; DocumentInvalid with every problem."""
    parsed, problems = [], []
    for i, raw in enumerate(rooms):
        try:
            parsed.append(ConferenceDoc.model_validate(raw))
        except PydanticValidationError as exc:
            for e in exc.errors(include_url=False):
                path = "".join(
                    f"[{p}]" if isinstance(p, int) else f".{p}"
                    for p in ("conferences", i, *e["loc"])
                ).lstrip(".")
                problems.append(structure_problem(path, e))
    if problems:
        raise DocumentInvalid(problems)

    check = Checker()
    numbers = {room.extension for room in parsed if v.EXTENSION.fullmatch(room.extension)}
    check_conferences(
        parsed, numbers_taken(session, tenant, numbers), tenant.country, check, check.fail
    )
    if check.problems:
        raise DocumentInvalid(check.problems)
    return parsed


def _write(tenant: Tenant, rooms: list[ConferenceDoc]) -> None:
    tenant.conferences = [room.model_dump(mode="json", exclude_defaults=True) for room in rooms]


def put_room(session: Session, domain: str, name: str, raw: Any) -> ApplyReport:
    """Create the room `name`, or replace it (`raw`: the room as the document writes it;
    its name may change). `DocumentInvalid` with the problems, nothing written."""
    tenant = tenant_of(session, domain)
    rooms = list(tenant.conferences)
    at = _index(rooms, name)
    if at is None:
        rooms.append(raw)
    else:
        rooms[at] = raw
    checked = _checked(session, tenant, rooms)
    room = checked[len(rooms) - 1 if at is None else at]
    if at is not None and room.name.casefold() != name.strip().casefold():
        still = _routes_to(session, tenant, name)
        if still:
            raise DocumentInvalid([Problem(path, _unknown_room(name)) for path in still])
    before = [ConferenceDoc.model_validate(r) for r in tenant.conferences]
    if checked == before:
        return ApplyReport()
    _write(tenant, checked)
    what = f"conference {room.name}"
    return ApplyReport(created=[what]) if at is None else ApplyReport(updated=[what])


def _unknown_room(name: str) -> Message:
    # The document's own message for a route to a room that does not exist.
    return said("unknown_room_named", "no conference room is named %(name)r", name=name)


def delete_room(session: Session, domain: str, name: str) -> ApplyReport:
    tenant = tenant_of(session, domain)
    rooms = list(tenant.conferences)
    at = _index(rooms, name)
    if at is None:
        raise _no_room(name)
    gone = str(rooms[at]["name"])
    still = _routes_to(session, tenant, gone)
    if still:
        raise DocumentInvalid([Problem(path, _unknown_room(gone)) for path in still])
    del rooms[at]
    _write(tenant, [ConferenceDoc.model_validate(r) for r in rooms])
    return ApplyReport(deleted=[f"conference {gone}"])
