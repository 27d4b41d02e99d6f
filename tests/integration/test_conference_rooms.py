"""Conference rooms changed one at a time: the tenant document's rules and messages,
the rooms alone read and written (never the tenant's users), a room still routed to
kept."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from centrex.db import make_session_factory
from provisioning import conference_rooms
from provisioning.errors import DocumentInvalid
from provisioning.lookup import NotFound
from tests.conftest import apply_raw, demo_document

DOMAIN = "127.0.0.1"


@pytest.fixture
def rooms(engine):
    raw = demo_document()
    raw["conferences"] = [{"name": "Weekly", "extension": "800", "pin": "4321"}]
    raw["numbers"].append({"number": "+33184800199", "otherwise": {"conference": "Weekly"}})
    apply_raw(engine, raw)
    return make_session_factory(engine)


def _problems(sessions, change) -> list[str]:
    with pytest.raises(DocumentInvalid) as refused, sessions.begin() as db:
        change(db)
    return [str(p) for p in refused.value.problems]


def test_a_room_is_added_replaced_and_listed_alone(rooms, engine):
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with rooms.begin() as db:
        report = conference_rooms.put_room(
            db, DOMAIN, "Board", {"name": "Board", "extension": "801", "max_members": 6}
        )
    assert report.created == ["conference Board"]
    assert not any("FROM users" in s and "extension IN" not in s for s in statements)
    with rooms.begin() as db:
        again = conference_rooms.put_room(
            db, DOMAIN, "board", {"name": "Board", "extension": "801", "max_members": 6}
        )
        assert not again.changed
        listed = [(r.name, r.extension) for r in conference_rooms.list_rooms(db, DOMAIN)]
    assert listed == [("Weekly", "800"), ("Board", "801")]


def test_a_room_is_checked_as_the_document_checks_it(rooms):
    clash = _problems(
        rooms,
        lambda db: conference_rooms.put_room(db, DOMAIN, "X", {"name": "X", "extension": "1001"}),
    )
    assert clash == ["conferences[1].extension: 1001 is already used by users[1]"]
    pins = _problems(
        rooms,
        lambda db: conference_rooms.put_room(
            db, DOMAIN, "Y", {"name": "Y", "extension": "802", "pin": "12", "moderator_pin": "12"}
        ),
    )
    assert "conferences[1].pin: must be 4 to 8 digits" in pins
    named = _problems(
        rooms,
        lambda db: conference_rooms.put_room(
            db, DOMAIN, "Z", {"name": "weekly", "extension": "803"}
        ),
    )
    assert named == ["conferences[1].name: 'weekly' is already the name of a conference room"]


def test_a_room_still_routed_to_is_neither_renamed_nor_removed(rooms):
    refused = _problems(rooms, lambda db: conference_rooms.delete_room(db, DOMAIN, "weekly"))
    assert refused == ["numbers[2].otherwise: no conference room is named 'Weekly'"]
    renamed = _problems(
        rooms,
        lambda db: conference_rooms.put_room(
            db, DOMAIN, "Weekly", {"name": "Monthly", "extension": "800"}
        ),
    )
    assert renamed == refused
    with pytest.raises(NotFound), rooms.begin() as db:
        conference_rooms.delete_room(db, DOMAIN, "Nowhere")
