"""Call park in Centrex: the `park` block applied and exported, and calls to a slot
fetched exactly as FreeSWITCH 1.10.12 asks for them (the captured dialplan request,
re-aimed: a transfer's hunt carries Hunt-RDNIS, a REFER's the Referred-By header)."""

import pytest

from centrex.db import make_session_factory
from provisioning import service
from tests.conftest import apply_raw, demo_document, post_fetch
from tests.fsrequests import fixture_fields, with_fields
from tests.integration.test_xmlcurl import actions, count_queries, xml

DOMAIN = "127.0.0.1"


@pytest.fixture
def parking(engine) -> dict:
    raw = demo_document(park={"first_slot": "701", "last_slot": "703", "timeout": 30})
    apply_raw(engine, raw)
    return raw


def fetch(client, destination: str, **fields: str):
    values = {
        "Hunt-Destination-Number": destination,
        "Caller-Destination-Number": destination,
        "Hunt-Context": DOMAIN,
        "Caller-Context": DOMAIN,
        **fields,
    }
    return xml(post_fetch(client, with_fields(fixture_fields("dialplan-1000"), values)))


def test_the_park_block_is_stored_and_exported(engine, parking):
    with make_session_factory(engine)() as session:
        doc = service.export_document(session, DOMAIN)
    assert doc.park is not None and (doc.park.last_slot, doc.park.timeout) == ("703", 30)
    raw = demo_document()
    apply_raw(engine, raw)
    with make_session_factory(engine)() as session:
        assert service.export_document(session, DOMAIN).park is None


def test_a_call_transferred_to_a_slot_is_parked_and_rings_back_the_referrer(client, parking):
    found = actions(
        fetch(
            client,
            "702",
            **{
                "Hunt-RDNIS": "1000",
                "variable_sip_h_Referred-By": f"<sip:1002@{DOMAIN}>",
            },
        )
    )
    assert found == [
        ("answer", None),
        ("unset", "centrex_failover_for"),
        ("unset", "centrex_stage"),
        ("set", "valet_parking_timeout=30"),
        ("set", "valet_hold_music=silence_stream://-1"),
        ("set", "valet_announce_slot=false"),
        ("unset", "signal_bond"),
        ("unset", "originate_signal_bond"),
        ("valet_park", f"park@{DOMAIN} auto in 702 702"),
        ("transfer", f"1002 XML {DOMAIN}"),
    ]


def test_a_colleague_dialling_a_slot_takes_the_parked_call(client, parking):
    found = actions(fetch(client, "701"))
    taking = found.index(("valet_park", f"park@{DOMAIN} auto out 701 701"))
    # Never left parked when the slot's last call has only just left (fsnames).
    assert found[taking - 2 : taking] == [
        ("set", "valet_parking_timeout=1"),
        ("set", "valet_hold_music=silence_stream://-1"),
    ]
    assert not [a for a in found if a[0] == "valet_park" and "auto in" in (a[1] or "")]


def test_outside_the_slots_or_without_parking_nothing_is_parked(client, engine, parking):
    assert not [a for a in actions(fetch(client, "704")) if a[0] == "valet_park"]
    apply_raw(engine, demo_document())
    assert not [a for a in actions(fetch(client, "701")) if a[0] == "valet_park"]


def test_a_slot_clashing_with_an_extension_is_refused_over_the_api(client, session, parking):
    token = service.create_token(session, "tenant", DOMAIN)
    session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    raw = demo_document(park={"first_slot": "1000", "last_slot": "1002"})
    answer = client.put(f"/api/v1/tenants/{DOMAIN}", headers=headers, json=raw)
    assert answer.status_code == 422, answer.json
    assert "slot 1000 (slots 1000–1002) is already used by users[0]" in str(answer.json)


def test_a_park_fetch_costs_what_any_call_costs(client, engine, parking):
    park = count_queries(engine, lambda: fetch(client, "702", **{"Hunt-RDNIS": "1000"}))
    line = count_queries(engine, lambda: fetch(client, "1002"))
    assert park == line
