"""Which route of a public number takes a call, at the edges of time: midnight, the DST
change days in Europe/Paris, a closure across the year end, opposite schedules."""

from datetime import UTC, date, datetime, time

import pytest

from provisioning.calendar import at
from provisioning.number_routing import NumberRouting, calendar_of, route_in_force
from provisioning.tenant_routing import Destination, NumberRoute
from tests.unit.routing_tenant import tenant_doc

PARIS = "Europe/Paris"
DOC = tenant_doc()
CALENDAR = calendar_of(DOC)
MAIN = DOC.numbers[0]


def paris(day: str, clock: str) -> datetime:
    return at(date.fromisoformat(day), time.fromisoformat(clock), PARIS)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Routes of the main number: 0 office hours → group, 1 Late → user, 2 Early → voicemail.
@pytest.mark.parametrize(
    ("when", "expected"),
    [
        # An ordinary Monday (2026-11-23) around the office hours' edges.
        (paris("2026-11-23", "07:59:59"), None),
        (paris("2026-11-23", "08:00"), 0),
        (paris("2026-11-23", "11:59:59"), 0),
        (paris("2026-11-23", "12:00"), None),
        (paris("2026-11-23", "17:59"), 0),
        # Midnight: Late ends at 24:00, Early (Sunday, Monday) starts at 00:00.
        (paris("2026-11-22", "23:59:59"), 1),
        (paris("2026-11-23", "00:00"), 2),
        (paris("2026-11-23", "05:59:59"), 2),
        (paris("2026-11-23", "06:00"), None),
        # Spring forward, Sunday 2026-03-29: 02:00 CET becomes 03:00 CEST.
        (utc("2026-03-29T00:59:59"), 2),  # 01:59:59 CET
        (utc("2026-03-29T01:00:00"), 2),  # 03:00 CEST
        (utc("2026-03-29T03:59:59"), 2),  # 05:59:59 CEST
        (utc("2026-03-29T04:00:00"), None),  # 06:00 CEST (05:00 were it still CET)
        (utc("2026-03-29T20:00:00"), 1),  # 22:00 CEST
        # Fall back, Sunday 2026-10-25: 03:00 CEST becomes 02:00 CET, 02:30 twice.
        (utc("2026-10-25T00:30:00"), 2),  # 02:30 CEST
        (utc("2026-10-25T01:30:00"), 2),  # 02:30 CET
        (utc("2026-10-25T04:59:59"), 2),  # 05:59:59 CET
        (utc("2026-10-25T05:00:00"), None),  # 06:00 CET (07:00 were it still CEST)
        (utc("2026-10-25T20:59:59"), None),  # 21:59:59 CET
        (utc("2026-10-25T21:00:00"), 1),  # 22:00 CET
        # The winter closing, 2026-12-24 to 2027-01-03: every schedule is closed.
        (paris("2026-12-23", "23:59"), None),  # a Wednesday: no Late
        (paris("2026-12-22", "23:59"), 1),  # a Tuesday before the closing
        (paris("2026-12-24", "10:00"), None),
        (paris("2026-12-28", "23:00"), None),  # a Monday, Late would be in force
        (paris("2026-12-31", "23:59:59"), None),
        (paris("2027-01-01", "00:00"), None),
        (paris("2027-01-03", "23:59:59"), None),  # a Sunday, last day of the closing
        (paris("2027-01-04", "00:00"), 2),  # Monday: open again
        (paris("2027-01-04", "08:00"), 0),
        # A single holiday on a Friday.
        (paris("2026-05-01", "10:00"), None),
        (paris("2026-05-04", "10:00"), 0),
    ],
)
def test_first_route_in_force_takes_the_call_else_otherwise(when, expected):
    chosen = route_in_force(MAIN.routes, MAIN.otherwise, CALENDAR, when)
    assert chosen.index == expected
    wanted = MAIN.otherwise if expected is None else MAIN.routes[expected].to
    assert chosen.destination == wanted


@pytest.mark.parametrize(
    ("when", "in_force"),
    [
        (paris("2026-11-23", "10:00"), False),  # office open
        (paris("2026-11-23", "12:30"), True),  # lunch break
        (paris("2026-11-28", "10:00"), True),  # Saturday
        (paris("2026-12-28", "10:00"), True),  # a Monday in the closing: holidays count
        (paris("2026-05-01", "10:00"), True),
    ],
)
def test_opposite_schedule_is_in_force_exactly_when_its_schedule_is_not(when, in_force):
    assert CALENDAR.in_force("closed", when) is in_force
    assert CALENDAR.in_force("office hours", when) is not in_force


def test_earlier_route_wins_when_several_schedules_are_in_force():
    routes = [
        NumberRoute(schedule="Early", to=Destination(user="1000")),
        NumberRoute(schedule="closed", to=Destination(hangup=True)),
    ]
    chosen = route_in_force(routes, None, CALENDAR, paris("2026-11-23", "01:00"))
    assert (chosen.index, chosen.destination) == (0, routes[0].to)
    chosen = route_in_force(routes, None, CALENDAR, paris("2026-11-23", "07:00"))
    assert chosen.index == 1


def test_no_route_in_force_and_no_otherwise_routes_nowhere():
    routes = [NumberRoute(schedule="office hours", to=Destination(user="1000"))]
    chosen = route_in_force(routes, None, CALENDAR, paris("2026-11-28", "10:00"))
    assert (chosen.index, chosen.destination) == (None, None)


def test_a_schedule_since_removed_is_never_in_force():
    assert not CALENDAR.in_force("gone", paris("2026-11-23", "10:00"))


def test_stored_routing_reads_back_as_written():
    stored = {
        "routes": [{"schedule": "Late", "to": {"user": "1000"}}],
        "otherwise": {"voicemail": "1000"},
    }
    routing = NumberRouting.from_stored(stored)
    assert routing.configured
    assert routing.routes[0].to == Destination(user="1000")
    assert routing.otherwise == Destination(voicemail="1000")
    assert not NumberRouting.from_stored({}).configured


def test_every_destination_kind_is_checked_described_and_compiled():
    """One spec per kind in provisioning.destinations, and its compiler in
    xmlcurl.destinations: a kind added to one and not the other fails here."""
    from provisioning.destinations import KINDS, Destination
    from xmlcurl.destinations import DESTINATIONS

    assert set(DESTINATIONS) == set(KINDS)
    assert set(KINDS) == set(Destination.model_fields)


@pytest.mark.parametrize(
    "to, kind, target",
    [
        ("voicemail", "voicemail", "1001"),
        ("1002", "user", "1002"),
        ("+33612345678", "number", "+33612345678"),
    ],
)
def test_a_forward_target_is_a_destination(to, kind, target):
    from provisioning.destinations import forward_destination

    destination = forward_destination(to, owner="1001")
    assert (destination.kind, destination.target) == (kind, target)
