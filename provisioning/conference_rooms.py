"""Use cases of a tenant's conference rooms, one room at a time (REST API, panel).

Each change goes the way `centrex apply` goes: the tenant's document with the room
added, replaced or removed is validated whole (a room's number against every other
number, a room still named by a number's route…) before anything is written. Rooms
are found by name, whatever its case.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from provisioning import service
from provisioning.conferences import ConferenceDoc
from provisioning.lookup import NotFound


def list_rooms(session: Session, domain: str) -> list[ConferenceDoc]:
    return service.export_document(session, domain).conferences


def _index(rooms: list[dict[str, Any]], name: str) -> int | None:
    wanted = name.strip().casefold()
    return next(
        (i for i, room in enumerate(rooms) if str(room.get("name", "")).casefold() == wanted),
        None,
    )


def find_room(session: Session, domain: str, name: str) -> ConferenceDoc:
    for room in list_rooms(session, domain):
        if room.name.casefold() == name.strip().casefold():
            return room
    raise NotFound(f"no conference room {name}")


def put_room(session: Session, domain: str, name: str, raw: Any) -> service.ApplyReport:
    """Create the room `name`, or replace it (`raw`: the room as the document writes it;
    its name may change). `DocumentInvalid` with the problems, nothing written."""
    data = service.export_data(session, domain)
    rooms = data.setdefault("conferences", [])
    at = _index(rooms, name)
    if at is None:
        rooms.append(raw)
    else:
        rooms[at] = raw
    return service.apply_data(session, data)


def delete_room(session: Session, domain: str, name: str) -> service.ApplyReport:
    data = service.export_data(session, domain)
    rooms = data.get("conferences", [])
    at = _index(rooms, name)
    if at is None:
        raise NotFound(f"no conference room {name}")
    del rooms[at]
    return service.apply_data(session, data)
