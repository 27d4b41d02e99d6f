"""Conference rooms: the document's checks, the decisions for a room's number and for
the ad-hoc key, their XML, and conference.conf."""

import pytest
from lxml import etree

from provisioning.destinations import Destination
from provisioning.document import dump_document, parse_document
from tests.conftest import demo_document
from tests.unit.test_dialplan_compile import NOW, data, line, request
from tests.unit.test_document import problems
from tests.unit.test_freeswitch_conf import CONF
from xmlcurl import fsnames as fs
from xmlcurl import render, render_configuration
from xmlcurl.conference import route_adhoc
from xmlcurl.conference_configuration import compile_conference
from xmlcurl.decisions import (
    Answer,
    BindConferenceKey,
    Hangup,
    JoinConference,
    MoveToConference,
    Route,
    SetVariable,
    Transfer,
)
from xmlcurl.destinations import Handoff, hand_off
from xmlcurl.dialplan import compile_call
from xmlcurl.inputs import tenant_from_document
from xmlcurl.safe import UnsafeValue

DOMAIN = "acme.example"


def doc_with(*rooms, **changes):
    return demo_document(DOMAIN, conferences=list(rooms), **changes)


def weekly(**kw):
    return {"name": "Weekly", "extension": "800", "pin": "4321", **kw}


# --- the document ------------------------------------------------------------------
def test_a_room_keeps_its_settings_and_leaves_defaults_out():
    doc = parse_document(doc_with(weekly(moderator_pin="98765", wait_for_moderator=True)))
    assert dump_document(doc)["conferences"] == [
        {
            "name": "Weekly",
            "extension": "800",
            "pin": "4321",
            "moderator_pin": "98765",
            "wait_for_moderator": True,
        }
    ]
    assert doc.conferences[0].max_members == 10


@pytest.mark.parametrize(
    ("rooms", "changes", "path", "message"),
    [
        ([weekly(pin="12a4")], {}, "conferences[0].pin", "must be 4 to 8 digits"),
        ([weekly(pin="123")], {}, "conferences[0].pin", "must be 4 to 8 digits"),
        ([weekly(pin="123456789")], {}, "conferences[0].pin", "must be 4 to 8 digits"),
        (
            [weekly(moderator_pin="4321")],
            {},
            "conferences[0].moderator_pin",
            "must differ from the PIN",
        ),
        (
            [weekly(pin=None, moderator_pin="9876")],
            {},
            "conferences[0].moderator_pin",
            "a moderator PIN needs a PIN for the others",
        ),
        (
            [weekly(wait_for_moderator=True)],
            {},
            "conferences[0].wait_for_moderator",
            "needs a moderator PIN (who else would start it?)",
        ),
        (
            [weekly(extension="1001")],
            {},
            "conferences[0].extension",
            "1001 is already used by users[1]",
        ),
        (
            [weekly(), weekly(name="weekly", extension="801")],
            {},
            "conferences[1].name",
            "'weekly' is already the name of a conference room",
        ),
        (
            [weekly(), weekly(name="Daily")],
            {},
            "conferences[1].extension",
            "800 is already used by conferences[0]",
        ),
        (
            [weekly()],
            {"groups": [{"name": "Sales", "extension": "800"}]},
            "groups[0].extension",
            "800 is already used by conferences[0]",
        ),
        (
            [weekly()],
            {"speed_dials": [{"code": "800", "number": "0612345678"}]},
            "speed_dials[0].code",
            "800 is already used by conferences[0]",
        ),
        ([weekly(extension="112")], {}, "conferences[0].extension", "112 is an emergency number"),
        (
            [weekly(name="a$b")],
            {},
            "conferences[0].name",
            "must not contain",
        ),
    ],
)
def test_bad_rooms_are_refused_with_the_path_of_the_problem(rooms, changes, path, message):
    found = problems(doc_with(*rooms, **changes))
    assert path in found, found
    assert found[path].startswith(message)


@pytest.mark.parametrize("size", [1, 101])
def test_a_size_out_of_range_is_refused(size):
    assert "conferences[0].max_members" in problems(doc_with(weekly(max_members=size)))


def test_a_number_may_be_routed_to_a_room_and_not_to_an_unknown_one():
    raw = doc_with(weekly())
    raw["numbers"][1] = {
        "number": raw["numbers"][1]["number"],
        "otherwise": {"conference": "WEEKLY"},
    }
    parse_document(raw)
    raw["numbers"][1]["otherwise"] = {"conference": "Monthly"}
    assert problems(raw) == {
        "numbers[1].otherwise.conference": "no conference room is named 'Monthly'"
    }


# --- decisions -----------------------------------------------------------------------
def tenant(*rooms, domain=DOMAIN):
    return tenant_from_document(parse_document(demo_document(domain, conferences=list(rooms))))


def test_dialling_a_room_answers_and_joins_it_with_its_pin_and_size():
    call = data(line("1001"), tenant=tenant(weekly(max_members=4)))
    route = compile_call(request("800", variable_user_name="1001"), call, NOW)
    assert route.actions == (
        Answer(),
        SetVariable(fs.V_CONFERENCE_MAX_MEMBERS, "4"),
        JoinConference(f"meet-800-{DOMAIN}", "centrex", "4321", ()),
        Hangup(fs.NORMAL_CLEARING),
    )


def test_a_moderated_room_passes_the_moderator_pin_and_waits_for_the_moderator():
    room = weekly(moderator_pin="98765", wait_for_moderator=True)
    route = compile_call(request("800"), data(tenant=tenant(room)), NOW)
    assert SetVariable(fs.V_CONFERENCE_MODERATOR_PIN, "98765") in route.actions
    assert JoinConference(f"meet-800-{DOMAIN}", "centrex", "4321", ("wait-mod",)) in route.actions


def test_a_room_without_pin_is_joined_without_one():
    route = compile_call(request("800"), data(tenant=tenant(weekly(pin=None))), NOW)
    assert JoinConference(f"meet-800-{DOMAIN}", "centrex", None, ()) in route.actions


def test_a_caller_from_outside_handed_into_the_tenant_may_join():
    call = data(tenant=tenant(weekly()))
    route = compile_call(request("800", centrex_from_public="true"), call, NOW)
    assert any(isinstance(a, JoinConference) for a in route.actions)


def test_a_number_routed_to_a_room_is_transferred_to_its_extension():
    at = Handoff(tenant(weekly()))
    assert hand_off(Destination(conference="weekly"), at) == (
        "to conference Weekly",
        (Transfer("800", DOMAIN),),
    )
    name, actions = hand_off(Destination(conference="gone"), Handoff(tenant()))
    assert actions == (Hangup(fs.NORMAL_CLEARING),) and "no longer exists" in name


def test_rooms_are_named_after_the_tenant_the_call_is_routed_in():
    """Tenant isolation: mod_conference's names are global to the node; a room's name
    holds the domain of the context the call is routed in, never anything the caller
    sent, so the same number in two tenants is two rooms, and a tenant without a room
    at that number has none."""
    a = tenant(weekly(), domain="a.example")
    b = tenant(weekly(pin="5555"), domain="b.example")
    in_a = compile_call(request("800", context="a.example"), data(tenant=a), NOW)
    in_b = compile_call(request("800", context="b.example"), data(tenant=b), NOW)
    joins = [next(x for x in r.actions if isinstance(x, JoinConference)) for r in (in_a, in_b)]
    assert [(j.room, j.pin) for j in joins] == [
        ("meet-800-a.example", "4321"),
        ("meet-800-b.example", "5555"),
    ]
    # A caller of tenant C dialling 800, where C has no room: no conference at all.
    c = tenant(domain="c.example")
    in_c = compile_call(
        request("800", context="c.example", variable_domain_name="c.example"),
        data(line("1001"), tenant=c),
        NOW,
    )
    assert not any(isinstance(x, JoinConference) for x in in_c.actions)


def test_the_public_context_never_reaches_a_room_by_its_extension():
    route = compile_call(request("800", context=fs.PUBLIC_CONTEXT), None, NOW)
    assert route.refused
    call = data(tenant=tenant(weekly()))
    route = compile_call(request("800", context=fs.PUBLIC_CONTEXT), call, NOW)
    assert not any(isinstance(x, JoinConference) for x in route.actions)


def test_calls_a_line_makes_bind_the_conference_key():
    call = data(line("1000"), line("1001"))
    internal = compile_call(request("1000", user_name="1001"), call, NOW)
    outbound = compile_call(request("0612345678", user_name="1001"), call, NOW)
    for route in (internal, outbound):
        assert BindConferenceKey("3", "*3", DOMAIN) in route.actions, route


def test_a_call_from_outside_binds_no_key():
    call = data(line("1000"))
    route = compile_call(request("1000", centrex_from_public="true"), call, NOW)
    assert not any(isinstance(a, BindConferenceKey) for a in route.actions)


def test_the_key_moves_the_other_party_then_the_user_into_the_users_room():
    call = data(line("1001"))
    route = compile_call(request("*3", user_name="1001"), call, NOW)
    assert route.actions == (
        MoveToConference(f"adhoc-1001-{DOMAIN}", "centrex-adhoc", partner=True),
        MoveToConference(
            f"adhoc-1001-{DOMAIN}",
            "centrex-adhoc",
            partner=False,
            flags=("moderator", "mandatory_member_endconf"),
        ),
    )


def test_the_key_on_the_leg_ringing_a_line_makes_that_line_s_conference():
    """A call 1002 received from 1001: the key pressed on 1002's own leg (which carries
    `nolocal:centrex_peer_line`, the line's name) opens 1002's room, not the caller's."""
    call = data(line("1001"), line("1002"))
    own = {"nolocal:centrex_peer_line": f"1002@{DOMAIN}"}
    route = compile_call(request("*3", user_name="1001", **own), call, NOW)
    assert route.actions[0] == MoveToConference(f"adhoc-1002-{DOMAIN}", "centrex-adhoc", True)


def test_the_key_does_nothing_for_a_caller_who_is_not_a_line_of_the_tenant():
    """Never a hang-up: the call the key was pressed in goes on."""
    route = compile_call(request("*3", user_name="1001", domain_name="other.example"), data(), NOW)
    assert route.actions == ()
    outside = compile_call(request("*3", centrex_from_public="true"), data(line("1001")), NOW)
    assert outside.actions == ()


# --- XML -----------------------------------------------------------------------------
def applications(route: Route) -> list[tuple[str, str | None]]:
    root = etree.fromstring(render.dialplan(route))
    return [(a.get("application"), a.get("data")) for a in root.iter("action")]


def test_a_room_renders_as_mod_conference_reads_it():
    route = compile_call(
        request("800"),
        data(tenant=tenant(weekly(moderator_pin="98765", wait_for_moderator=True))),
        NOW,
    )
    assert applications(route) == [
        ("answer", None),
        ("set", "conference_max_members=10"),
        ("set", "conference_moderator_pin=98765"),
        ("conference", f"meet-800-{DOMAIN}@centrex+4321+flags{{wait-mod}}"),
        ("hangup", "NORMAL_CLEARING"),
    ]


def test_the_key_and_the_moves_render_as_freeswitch_reads_them():
    room = f"adhoc-1001-{DOMAIN}"
    route = route_adhoc(request("*3"), tenant(), line("1001"))
    assert applications(route) == [
        ("transfer", f"-bleg conference:{room}@centrex-adhoc inline"),
        (
            "transfer",
            f"conference:{room}@centrex-adhoc+flags{{moderator|mandatory_member_endconf}} inline",
        ),
    ]
    bound = Route(DOMAIN, "1000", "x", (BindConferenceKey("3", "*3", DOMAIN),))
    assert applications(bound) == [("bind_meta_app", f"3 a s execute_extension::*3 XML {DOMAIN}")]


@pytest.mark.parametrize(
    "action",
    [
        JoinConference("meet-800-a.example@evil", "centrex"),
        JoinConference("meet-800-a.example", "centrex", "12+3"),
        JoinConference("meet-800-a.example", "centrex", None, ("endconf|x",)),
        MoveToConference("adhoc-1-a.example,hangup", "centrex-adhoc", partner=True),
        BindConferenceKey("*", "*3", DOMAIN),
        BindConferenceKey("3", "*3 XML x", DOMAIN),
    ],
)
def test_values_mod_conference_would_split_on_are_refused(action):
    with pytest.raises(UnsafeValue):
        render.dialplan(Route(DOMAIN, "800", "x", (action,)))


# --- conference.conf ---------------------------------------------------------------
def served_profiles(body: bytes) -> dict[str, dict[str, str]]:
    root = etree.fromstring(body)
    return {
        p.get("name"): {x.get("name"): x.get("value") for x in p.iter("param")}
        for p in root.iter("profile")
    }


def test_conference_conf_has_the_meet_me_and_ad_hoc_profiles():
    body = render_configuration.conference(compile_conference())
    profiles = served_profiles(body)
    assert set(profiles) == {"centrex", "centrex-adhoc"}
    assert profiles["centrex-adhoc"]["max-members"] == "6"
    assert "max-members" not in profiles["centrex"]
    for params in profiles.values():
        assert params["pin-sound"].startswith("tone_stream://")
        assert params["caller-controls"] == "centrex"
    root = etree.fromstring(body)
    assert root.find("section").get("name") == "configuration"
    assert root.find("section/configuration").get("name") == "conference.conf"
    controls = root.findall("section/configuration/caller-controls/group[@name='centrex']/control")
    assert {c.get("action"): c.get("digits") for c in controls}["hangup"] == "#"


def test_the_static_fallback_says_what_centrex_serves():
    static = (CONF / "autoload_configs" / "conference.conf.xml").read_bytes()
    served = render_configuration.conference(compile_conference())
    assert served_profiles(static) == served_profiles(served)
