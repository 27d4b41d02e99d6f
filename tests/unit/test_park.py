"""Call park: the tenant document's `park` block (validation, canonical form), what a
call to a slot compiles to (parked, taken, rung back), and its rendering."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from provisioning.document import DocumentInvalid, dump_document, parse_document
from tests.unit.routing_tenant import RAW
from tests.unit.test_dialplan_compile import TENANT, data, line, request
from xmlcurl import render
from xmlcurl.decisions import (
    Answer,
    Hangup,
    Park,
    Prompt,
    Retrieve,
    Transfer,
    UnsetVariable,
)
from xmlcurl.dialplan import ToParkSlot, classify_dialled, compile_call, lookup_for
from xmlcurl.inputs import ParkData, park_data
from xmlcurl.park import lot_name

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
DOMAIN = TENANT.domain
PARKING = replace(TENANT, park=park_data({"timeout": 45}))


def raw_document(**changes: object) -> dict:
    raw = copy.deepcopy(RAW)
    raw.update(changes)
    return raw


def problems(raw: dict) -> list[str]:
    with pytest.raises(DocumentInvalid) as caught:
        parse_document(raw)
    return [str(p) for p in caught.value.problems]


# --- the tenant document ---------------------------------------------------------------
def test_no_park_block_means_no_parking():
    doc = parse_document(raw_document())
    assert doc.park is None and "park" not in dump_document(doc)


def test_an_empty_park_block_turns_parking_on_with_slots_701_to_709():
    doc = parse_document(raw_document(park={}))
    assert (doc.park.first_slot, doc.park.last_slot, doc.park.timeout) == ("701", "709", 60)
    assert dump_document(doc)["park"] == {}
    assert park_data({}) == ParkData(slots=frozenset(f"70{n}" for n in range(1, 10)), timeout=60)


def test_the_park_block_round_trips_in_canonical_form():
    doc = parse_document(raw_document(park={"first_slot": 800, "last_slot": "805", "timeout": 30}))
    assert dump_document(doc)["park"] == {"first_slot": "800", "last_slot": "805", "timeout": 30}
    again = parse_document(dump_document(doc))
    assert dump_document(again) == dump_document(doc)


def test_a_slot_taken_by_a_user_is_refused_with_who_has_it():
    raw = raw_document(park={"first_slot": "999", "last_slot": "1001"})
    found = problems(raw)
    assert any(p.startswith("park.last_slot: must have as many digits") for p in found), found
    user = RAW["users"][0]["extension"]
    raw = raw_document(park={"first_slot": user, "last_slot": user})
    assert f"park: slot {user} (slots {user}–{user}) is already used by users[0]" in problems(raw)


def test_a_slot_taken_by_a_group_queue_or_speed_dial_is_refused():
    for number in {
        *(g["extension"] for g in RAW.get("groups", [])),
        *(q["extension"] for q in RAW.get("queues", [])),
        *(d["code"] for d in RAW.get("speed_dials", [])),
    }:
        raw = raw_document(park={"first_slot": number, "last_slot": number})
        assert any(p.startswith(f"park: slot {number} ") for p in problems(raw)), number


@pytest.mark.parametrize(
    ("park", "message"),
    [
        ({"first_slot": "709", "last_slot": "701"}, "park.last_slot: must not come before"),
        ({"first_slot": "100", "last_slot": "300"}, "park.last_slot: at most 100 slots"),
        ({"first_slot": "7a1"}, "park.first_slot: must be 2 to 8 digits"),
        ({"first_slot": "110", "last_slot": "113"}, "park: slot 112: 112 is an emergency"),
        ({"timeout": 2}, "park.timeout"),
        ({"slots": "701-709"}, "park.slots"),
    ],
)
def test_bad_park_blocks_get_a_clear_message(park, message):
    assert any(p.startswith(message) for p in problems(raw_document(park=park))), problems(
        raw_document(park=park)
    )


# --- compiling a call to a slot ----------------------------------------------------------
def _transferred(destination: str = "701", **variables: str):
    """`destination` hunted again by a transfer away from 1002 (RDNIS)."""
    return replace(request(destination, **variables), transferred_from="1002")


def test_transferred_call_parks_in_the_slot_and_goes_back_to_the_referrer():
    req = _transferred(**{"sip_h_Referred-By": f'"Bob" <sip:1002@{DOMAIN}>;x=y'})
    assert req.parker_candidates == ("1002",)
    assert "1002" in lookup_for(req, "FR").extensions
    route = compile_call(req, data(line("1001"), line("1002"), tenant=PARKING), NOW)
    assert route.actions == (
        Answer(),
        UnsetVariable("centrex_failover_for"),
        UnsetVariable("centrex_stage"),
        Park(f"park@{DOMAIN}", "701", 45),
        Transfer("1002", DOMAIN),
    )


def test_the_line_last_rung_is_the_parker_when_no_referred_by_names_a_line():
    req = _transferred(**{"sip_h_Referred-By": f"<sip:9999@{DOMAIN}>", "dialed_user": "1000"})
    assert req.parker_candidates == ("9999", "1000", "1002")
    route = compile_call(req, data(line("1000"), line("1002"), tenant=PARKING), NOW)
    assert route.actions[-1] == Transfer("1000", DOMAIN)


def test_without_any_line_to_ring_back_the_call_ends_after_the_wait():
    req = _transferred()
    route = compile_call(req, data(tenant=PARKING), NOW)
    assert route.actions[-2:] == (Park(f"park@{DOMAIN}", "701", 45), Hangup("NORMAL_CLEARING"))


def test_a_colleague_dialling_a_slot_takes_the_call_parked_there():
    req = request("705")
    assert req.transferred_from is None and req.caller_user == "1001"
    target = classify_dialled(req, data(line("1001"), tenant=PARKING))
    assert isinstance(target, ToParkSlot) and target.caller_line is not None
    route = compile_call(req, data(line("1001"), tenant=PARKING), NOW)
    assert route.actions == (
        Answer(),
        Retrieve(f"park@{DOMAIN}", "705"),
        Prompt("ivr/ivr-no_user_response.wav"),
        Hangup("NORMAL_CLEARING"),
    )


def test_a_call_from_outside_reaching_a_slot_is_parked_never_takes_a_parked_call():
    req = request("701", centrex_from_public="true")
    route = compile_call(req, data(line("1001"), tenant=PARKING), NOW)
    assert any(isinstance(a, Park) for a in route.actions)
    assert not any(isinstance(a, Retrieve) for a in route.actions)


def test_slots_exist_only_in_tenants_with_parking_and_only_in_their_range():
    assert classify_dialled(request("701"), data(line("1001"))).__class__ is not ToParkSlot
    assert classify_dialled(request("710"), data(line("1001"), tenant=PARKING)).__class__ is not (
        ToParkSlot
    )


def test_each_tenant_parks_in_its_own_lot():
    other = replace(PARKING, domain="other.example")
    req = replace(request("701", context="other.example"), caller_domain="other.example")
    route = compile_call(req, data(line("1001"), tenant=other), NOW)
    assert Retrieve("park@other.example", "701") in route.actions
    assert lot_name(DOMAIN) != lot_name("other.example")


# --- rendering ----------------------------------------------------------------------------
def test_park_and_retrieve_render_to_valet_park():
    parked = render.dialplan(compile_call(_transferred(), data(line("1002"), tenant=PARKING), NOW))
    text = parked.decode()
    for expected in (
        'data="valet_parking_timeout=45"',
        'data="valet_hold_music=silence_stream://-1"',
        'data="valet_announce_slot=false"',
        'application="unset" data="signal_bond"',
        'application="unset" data="originate_signal_bond"',
        f'application="valet_park" data="park@{DOMAIN} auto in 701 701"',
        f'application="transfer" data="1002 XML {DOMAIN}"',
    ):
        assert expected in text, expected
    taken = render.dialplan(compile_call(request("701"), data(line("1001"), tenant=PARKING), NOW))
    assert f'application="valet_park" data="park@{DOMAIN} auto out 701 701"' in taken.decode()


@pytest.mark.parametrize(
    "action", [Park("park@acme.example", "7 01", 45), Retrieve("lot@acme.example", "701")]
)
def test_the_renderer_refuses_a_lot_or_slot_that_is_not_ours(action):
    route = compile_call(request("701"), data(line("1001"), tenant=PARKING), NOW)
    with pytest.raises(ValueError):
        render.dialplan(route.__class__(route.context, route.destination, "x", (action,)))


def test_the_configuration_summary_shows_the_slots_and_the_ring_back():
    from provisioning.summary import as_text, summarise

    text = as_text(summarise(parse_document(raw_document(park={"timeout": 90})), NOW))
    assert "Call park\n=========\n- slots 701–709\n" in text
    assert "rings back who parked it after 90 s" in text
    assert "Call park" not in as_text(summarise(parse_document(raw_document()), NOW))
