"""A caller list switched off (`enabled: false`): kept as it is, it matches no caller,
wherever it is used (selective lists, rules, priority callers); switched on again it
matches as before."""

import pytest

from tests.unit.test_line_compile import (
    MOBILE,
    REJECTED,
    call,
    forwards_to,
    goes_to_voicemail,
    ring_of,
    rings_own_line,
)
from xmlcurl.decisions import ExportVariable, LegOptions

LISTED = "0611111111"


def listed(enabled: bool, **more) -> dict:
    return {"numbers": [LISTED], **({} if enabled else {"enabled": False}), **more}


@pytest.mark.parametrize("enabled", [True, False])
def test_selective_rejection(enabled):
    route = call({"selective": {"reject": listed(enabled)}}, caller=LISTED)
    assert (route.actions == REJECTED) is enabled
    assert rings_own_line(route) is not enabled


@pytest.mark.parametrize("enabled", [True, False])
def test_selective_forward_and_distinctive_ring(enabled):
    settings = {
        "selective": {
            "forward": [{"callers": listed(enabled), "to": MOBILE}],
            "distinctive_ring": [{"callers": listed(enabled), "ring": "Bellcore-dr3"}],
        }
    }
    route = call(settings, caller=LISTED)
    assert forwards_to(route, MOBILE) is enabled
    assert any(isinstance(a, ExportVariable) for a in route.actions) is enabled


@pytest.mark.parametrize("enabled", [True, False])
def test_screening(enabled):
    route = call({"selective": {"screening": listed(enabled)}}, caller=LISTED)
    assert (ring_of(route).endpoints[0].options == LegOptions(screening=True)) is enabled


@pytest.mark.parametrize("enabled", [True, False])
def test_a_rule_switched_off_lets_the_next_rule_or_the_default_decide(enabled):
    week = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    settings = {
        "rule_lists": [
            {
                "name": "Work",
                "rules": [{"callers": listed(enabled), "action": "reject"}],
                "default": {"action": "voicemail"},
            }
        ],
        "planner": {"periods": [{"name": "Always", "rule_list": "Work", **week}]},
    }
    route = call(settings, caller=LISTED)
    assert (route.actions == REJECTED) is enabled
    assert goes_to_voicemail(route) is not enabled


def test_priority_callers_switched_off_are_not_let_through():
    settings = {"do_not_disturb": {"priority_callers": listed(False)}}
    assert goes_to_voicemail(call(settings, caller=LISTED))
    settings = {"do_not_disturb": {"priority_callers": listed(True)}}
    assert rings_own_line(call(settings, caller=LISTED))
