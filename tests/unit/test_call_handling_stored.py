"""A user's call handling is stored as the model dumped without its defaults;
`stored_form` gives exactly that, whatever the settings."""

import pytest

from provisioning.call_handling import CallHandling, stored_form

CALLERS = {"numbers": ["+33612345678"], "extensions": ["1001"], "contacts": ["Home"]}
RULE_LIST = {"name": "Day", "rules": [{"callers": CALLERS, "action": "reject"}]}
RULE_LIST["default"] = {"action": "ring_all", "numbers": ["1001", "+33612345678"]}


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"forward_busy": {"to": "1001"}},
        {"forward_no_answer": {"to": "voicemail", "after": 15}},
        {"forward_no_answer": {"to": "+33612345678", "rings": 4}},
        {"forward_always": {"to": "voicemail", "schedule": "Weekends", "confirm": True}},
        {"do_not_disturb": {"enabled": False, "priority_callers": {"contacts": ["Home"]}}},
        {"do_not_disturb": {}},
        # Given, but equal to the defaults: left out as pydantic leaves them out.
        {"selective": {}, "planner": {}, "caller_id": {}, "rule_lists": []},
        {"selective": {"reject_anonymous": False, "forward": []}},
        {"selective": {"reject_anonymous": True}},
        {"selective": {"forward": [{"callers": CALLERS, "to": "1001"}]}},
        {"selective": {"reject": {}, "screening": {"anonymous": True}}},
        {"selective": {"distinctive_ring": [{"callers": CALLERS, "ring": "Bellcore-dr2"}]}},
        {"caller_id": {"withhold": True}},
        {"caller_id": {"outgoing_number": "+33189000000", "hide_incoming": False}},
        {"rule_lists": [RULE_LIST], "planner": {"periods": [{"name": "P", "rule_list": "Day"}]}},
        {"planner": {"special_days": {"rule_list": "Day", "dates": ["2026-12-25"]}}},
        {"simultaneous_ring": {"numbers": ["+33612345678"], "callers": {}}},
        {"sequential_ring": {"steps": [{"number": "1001", "rings": 2}], "own_rings": 3}},
    ],
)
def test_stored_form_when_any_settings_then_the_model_dumped_without_defaults(settings):
    handling = CallHandling.model_validate(settings)
    assert stored_form(handling) == handling.model_dump(mode="json", exclude_defaults=True)


def test_stored_form_when_parts_changed_after_reading_then_they_are_kept():
    handling = CallHandling()
    assert stored_form(handling) == {}
    handling.selective.reject_anonymous = True
    handling.caller_id.withhold = True
    handling.rule_lists.append(
        CallHandling.model_validate({"rule_lists": [RULE_LIST]}).rule_lists[0]
    )
    expected = handling.model_dump(mode="json", exclude_defaults=True)
    assert {"selective", "caller_id", "rule_lists"} <= expected.keys()
    assert stored_form(handling) == expected
    assert stored_form(CallHandling()) == {}  # the defaults compared with stay defaults
