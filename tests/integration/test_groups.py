"""Hunt groups end to end: dialplan fetches shaped like FreeSWITCH's for a group's
number, the state they read from the database, the REST API that logs members in and
out, and the event listener that stores who answered and the phones' log-in codes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from centrex.config import Settings
from esl.listener import Listener
from provisioning import service
from provisioning.models import GroupMember, HuntGroup, LineState, User
from tests.conftest import apply_raw, demo_document
from tests.fakes.freeswitch import FakeFreeSWITCH
from tests.integration.test_listener import node, settled, until
from tests.integration.test_xmlcurl import actions, dialplan
from xmlcurl import fsnames as fs

DOMAIN = "127.0.0.1"
GROUPS = [
    {
        "name": "Sales",
        "extension": "300",
        "short_number": "250",
        "members": ["1000", "1001"],
        "distribution": "cyclic",
        "rings": 3,
        "overflow": {"voicemail": "1000"},
    },
    {"name": "Support", "extension": "301", "members": ["1002"], "overflow": {"group": "Sales"}},
]


@pytest.fixture
def with_groups(engine) -> dict:
    raw = demo_document(groups=GROUPS)
    apply_raw(engine, raw)
    return raw


def bridge(root) -> str:
    return dict(actions(root))["bridge"]


def member_legs(root) -> list[str]:
    return [leg.rpartition("]")[2] for leg in bridge(root).split("|")]


def set_state(engine, extension: str, **values) -> None:
    with engine.begin() as conn:
        user_id = conn.scalar(select(User.id).where(User.extension == extension))
        conn.execute(LineState.__table__.delete().where(LineState.user_id == user_id))
        conn.execute(LineState.__table__.insert().values(user_id=user_id, **values))


# --- the dialplan -----------------------------------------------------------------------
def test_the_group_extension_and_short_number_ring_its_members(client, with_groups):
    for number in ("300", "250"):
        root = dialplan(client, number)
        assert member_legs(root) == ["user/1000@127.0.0.1", "user/1001@127.0.0.1"]
        assert ("set", f"centrex_failover_for={number}") in actions(root)
        assert ("transfer", f"{number} XML 127.0.0.1") in actions(root)
        assert "leg_timeout=15" in bridge(root)


def test_state_in_the_database_decides_who_rings_and_in_which_order(client, engine, with_groups):
    with engine.begin() as conn:
        first = conn.scalar(select(User.id).where(User.extension == "1000"))
        conn.execute(update(HuntGroup).values(last_answerer_id=first))
    assert member_legs(dialplan(client, "300")) == ["user/1001@127.0.0.1", "user/1000@127.0.0.1"]
    set_state(engine, "1001", active_calls=5, registered=True)
    assert member_legs(dialplan(client, "300")) == ["user/1000@127.0.0.1"]


def test_after_a_failed_ring_the_call_overflows(client, with_groups):
    root = dialplan(
        client,
        "300",
        centrex_failover_for="300",
        centrex_stage="group",
        originate_disposition="NO_ANSWER",
    )
    assert actions(root)[-2:] == [("answer", None), ("voicemail", "default 127.0.0.1 1000")]


def test_an_overflow_into_another_group_carries_the_chain_and_stops_a_loop(client, with_groups):
    failed = {"centrex_stage": "group", "originate_disposition": "NO_ANSWER"}
    root = dialplan(client, "301", centrex_failover_for="301", **failed)
    assert actions(root)[-2:] == [
        ("set", "centrex_unit_chain=301,300"),
        ("transfer", "300 XML 127.0.0.1"),
    ]
    looped = dialplan(client, "300", centrex_failover_for="300", centrex_unit_chain="300", **failed)
    assert actions(looped)[-2:] == [("answer", None), ("voicemail", "default 127.0.0.1 1000")]


def test_a_group_with_everyone_logged_out_goes_straight_to_overflow(client, engine, with_groups):
    with engine.begin() as conn:
        conn.execute(update(GroupMember).values(logged_in=False))
    assert [a for a, _ in actions(dialplan(client, "300"))] == ["answer", "voicemail"]


def test_the_log_in_code_fires_the_event_for_the_calling_member(client, with_groups):
    # The fixture's caller is 1001, authenticated by sofia.
    root = dialplan(client, "*55250", domain_name=DOMAIN)
    event = dict(actions(root))["event"]
    assert "Event-Subclass=centrex::group_login" in event
    assert "Centrex-Group=300,Centrex-Member=1001,Centrex-Logged-In=true" in event
    refused = dialplan(client, "*56301", domain_name=DOMAIN)
    assert "event" not in dict(actions(refused))


# --- the REST API -----------------------------------------------------------------------
@pytest.fixture
def token(session, with_groups, engine) -> dict[str, str]:
    apply_raw(engine, demo_document("pbx.other.example", numbers=[], main_number=None, users=[]))
    value = service.create_token(session, "tenant", DOMAIN)
    session.commit()
    return {"Authorization": f"Bearer {value}"}


def test_renaming_a_group_keeps_its_row_and_its_members_logged_in_state(client, token):
    base = f"/api/v1/tenants/{DOMAIN}"
    client.post(f"{base}/groups/Sales/members/1001/logout", headers=token)
    raw = client.get(base, headers=token).json
    raw["groups"][0]["name"] = "Sales team"
    raw["groups"][1]["name"] = "Helpdesk"
    raw["groups"][1]["overflow"] = {"group": "Sales team"}
    answer = client.put(base, headers=token, json=raw)
    assert answer.status_code == 200, answer.json
    assert answer.json["updated"] == ["group Sales team", "group Helpdesk"]
    assert answer.json["created"] == [] and answer.json["deleted"] == []
    listed = client.get(f"{base}/groups", headers=token).json["groups"]
    assert [(g["name"], g["extension"]) for g in listed] == [
        ("Sales team", "300"),
        ("Helpdesk", "301"),
    ]
    assert listed[0]["members"][1] == {"extension": "1001", "logged_in": False}
    # A rename together with a new group on the old name's extension elsewhere: still
    # one row per extension.
    raw = client.get(base, headers=token).json
    raw["groups"][1]["name"], raw["groups"][1]["extension"] = "Sales", "302"
    assert client.put(base, headers=token, json=raw).status_code == 200


def test_members_log_in_and_out_through_the_api(client, token):
    base = f"/api/v1/tenants/{DOMAIN}/groups"
    listed = client.get(base, headers=token).json["groups"]
    assert [g["name"] for g in listed] == ["Sales", "Support"]
    assert listed[0]["members"] == [
        {"extension": "1000", "logged_in": True},
        {"extension": "1001", "logged_in": True},
    ]
    out = client.post(f"{base}/sales/members/1001/logout", headers=token)
    assert out.status_code == 200 and out.json["members"][1]["logged_in"] is False
    back = client.post(f"{base}/Sales/members/1001/login", headers=token)
    assert back.json["members"][1]["logged_in"] is True
    everyone = client.post(f"{base}/Sales/logout-all", headers=token).json
    assert everyone["any_logged_in"] is False
    assert client.post(f"{base}/Sales/members/1002/login", headers=token).status_code == 404
    assert client.post(f"{base}/Nope/logout-all", headers=token).status_code == 404


def test_the_api_does_not_cross_tenants(client, token):
    other = "/api/v1/tenants/pbx.other.example/groups"
    assert client.get(other, headers=token).status_code == 404
    assert client.post(f"{other}/Sales/logout-all", headers=token).status_code == 404


# --- the event listener -------------------------------------------------------------------
@pytest.fixture
def fake() -> Iterator[FakeFreeSWITCH]:
    with FakeFreeSWITCH("s3cret") as server:
        yield server


@pytest.fixture
def listener(engine, fake, with_groups) -> Iterator[Listener]:
    settings = Settings(esl_nodes=(f"127.0.0.1:{fake.port}",), esl_password="s3cret")
    listener = Listener(
        settings, engine, timeout=1.0, backoff=(0.02, 0.1), keys_every=3600, expire_every=3600
    )
    listener.start()
    yield listener
    listener.stop()


def group_row(engine, name: str = "Sales"):
    with engine.connect() as conn:
        return conn.execute(select(HuntGroup).where(HuntGroup.name == name)).first()


def logged_in(engine, extension: str, group: str = "Sales") -> bool | None:
    """The member's state in the group; None when not a member of it."""
    with engine.connect() as conn:
        return conn.scalar(
            select(GroupMember.logged_in)
            .join(User, User.id == GroupMember.user_id)
            .join(HuntGroup, HuntGroup.id == GroupMember.group_id)
            .where(HuntGroup.name == group, User.extension == extension)
        )


def test_the_listener_stores_who_answered_a_group_call(engine, fake, listener):
    until(lambda: settled(listener))
    leg = fake.create_channel(
        direction="outbound",
        caller="0612345678",
        destination="1001",
        variables={
            "dialed_user": "1001",
            "dialed_domain": DOMAIN,
            fs.V_GROUP: f"300@{DOMAIN}",
            fs.V_GROUP_MEMBER: "1001",
        },
    )
    fake.answer_channel(leg)
    with engine.connect() as conn:
        member_id = conn.scalar(select(User.id).where(User.extension == "1001"))
    until(lambda: group_row(engine).last_answerer_id == member_id)
    assert node(listener).connected.is_set()


def test_the_listener_stores_log_in_codes(engine, fake, listener):
    until(lambda: settled(listener))
    until(lambda: fake.wait_for_subscription(fs.EVENT_GROUP_LOGIN, timeout=0))

    def code(member: str, group: str, state: str) -> None:
        headers = {
            fs.EV_GROUP_DOMAIN: DOMAIN,
            fs.EV_GROUP_NUMBER: group,
            fs.EV_GROUP_MEMBER: member,
            fs.EV_GROUP_LOGGED_IN: state,
        }
        fake.emit(fake.event_headers("CUSTOM", headers, subclass=fs.EVENT_GROUP_LOGIN))

    code("1001", "250", "false")
    until(lambda: logged_in(engine, "1001") is False)
    code("1002", "301", "false")
    until(lambda: logged_in(engine, "1002", "Support") is False)
    # 1002 is no member of Sales (300): a code for it changes nothing, neither in Sales
    # nor in the group 1002 is a member of. Events are handled in order, so once the
    # next one is stored, this one has been handled.
    code("1002", "300", "true")
    code("1001", "300", "true")
    until(lambda: logged_in(engine, "1001") is True)
    assert logged_in(engine, "1002") is None
    assert logged_in(engine, "1002", "Support") is False
    assert logged_in(engine, "1000") is True


def test_a_group_call_costs_the_same_queries_whatever_the_group_count(client, engine):
    from tests.integration.test_xmlcurl import count_queries

    many = [{"name": f"G{i}", "extension": str(400 + i), "members": ["1000"]} for i in range(50)]
    for extra in ([], many):
        apply_raw(engine, demo_document(groups=GROUPS + extra))
        # The tenant and lines, then the group; its overflow, to voicemail or to another
        # group (whose number is kept with the tenant's settings), needs nothing more.
        assert count_queries(engine, lambda: dialplan(client, "300")) == 2
        assert count_queries(engine, lambda: dialplan(client, "301")) == 2
        # Calls to lines do not look for a group.
        assert count_queries(engine, lambda: dialplan(client, "1001")) == 1


@pytest.mark.parametrize(
    ("music", "exported"),
    [
        ("local_stream://centrex/127.0.0.1/jazz", True),
        ("local_stream://x,hangup", False),
        ("/etc/passwd", False),
    ],
)
def test_a_member_rung_through_their_call_handling_puts_calls_on_the_group_s_music(
    client, with_groups, music, exported
):
    root = dialplan(client, "1000", centrex_via_group="300", centrex_group_hold_music=music)
    first = actions(root)[0]
    assert (first == ("export", f"nolocal:hold_music={music}")) is exported
    # Without the group marker the variable means nothing.
    plain = actions(dialplan(client, "1000", centrex_group_hold_music=music))
    assert ("export", f"nolocal:hold_music={music}") not in plain


def test_a_member_s_caller_lists_recognise_the_colleague_who_called_the_group(client, engine):
    raw = demo_document(groups=GROUPS)
    # 1000 rejects calls from 1002, but not from others.
    raw["users"][0]["call_handling"] = {"selective": {"reject": {"extensions": ["1002"]}}}
    apply_raw(engine, raw)

    def member_leg(group_caller: str | None) -> list:
        variables = {"centrex_via_group": "300"}
        if group_caller:
            variables["centrex_group_caller"] = group_caller
        return actions(dialplan(client, "1000", **variables))

    assert member_leg("1002")[-1] == ("hangup", "CALL_REJECTED")
    assert ("bridge", "user/1000@127.0.0.1") in member_leg("1001")
    # Without the group marker the variable means nothing.
    plain = actions(dialplan(client, "1000", centrex_group_caller="1002"))
    assert ("bridge", "user/1000@127.0.0.1") in plain
