"""Explain a call (provisioning.explain): the real loader and compiler, with a trace,
followed fetch by fetch, on a stored tenant with every kind of routing. Every row of
the precedence table, every group distribution, holidays, the hour the clocks skip and
the one they repeat, overflow chains, and what is refused."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from provisioning import explain as ex
from provisioning.lookup import NotFound
from provisioning.models import LineState, User
from tests.conftest import apply_raw
from tests.unit.routing_tenant import RAW
from xmlcurl import fsnames as fs

DOMAIN = "acme.example"
# A Wednesday, 10:30 in Paris: office hours.
OFFICE = "2026-12-02 10:30"
NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
OUTSIDE = "+33612345678"


def tenant(carol: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    """The routing tenant, with Bob (1002, no voicemail) and Carol (1003, whose call
    handling a test sets, with the public number +33184800102)."""
    raw = copy.deepcopy(RAW)
    raw["numbers"][2] = {"number": "+33184800102", "user": "1003"}
    raw["users"] += [
        {
            "extension": "1002",
            "name": "Bob",
            "sip_password": "Bob-Demo-Pass-2026",
            "voicemail": {"enabled": False},
        },
        {
            "extension": "1003",
            "name": "Carol",
            "sip_password": "Carol-Demo-Pass-2026",
            "public_number": "+33184800102",
            "voicemail": {"pin": "270594"},
            "call_handling": carol or {},
        },
    ]
    raw.update(changes)
    return raw


def explained(
    engine: Engine, caller: str, dialled: str, at: str | None = OFFICE, assume: str = ""
) -> ex.Explanation:
    with engine.connect() as conn:
        found, _zone = ex.explain_call(
            conn, DOMAIN, caller, dialled, at=at, assume=assume, default_country="FR", now=NOW
        )
        return found


def rows(found: ex.Explanation, fetch: int = 0) -> dict[str, tuple[bool, str]]:
    return {
        s.rule: (s.applied, s.why) for s in found.fetches[fetch].steps if s.stage == "precedence"
    }


def decided_row(found: ex.Explanation, fetch: int = 0) -> str:
    """The row that decided: the last row noted, and the only one applied."""
    applied = [rule for rule, (yes, _why) in rows(found, fetch).items() if yes]
    assert len(applied) == 1, rows(found, fetch)
    return applied[0]


def steps(found: ex.Explanation, stage: str, fetch: int = 0) -> list[tuple[str, bool, str]]:
    return [(s.rule, s.applied, s.why) for s in found.fetches[fetch].steps if s.stage == stage]


def carol(engine: Engine, handling: dict[str, Any], **changes: Any) -> None:
    apply_raw(engine, tenant(handling, **changes))


# --- the precedence table, row by row ----------------------------------------------------
def test_row_1_selective_reject(engine):
    carol(engine, {"selective": {"reject": {"extensions": ["1000"]}}})
    found = explained(engine, "1000", "1003")
    assert decided_row(found) == "1 selective reject"
    assert (found.outcome, found.cause) == ("rejected", fs.CALL_REJECTED)
    assert len(found.fetches) == 1


def test_row_2_anonymous_rejection_from_outside(engine):
    carol(engine, {"selective": {"reject_anonymous": True}})
    found = explained(engine, "anonymous", "0184800102")
    assert rows(found)["1 selective reject"] == (False, "no reject list")
    assert decided_row(found) == "2 anonymous rejection"
    assert found.outcome == "rejected"
    # The same caller showing their number is not rejected.
    shown = explained(engine, OUTSIDE, "0184800102")
    assert rows(shown)["2 anonymous rejection"] == (False, "the caller shows their number")


def test_row_3_forward_always_followed_to_the_colleague_who_answers(engine):
    carol(engine, {"forward_always": {"to": "1002"}})
    found = explained(engine, "1000", "1003", assume="1002=answers")
    assert decided_row(found) == "3 forward always"
    assert [(f.destination, f.at_seconds) for f in found.fetches] == [("1003", 0), ("1002", 0)]
    assert decided_row(found, 1) == "9 ring"
    assert (found.outcome, found.answered_by) == ("answered", "1002")


def test_row_3_forward_always_outside_its_schedule_is_passed_over(engine):
    carol(engine, {"forward_always": {"to": "1002", "schedule": "Late"}})
    found = explained(engine, "1000", "1003", assume="1003=answers")
    assert ("Late", False, "wed 2026-12-02 10:30 Europe/Paris") in steps(found, "schedule")
    assert rows(found)["3 forward always"][0] is False
    assert (found.outcome, found.answered_by) == ("answered", "1003")
    late = explained(engine, "1000", "1003", at="2026-12-01 23:00", assume="1002=answers")
    assert decided_row(late) == "3 forward always"
    assert late.answered_by == "1002"


def test_row_4_do_not_disturb_and_a_priority_caller(engine):
    dnd = {"do_not_disturb": {"priority_callers": {"extensions": ["1002"]}}}
    carol(engine, dnd)
    found = explained(engine, "1000", "1003")
    assert decided_row(found) == "4 do not disturb"
    assert found.outcome == "voicemail"
    priority = explained(engine, "1002", "1003", assume="1003=answers")
    assert rows(priority)["4 do not disturb"] == (False, "the caller is a priority caller")
    assert priority.answered_by == "1003"


def test_row_5_selective_forward(engine):
    listed = {"callers": {"numbers": [OUTSIDE]}, "to": "1002"}
    carol(engine, {"selective": {"forward": [listed]}})
    found = explained(engine, OUTSIDE, "0184800102", assume="1002=answers")
    assert decided_row(found) == "5 selective forward"
    assert found.answered_by == "1002"
    other = explained(engine, "+33698765432", "0184800102", assume="1003=answers")
    assert rows(other)["5 selective forward"] == (False, "the caller is in no list")


def test_row_6_planner_period_and_special_day(engine):
    handling = {
        "rule_lists": [
            {"name": "Lunch", "default": {"action": "voicemail"}},
            {"name": "Closed", "default": {"action": "reject"}},
        ],
        "planner": {
            "periods": [{"name": "Lunch", "rule_list": "Lunch", "wed": ["12:00-14:00"]}],
            "special_days": {"rule_list": "Closed"},
        },
    }
    carol(engine, handling)
    lunch = explained(engine, "1000", "1003", at="2026-12-02 12:45")
    assert decided_row(lunch) == "6 planner"
    assert ("period 12:00-14:00", True, "rule list Lunch") in steps(lunch, "planner")
    assert lunch.outcome == "voicemail"
    # Christmas Eve: in the tenant's "Winter closing" holidays, a special day.
    eve = explained(engine, "1000", "1003", at="2026-12-24 12:45")
    assert decided_row(eve) == "6 planner"
    assert steps(eve, "planner")[0][:2] == ("special day", True)
    assert "holiday Winter closing" in steps(eve, "planner")[0][2]
    assert eve.outcome == "rejected"
    morning = explained(engine, "1000", "1003", at="2026-12-02 09:00", assume="1003=answers")
    assert rows(morning)["6 planner"] == (False, "no planner period or special day in force")


def test_row_7_busy_then_busy_forward(engine):
    carol(engine, {"forward_busy": {"to": "1002"}})
    found = explained(engine, "1000", "1003", assume="1003=busy,1002=answers")
    assert decided_row(found) == "7 busy now"
    assert ("busy forward", True, "to 1002") in steps(found, "handling")
    assert found.answered_by == "1002"


def test_an_unregistered_line_is_rung_and_its_failure_takes_the_unreachable_handling(engine):
    carol(engine, {})
    found = explained(engine, "1000", "1003", assume="1003=unregistered")
    assert decided_row(found) == "9 ring"
    assert steps(found, "failover", 1) == [("after ring", True, fs.USER_NOT_REGISTERED)]
    assert ("unreachable forward", False, "not set") in steps(found, "handling", 1)
    assert (found.outcome, found.summary) == ("voicemail", "voicemail of 1003")
    assert found.seconds == 0


def test_row_8_no_answer_to_voicemail_at_once(engine):
    carol(engine, {"forward_no_answer": {"to": "voicemail", "after": 0}})
    found = explained(engine, "1000", "1003", assume="1003=answers")
    assert decided_row(found) == "8 no-answer to voicemail"
    assert found.outcome == "voicemail"
    # A line known unregistered is not rung to ask: the unreachable handling at once.
    gone = explained(engine, "1000", "1003", assume="1003=unregistered")
    assert rows(gone)["8 no-answer to voicemail"] == (
        True,
        "to voicemail after 0 s, and no phone registered",
    )
    assert len(gone.fetches) == 1


def test_row_9_ring_then_no_answer_forward_to_a_colleague_then_voicemail(engine):
    carol(engine, {"forward_no_answer": {"to": "1002", "after": 15}})
    found = explained(engine, "1000", "1003", assume="1003=free,1002=free")
    assert decided_row(found) == "9 ring"
    assert ("ring", True, "1003 together, 15 s before no answer") in steps(found, "timing")
    # 1003 rings 15 s, then its no-answer forward to 1002 (which has no voicemail) rings
    # 20 s, then 1002's own no-answer handling: no voicemail, the unavailable tone.
    assert [(f.destination, f.at_seconds) for f in found.fetches] == [
        ("1003", 0),
        ("1003", 15),
        ("1002", 15),
        ("1002", 35),
    ]
    assert steps(found, "failover", 1) == [("after ring", True, fs.NO_ANSWER)]
    assert (found.outcome, found.cause) == ("rejected", fs.NO_ANSWER)
    assert found.seconds == 35


def test_a_forward_loop_is_not_followed(engine):
    apply_raw(
        engine,
        tenant(
            {"forward_always": {"to": "1002", "schedule": "Late"}},
        ),
    )
    found = explained(engine, "1000", "1003", at="2026-12-01 23:00", assume="1002=busy")
    assert decided_row(found) == "3 forward always"
    assert found.fetches[1].destination == "1002"
    assert decided_row(found, 1) == "7 busy now"


# --- public numbers, schedules, holidays ----------------------------------------------------
def test_main_number_by_schedule_and_holiday(engine):
    apply_raw(engine, tenant())
    office = explained(engine, OUTSIDE, "0184800100", assume="1000=answers")
    assert steps(office, "number")[0][:2] == ("while office hours", True)
    assert office.fetches[1].destination == "2000"
    # Christmas Eve at 12:45 falls in the "Winter closing" holidays: no schedule is in
    # force (the tenant's holidays close them all), so "otherwise": a mobile number.
    eve = explained(engine, OUTSIDE, "0184800100", at="2026-12-24 12:45")
    weighed = steps(eve, "number")
    assert [rule for rule, _applied, _why in weighed] == [
        "while office hours",
        "while Late",
        "while Early",
        "otherwise",
    ]
    assert weighed[0][2] == "thu 2026-12-24 12:45 Europe/Paris, holiday Winter closing"
    assert eve.fetches[0].route.endswith("otherwise: to number +33612345678")
    assert "ring +33612345678" in eve.fetches[0].does[-2]


# --- groups -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("distribution", "order"),
    [
        ("hierarchical", ["1000", "1001", "1002"]),
        ("cyclic", ["1000", "1001", "1002"]),
        ("least_active", ["1000", "1001", "1002"]),
        ("simultaneous", ["1000", "1001", "1002"]),
    ],
)
def test_group_distributions_ring_members_in_order_and_skip_the_unavailable(
    engine, distribution, order
):
    raw = tenant()
    raw["groups"][0].update(
        members=["1000", "1001", "1002"], distribution=distribution, rings=2, cycles=2
    )
    apply_raw(engine, raw)
    found = explained(engine, "1003", "2000", assume="1001=busy")
    members = steps(found, "member")
    assert [m[0] for m in members] == order
    assert ("1001", False, "busy (5 call(s) in progress)") in members
    timing = steps(found, "timing")[0]
    assert timing[0] == f"{distribution} ring"
    assert "2 rings (10 s) × 2 cycle(s)" in timing[2]
    # Nobody answers: 1000 and 1002 ring (two cycles in turn, or together 20 s), then
    # the overflow to the queue Support.
    assert found.fetches[1].destination == "2000"
    assert found.fetches[1].at_seconds == (20 if distribution == "simultaneous" else 40)
    assert found.fetches[2].destination == "3000"


def test_random_group_order_is_the_one_of_the_call(engine):
    raw = tenant()
    raw["groups"][0].update(members=["1000", "1001", "1002"], distribution="random")
    apply_raw(engine, raw)
    found = explained(engine, "1003", "2000", assume="1002=answers")
    assert sorted(m[0] for m in steps(found, "member")) == ["1000", "1001", "1002"]
    assert found.answered_by == "1002"


def test_group_with_nobody_available_overflows_at_once_into_the_queue(engine):
    apply_raw(engine, tenant())
    found = explained(engine, "1003", "2000", assume="1000=busy,1001=busy")
    assert steps(found, "group") == [("Sales", False, "no member available: overflow")]
    assert [(f.destination, f.at_seconds) for f in found.fetches] == [("2000", 0), ("3000", 0)]
    assert found.fetches[1].route.startswith("queue Support")


def test_overflow_chain_back_into_a_unit_stops(engine):
    raw = tenant()
    raw["queues"][0]["overflow"] = {"group": "Sales"}
    apply_raw(engine, raw)
    found = explained(engine, "1003", "2000", assume="1000=busy,1001=busy")
    # Sales → Support (nobody logged in: the caller leaves the queue) → Sales again: stop.
    assert [f.destination for f in found.fetches] == ["2000", "3000"]
    assert "already tried: overflow loop stopped" in found.summary


def test_group_handing_members_their_own_call_handling_explains_each_leg(engine):
    raw = tenant({"forward_always": {"to": "1002"}})
    raw["groups"][0].update(members=["1003", "1001"], members_call_handling=True)
    apply_raw(engine, raw)
    found = explained(engine, "1000", "2000", assume="1002=answers,1001=free")
    legs = found.fetches[0].legs
    assert [leg.fetches[0].destination for leg in legs] == ["1003"]
    assert decided_row(legs[0]) == "3 forward always"
    assert legs[0].answered_by == "1002"
    assert found.outcome == "answered"


# --- times ----------------------------------------------------------------------------------
def test_a_time_the_clocks_skip_is_refused():
    with pytest.raises(ex.ExplainRefused) as refused:
        ex.parse_local_time("2026-03-29 02:30", "Europe/Paris")
    assert refused.value.code == "explain_time_skipped"
    assert refused.value.path == "at"


def test_a_time_that_comes_twice_asks_for_its_offset():
    with pytest.raises(ex.ExplainRefused) as refused:
        ex.parse_local_time("2026-10-25 02:30", "Europe/Paris")
    assert str(refused.value) == (
        "2026-10-25 02:30 comes twice in Europe/Paris (clocks go back): add +02:00 or +01:00"
    )
    summer = ex.parse_local_time("2026-10-25 02:30+02:00", "Europe/Paris")
    winter = ex.parse_local_time("2026-10-25 02:30 +01:00", "Europe/Paris")
    assert (winter - summer).total_seconds() == 3600
    assert summer == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    with pytest.raises(ex.ExplainRefused, match="is not at \\+05:00"):
        ex.parse_local_time("2026-10-25 02:30+05:00", "Europe/Paris")


@pytest.mark.parametrize("text", ["tomorrow", "2026-02-30 10:00", "2026-12-24 25:00", ""])
def test_a_time_that_is_no_time_is_refused(text):
    with pytest.raises(ex.ExplainRefused) as refused:
        ex.parse_local_time(text, "Europe/Paris")
    assert refused.value.code == "explain_time"


def test_the_hour_after_the_spring_gap_is_explained_in_summer_time(engine):
    carol(engine, {"forward_always": {"to": "1002", "schedule": "Early"}})
    # Sunday 29 March 2026: 02:00 becomes 03:00 in Paris; "Early" is 00:00-06:00 on Sundays.
    found = explained(engine, "1000", "1003", at="2026-03-29 03:30", assume="1002=answers")
    assert ("Early", True, "sun 2026-03-29 03:30 Europe/Paris") in steps(found, "schedule")
    assert found.at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


# --- what is refused ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("assume", "part"),
    [("1001", "1001"), ("1001=asleep", "1001=asleep"), ("10a1=busy", "10a1=busy")],
)
def test_a_malformed_assumption_is_refused(engine, assume, part):
    apply_raw(engine, tenant())
    with pytest.raises(ex.ExplainRefused) as refused:
        explained(engine, "1000", "1003", assume=assume)
    assert refused.value.path == "assume"
    assert str(refused.value).startswith(f"{part}: an assumption is EXTENSION=STATE")


def test_an_unknown_caller_is_refused(engine):
    apply_raw(engine, tenant())
    with pytest.raises(ex.ExplainRefused) as refused:
        explained(engine, "1999", "1003")
    assert str(refused.value) == "1999 is neither a line of acme.example nor a phone number"


def test_another_tenant_s_number_is_refused_without_naming_it(engine):
    apply_raw(engine, tenant())
    other = tenant(domain="other.example", name="Other", main_number="+33184800200")
    other["numbers"] = [{"number": "+33184800200", "user": "1000"}]
    other["users"] = other["users"][:1]
    other["users"][0]["public_number"] = "+33184800200"
    other["groups"], other["queues"] = [], []
    apply_raw(engine, other)
    with pytest.raises(ex.ExplainRefused) as refused:
        explained(engine, OUTSIDE, "+33184800200")
    assert refused.value.code == "explain_not_our_number"
    assert "other.example" not in str(refused.value)
    # From outside, an extension is not a number anyone can dial.
    with pytest.raises(ex.ExplainRefused, match=r"is not one of acme\.example's numbers"):
        explained(engine, OUTSIDE, "1003")


def test_an_unknown_tenant_and_junk_dialled(engine):
    apply_raw(engine, tenant())
    with engine.connect() as conn, pytest.raises(NotFound):
        ex.explain_call(conn, "nowhere.example", "1000", "1003", now=NOW)
    with pytest.raises(ex.ExplainRefused, match="cannot be dialled"):
        explained(engine, "1000", "1002,user/x")


def test_an_unknown_extension_dialled_from_a_line_is_explained_as_the_switch_would(engine):
    apply_raw(engine, tenant())
    found = explained(engine, "1000", "1999")
    # Not a line: a number to call out, which is no phone number.
    assert steps(found, "call")[0] == ("ToOutside", True, "out to 1999")
    assert found.fetches[0].route == "reject: not a valid phone number"
    assert (found.outcome, found.cause) == ("rejected", fs.UNALLOCATED_NUMBER)


def test_live_state_is_the_database_s_unless_assumed(engine):
    carol(engine, {})
    with Session(engine) as session, session.begin():
        user = session.scalars(select(User).where(User.extension == "1003")).one()
        session.add(LineState(user_id=user.id, active_calls=0, registered=False, updated_at=NOW))
    found = explained(engine, "1000", "1003")
    # Rung all the same (the switch says whether a phone is there), failing at once.
    assert decided_row(found) == "9 ring"
    assert found.fetches[1].steps[1].why == fs.USER_NOT_REGISTERED
    assumed = explained(engine, "1000", "1003", assume="1003=answers")
    assert assumed.answered_by == "1003"


def test_text_names_each_fetch_rule_and_the_outcome(engine):
    carol(engine, {"forward_always": {"to": "1002"}})
    found = explained(engine, "1000", "1003", assume="1002=answers")
    text = ex.as_text(found, "Europe/Paris")
    assert "Call from 1000 to 1003, Wed 2026-12-02 10:30 (Europe/Paris, +01:00)" in text
    assert "✔ [precedence] 3 forward always — to 1002" in text
    assert text.endswith("Outcome: answered by 1002 after 0 s of ringing")


def test_a_phone_that_declines_rings_then_takes_the_busy_handling(engine):
    carol(engine, {"forward_busy": {"to": "1002"}})
    found = explained(engine, "1000", "1003", assume="1003=declines,1002=answers")
    assert decided_row(found) == "9 ring"
    assert steps(found, "failover", 1) == [("after ring", True, fs.USER_BUSY)]
    assert ("busy forward", True, "to 1002") in steps(found, "handling", 1)
    assert [(f.destination, f.at_seconds) for f in found.fetches] == [
        ("1003", 0),
        ("1003", 0),
        ("1002", 0),
    ]
    assert found.answered_by == "1002"
