"""Conference rooms through xml_curl: requests shaped as FreeSWITCH 1.10.12 sends them
(fixtures), answered from what `centrex apply` stored."""

from sqlalchemy import select, update

from provisioning.models import Tenant
from tests.conftest import apply_raw, demo_document, post_fetch
from tests.fsrequests import fixture_fields, with_fields
from tests.integration.test_xmlcurl import actions, dialplan, is_not_found, xml

ROOM = {"name": "Weekly", "extension": "800", "pin": "4321", "max_members": 5}


def with_rooms(engine, *rooms, domain="127.0.0.1"):
    raw = demo_document(domain, conferences=list(rooms))
    if domain != "127.0.0.1":  # the demo's public numbers belong to the first tenant
        raw.pop("main_number")
        raw["numbers"] = []
        for user in raw["users"]:
            user.pop("public_number", None)
    apply_raw(engine, raw)
    return raw


def test_a_stored_room_is_joined_with_its_pin_and_size(client, engine):
    with_rooms(engine, {**ROOM, "moderator_pin": "98765"})
    assert actions(dialplan(client, "800")) == [
        ("answer", None),
        ("set", "conference_max_members=5"),
        ("set", "conference_moderator_pin=98765"),
        ("conference", "meet-800-127.0.0.1@centrex+4321"),
        ("hangup", "NORMAL_CLEARING"),
    ]


def test_a_changed_room_is_seen_by_the_next_call(client, engine):
    raw = with_rooms(engine, ROOM)
    assert ("conference", "meet-800-127.0.0.1@centrex+4321") in actions(dialplan(client, "800"))
    raw["conferences"][0]["pin"] = "2468"
    apply_raw(engine, raw)
    assert ("conference", "meet-800-127.0.0.1@centrex+2468") in actions(dialplan(client, "800"))
    raw.pop("conferences")
    apply_raw(engine, raw)
    assert not any(a == "conference" for a, _ in actions(dialplan(client, "800")))


def test_another_tenants_room_is_out_of_reach(client, engine):
    """Tenant B has a room at 800; tenant 127.0.0.1 has none: its callers dialling 800
    never reach B's room, whatever they send."""
    with_rooms(engine, ROOM, domain="b.example")
    apply_raw(engine, demo_document())
    answer = actions(dialplan(client, "800", conference_name="meet-800-b.example"))
    assert not any(app == "conference" for app, _ in answer)
    assert not any("b.example" in (data or "") for _, data in answer)


def test_the_key_pressed_in_a_call_moves_it_into_the_callers_room(client, engine):
    with_rooms(engine)
    assert actions(dialplan(client, "*3")) == [
        ("transfer", "-bleg conference:adhoc-1001-127.0.0.1@centrex-adhoc inline"),
        (
            "transfer",
            "conference:adhoc-1001-127.0.0.1@centrex-adhoc+flags{moderator|mandatory_member_endconf}"
            " inline",
        ),
    ]


def test_a_call_to_a_colleague_binds_the_key(client, engine):
    with_rooms(engine)
    assert ("bind_meta_app", "3 a s execute_extension::*3 XML 127.0.0.1") in actions(
        dialplan(client, "1000")
    )


def test_conference_conf_is_served_on_load_and_on_each_join(client, engine):
    with_rooms(engine, ROOM)
    on_load = xml(post_fetch(client, fixture_fields("configuration-conference.conf")))
    on_join = xml(
        post_fetch(
            client,
            with_fields(
                fixture_fields("configuration-conference.conf"),
                {"conference_name": "meet-800-127.0.0.1", "profile_name": "centrex"},
            ),
        )
    )
    for root in (on_load, on_join):
        assert not is_not_found(root)
        names = [p.get("name") for p in root.iter("profile")]
        assert names == ["centrex", "centrex-adhoc"]


def test_a_stored_room_that_bypassed_validation_never_reaches_freeswitch(client, engine):
    with_rooms(engine, ROOM)
    with engine.begin() as conn:
        conn.execute(
            update(Tenant)
            .where(Tenant.domain == "127.0.0.1")
            .values(conferences=[{**ROOM, "pin": "12}|x"}])
        )
        assert conn.scalar(select(Tenant.conferences).where(Tenant.domain == "127.0.0.1"))
    answer = dialplan(client, "800")  # well-formed, whatever it says
    assert not any((data or "").find("12}") >= 0 for _, data in actions(answer))
