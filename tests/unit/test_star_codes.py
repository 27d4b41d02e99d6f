"""Star codes: what each decides (pure), how it is rendered, and a tenant's own codes."""

from dataclasses import replace

import pytest
from lxml import etree

from provisioning.document import DocumentInvalid, parse_document
from provisioning.feature_codes import (
    CODES,
    Dialled,
    Feature,
    check_feature_codes,
    codes_for,
    feature_dialled,
)
from provisioning.numbering import Category
from tests.unit.test_dialplan_compile import DOMAIN, NOW, TENANT, data, line, request
from xmlcurl import fsnames as fs
from xmlcurl import render
from xmlcurl.callcenter import agent_status
from xmlcurl.decisions import (
    Answer,
    CollectDigits,
    DoNotDisturbChange,
    EarlyMedia,
    ForwardChange,
    GatewayEndpoint,
    Hangup,
    Prompt,
    QueueLogInChange,
    QueuePauseChange,
    Ring,
    SetVariable,
    Tone,
)
from xmlcurl.dialplan import compile_call
from xmlcurl.inputs import tenant_from_document
from xmlcurl.line import ANONYMOUS_CALLER
from xmlcurl.star_codes import BREAK_TONES

CONFIRMED_SET = (Answer(), Prompt(fs.PROMPT_FORWARD_SET), Hangup(fs.NORMAL_CLEARING))
REFUSAL = (EarlyMedia(), Tone("%(250,250,425)", 5), Hangup(fs.CALL_REJECTED))


def compiled(dialled: str, tenant=TENANT, caller=None, **variables: str):
    return compile_call(
        request(dialled, **variables), data(caller or line("1001"), tenant=tenant), NOW
    )


# --- the registry ------------------------------------------------------------------
@pytest.mark.parametrize(
    "dialled, found",
    [
        ("*72", Dialled(Feature.FORWARD_ALWAYS_ON, "")),
        ("*720612345678", Dialled(Feature.FORWARD_ALWAYS_ON, "0612345678")),
        ("*721002", Dialled(Feature.FORWARD_ALWAYS_ON, "1002")),
        ("*73", Dialled(Feature.FORWARD_ALWAYS_OFF)),
        ("*90", Dialled(Feature.FORWARD_BUSY_ON, "")),
        ("*91", Dialled(Feature.FORWARD_BUSY_OFF)),
        ("*920033123456789", Dialled(Feature.FORWARD_NO_ANSWER_ON, "0033123456789")),
        ("*93", Dialled(Feature.FORWARD_NO_ANSWER_OFF)),
        ("*78", Dialled(Feature.DND_ON)),
        ("*79", Dialled(Feature.DND_OFF)),
        ("*31#0612345678", Dialled(Feature.SHOW_CALLER_ID, "0612345678")),
        ("#31#0612345678", Dialled(Feature.WITHHOLD_CALLER_ID, "0612345678")),
        ("*57400", Dialled(Feature.QUEUE_LOG_IN, "400")),
        ("*58400", Dialled(Feature.QUEUE_LOG_OUT, "400")),
        ("*318", Dialled(Feature.VOICEMAIL)),
        ("*8", Dialled(Feature.GROUP_PICKUP)),
        ("*59", Dialled(Feature.QUEUE_PAUSE)),
        ("*60", Dialled(Feature.QUEUE_RESUME)),
        ("*81", None),
        # Junk after a code: no feature.
        ("*721", None),
        ("*73*", None),
        ("*735", None),
        ("*72*0612345678", None),
        ("#31#", None),
        ("*31#12*3", None),
    ],
)
def test_each_code_is_a_whole_prefix_and_what_it_takes(dialled, found):
    got = feature_dialled(dialled)
    assert (got and (got.feature, got.argument)) == (found and (found.feature, found.argument))


def test_codes_that_change_settings_are_barred_as_such_and_caller_id_codes_by_the_number():
    assert feature_dialled("*72").category is Category.SETTING_CODES
    assert feature_dialled("*57400").category is Category.SETTING_CODES
    assert feature_dialled("*318").category is Category.ACCESS_CODES
    assert feature_dialled("#31#0612345678").category is None


def test_the_default_codes_never_clash():
    problems = []
    check_feature_codes({}, lambda path, msg: problems.append((path, msg)))
    assert problems == []
    assert len({c.prefix for c in CODES}) == len(CODES)


def test_a_tenants_own_code_replaces_the_default_one():
    codes = codes_for({"dnd_on": "*44", "forward_always_on": "#72"})
    assert feature_dialled("*44", codes) == Dialled(Feature.DND_ON)
    assert feature_dialled("#720612345678", codes) == Dialled(
        Feature.FORWARD_ALWAYS_ON, "0612345678"
    )
    assert feature_dialled("*78", codes) is None
    assert feature_dialled("*79", codes) == Dialled(Feature.DND_OFF)


@pytest.mark.parametrize(
    "overrides, path, message",
    [
        ({"dnd_on": "44"}, "feature_codes.dnd_on", "must be * or #"),
        ({"dnd_on": "*4a"}, "feature_codes.dnd_on", "must be * or #"),
        ({"dnd_on": "*4,5"}, "feature_codes.dnd_on", "must be * or #"),
        ({"dnd_on": "*123456789"}, "feature_codes.dnd_on", "must be * or #"),
        ({"coffee": "*44"}, "feature_codes.coffee", "no feature 'coffee'"),
        # Same code as another feature (a default kept).
        ({"dnd_on": "*73"}, "feature_codes.dnd_on", "*73 clashes with *73 (forward_always_off)"),
        # A code that takes a number, starting another: *7 + 3 would be both.
        ({"pickup": "*7"}, "feature_codes.pickup", "*7 clashes with *72"),
        # Two of the tenant's own.
        (
            {"dnd_on": "*44", "dnd_off": "*44"},
            "feature_codes.dnd_on",
            "*44 clashes with *44 (dnd_off)",
        ),
    ],
)
def test_a_tenants_codes_are_checked(overrides, path, message):
    problems = []
    check_feature_codes(overrides, lambda p, m: problems.append((p, m)))
    assert any(p == path and message in str(m) for p, m in problems), problems


def test_feature_codes_in_the_document_are_checked_and_kept():
    raw = {
        "domain": "acme.example",
        "name": "ACME",
        "timezone": "Europe/Paris",
        "country": "FR",
        "feature_codes": {"dnd_on": "*44", "dnd_off": "*45"},
    }
    doc = parse_document(raw)
    assert doc.feature_codes == {"dnd_on": "*44", "dnd_off": "*45"}
    tenant = tenant_from_document(doc)
    assert feature_dialled("*44", tenant.feature_codes) == Dialled(Feature.DND_ON)
    with pytest.raises(DocumentInvalid) as refused:
        parse_document({**raw, "feature_codes": {"dnd_on": "*318"}})
    assert [p.path for p in refused.value.problems] == ["feature_codes.dnd_on"]


# --- decisions -----------------------------------------------------------------------
def test_forward_code_with_a_number_asks_for_that_change_and_confirms():
    route = compiled("*720612345678")
    assert route.actions == CONFIRMED_SET
    assert route.change is not None
    assert (route.change.domain, route.change.extension) == (DOMAIN, "1001")
    assert route.change.change == ForwardChange("always", True, "0612345678")
    assert route.change.refused == REFUSAL


@pytest.mark.parametrize(
    "dialled, change, prompt",
    [
        ("*73", ForwardChange("always", False), fs.PROMPT_FORWARD_CANCELLED),
        ("*901002", ForwardChange("busy", True, "1002"), fs.PROMPT_FORWARD_SET),
        ("*91", ForwardChange("busy", False), fs.PROMPT_FORWARD_CANCELLED),
        ("*920612345678", ForwardChange("no_answer", True, "0612345678"), fs.PROMPT_FORWARD_SET),
        ("*93", ForwardChange("no_answer", False), fs.PROMPT_FORWARD_CANCELLED),
        ("*78", DoNotDisturbChange(True), fs.PROMPT_DND_ON),
        ("*59", QueuePauseChange(True), None),
        ("*60", QueuePauseChange(False), None),
        ("*79", DoNotDisturbChange(False), fs.PROMPT_DND_OFF),
    ],
)
def test_each_setting_code_names_its_change_and_its_confirmation(dialled, change, prompt):
    route = compiled(dialled)
    assert route.change is not None and route.change.change == change
    # No prompt for a break in FreeSWITCH's sounds: two beeps.
    heard = Prompt(prompt) if prompt else Tone(BREAK_TONES[change.paused], 1)
    assert route.actions == (Answer(), heard, Hangup(fs.NORMAL_CLEARING))


@pytest.mark.parametrize(
    "logged_in, paused, status",
    [(True, False, "Available"), (True, True, "On Break"), (False, True, "Logged Out")],
)
def test_an_agent_on_a_break_is_on_break_in_mod_callcenter(logged_in, paused, status):
    assert agent_status(logged_in, paused) == status


def test_forward_code_alone_asks_for_the_number_and_comes_back_with_it():
    route = compiled("*72")
    assert route.change is None
    assert route.actions == (
        Answer(),
        SetVariable(fs.V_STAR_ASKED, "true"),
        # At most what keeps code and number a dial string Centrex routes.
        CollectDigits(fs.PROMPT_ENTER_NUMBER, "*72", DOMAIN, 17),
    )


def test_forward_code_alone_after_the_question_reuses_the_last_number():
    route = compiled("*72", centrex_star_asked="true")
    assert route.change is not None
    assert route.change.change == ForwardChange("always", True, None)
    assert route.actions == CONFIRMED_SET


@pytest.mark.parametrize("dialled", ["*721", "*73*", "*735", "*72*0612345678", "*785", "#31#"])
def test_junk_after_a_code_is_refused_and_changes_nothing(dialled):
    route = compiled(dialled)
    assert route.change is None
    assert route.actions == (Hangup(fs.INVALID_NUMBER_FORMAT),)


def test_setting_codes_only_from_the_tenants_own_lines():
    req = request("*720612345678", user_name="9999")
    route = compile_call(req, data(line("1001")), NOW)
    assert route.change is None and route.refused


def test_a_tenants_own_code_is_the_one_that_works():
    tenant = replace(TENANT, feature_codes=codes_for({"dnd_on": "*44"}))
    assert compiled("*44", tenant).change.change == DoNotDisturbChange(True)
    assert compiled("*78", tenant).change is None


def test_queue_log_in_code_names_a_queue_of_the_tenant():
    tenant = replace(TENANT, queue_numbers=frozenset({"400"}))
    route = compiled("*57400", tenant)
    assert route.change.change == QueueLogInChange("400", True)
    assert route.actions == (Answer(), Prompt(fs.PROMPT_LOGGED_IN), Hangup(fs.NORMAL_CLEARING))
    assert compiled("*58400", tenant).change.change == QueueLogInChange("400", False)
    unknown = compiled("*57401", tenant)
    assert unknown.change is None
    assert unknown.actions[-1] == Hangup(fs.UNALLOCATED_NUMBER)


def test_withhold_code_hides_the_number_of_this_call_only():
    caller = line("1001", display_name="Alice", public_number="+33184800101")
    route = compiled("#31#0612345678", caller=caller)
    assert Ring((GatewayEndpoint(DOMAIN, "+33612345678"),), 90) in route.actions
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, "+33184800101") not in route.actions
    assert route.actions[:2] == ANONYMOUS_CALLER
    shown = compiled("0612345678", caller=caller)
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, "+33184800101") in shown.actions


def test_show_code_presents_the_number_of_a_line_that_withholds_it():
    withholding = line("1001", public_number="+33184800101")
    handling = withholding.call_handling.model_copy(deep=True)
    handling.caller_id.withhold = True
    withholding = replace(withholding, call_handling=handling)
    assert (
        SetVariable(fs.V_EFFECTIVE_CID_NUMBER, "+33184800101")
        not in compiled("0612345678", caller=withholding).actions
    )
    route = compiled("*31#0612345678", caller=withholding)
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, "+33184800101") in route.actions
    assert Ring((GatewayEndpoint(DOMAIN, "+33612345678"),), 90) in route.actions


def test_caller_id_codes_keep_call_barring():
    route = compiled("#31#00442071234567")
    assert route.actions[-1] == Hangup(fs.OUTGOING_CALL_BARRED)  # after the announcement
    allowed = line("1001", allowed_destinations=frozenset({Category.INTERNATIONAL}))
    assert not compiled("#31#00442071234567", caller=allowed).refused


# --- rendering -----------------------------------------------------------------------
def _applications(route) -> list[tuple[str, str | None]]:
    doc = etree.fromstring(render.dialplan(route))
    return [(a.get("application"), a.get("data")) for a in doc.iter("action")]


def test_the_question_renders_as_play_and_get_digits_then_a_transfer_with_what_was_typed():
    assert _applications(compiled("*92")) == [
        ("answer", None),
        ("set", "centrex_star_asked=true"),
        (
            "play_and_get_digits",
            "0 17 1 10000 # ivr/ivr-enter_destination_telephone_number.wav "
            "silence_stream://250 centrex_star_digits",
        ),
        ("transfer", "*92${centrex_star_digits} XML acme.example"),
    ]


def test_a_confirmation_renders_as_answer_prompt_hangup():
    assert _applications(compiled("*78")) == [
        ("answer", None),
        ("playback", "ivr/ivr-dnd_activated.wav"),
        ("hangup", "NORMAL_CLEARING"),
    ]


def test_the_configuration_summary_lists_the_codes_in_force():
    from datetime import UTC, datetime

    from provisioning.summary import as_text, summarise

    doc = parse_document(
        {
            "domain": "acme.example",
            "name": "ACME",
            "timezone": "Europe/Paris",
            "country": "FR",
            "feature_codes": {"dnd_on": "*44"},
        }
    )
    text = as_text(summarise(doc, datetime(2026, 12, 7, 9, tzinfo=UTC)))
    assert "*44: dnd on (the tenant's own code)" in text
    assert "*72 + number: forward always on" in text
    assert "*78" not in text


def test_remembered_forwards_in_the_document_are_normalised_and_checked():
    raw = {
        "domain": "acme.example",
        "name": "ACME",
        "timezone": "Europe/Paris",
        "country": "FR",
        "users": [
            {
                "extension": "1001",
                "name": "Alice",
                "sip_password": "Alice-Demo-Pass-2026",
                "voicemail": {"enabled": False},
                "call_handling": {
                    "remembered_forwards": {"always": "06 12 34 56 78", "busy": "1002"}
                },
            }
        ],
    }
    remembered = parse_document(raw).users[0].call_handling.remembered_forwards
    assert (remembered.always, remembered.busy) == ("+33612345678", "1002")
    raw["users"][0]["call_handling"]["remembered_forwards"]["busy"] = "1002,user/9"
    with pytest.raises(DocumentInvalid) as refused:
        parse_document(raw)
    assert [p.path for p in refused.value.problems] == [
        "users[0].call_handling.remembered_forwards.busy"
    ]
