"""Queues end to end in Centrex: callcenter.conf and a queue's dialplan fetched exactly
as FreeSWITCH 1.10.12 asks for them, and agents logging in and out over the API."""

import pytest
from lxml import etree

from provisioning import service
from tests.conftest import apply_raw, demo_document, post_fetch
from tests.fsrequests import fixture_fields, with_fields
from tests.integration.test_xmlcurl import actions, count_queries, dialplan, is_not_found, xml

DOMAIN = "127.0.0.1"
QUEUES = [
    {
        "name": "Sales",
        "extension": "500",
        "short_number": "250",
        "agents": ["1000", "1001"],
        "strategy": "simultaneous",
        "max_wait": 90,
        "overflow": {"voicemail": "1000"},
        "wrap_up": 20,
    },
    {"name": "Support", "extension": "501", "agents": ["1001"]},
]


@pytest.fixture
def queues(engine) -> dict:
    raw = demo_document()
    raw["queues"] = QUEUES
    apply_raw(engine, raw)
    return raw


@pytest.fixture
def token(session, queues) -> dict[str, str]:
    token = service.create_token(session, "tenant", DOMAIN)
    session.commit()
    return {"Authorization": f"Bearer {token}"}


def configuration(root: etree._Element) -> etree._Element:
    found = root.find("section/configuration")
    assert found.get("name") == "callcenter.conf"
    return found


def load_queue(client, name: str) -> etree._Element:
    fields = with_fields(
        fixture_fields("configuration-callcenter.conf-load_queue"), {"CC-Queue": name}
    )
    return xml(post_fetch(client, fields))


def test_the_whole_configuration_serves_every_queue_agent_and_tier(client, queues):
    conf = configuration(xml(post_fetch(client, fixture_fields("configuration-callcenter.conf"))))
    assert [q.get("name") for q in conf.iterfind("queues/queue")] == [
        "500@127.0.0.1",
        "501@127.0.0.1",
    ]
    sales = {p.get("name"): p.get("value") for p in conf.find("queues/queue").iter("param")}
    # max_wait is kept by the call's route; mod_callcenter's limit backs it up 3 s later.
    assert (sales["strategy"], sales["max-wait-time"]) == ("ring-all", "93")
    assert [a.get("name") for a in conf.iterfind("agents/agent")] == [
        "1000@127.0.0.1",
        "1001@127.0.0.1",
    ]
    tiers = [(t.get("agent"), t.get("queue")) for t in conf.iterfind("tiers/tier")]
    assert tiers == [
        ("1000@127.0.0.1", "500@127.0.0.1"),
        ("1001@127.0.0.1", "500@127.0.0.1"),
        ("1001@127.0.0.1", "501@127.0.0.1"),
    ]


def test_load_queue_serves_that_queue_its_agents_and_tiers_only(client, queues):
    conf = configuration(load_queue(client, "501@127.0.0.1"))
    assert [q.get("name") for q in conf.iterfind("queues/queue")] == ["501@127.0.0.1"]
    assert [a.get("name") for a in conf.iterfind("agents/agent")] == ["1001@127.0.0.1"]
    assert len(conf.findall("tiers/tier")) == 1


@pytest.mark.parametrize("name", ["support@default", "502@127.0.0.1", "500@other.example"])
def test_unknown_queues_are_not_found(client, queues, name):
    assert is_not_found(load_queue(client, name))


def test_the_configuration_costs_the_same_queries_whatever_the_queue_count(client, queues, engine):
    def fetch() -> None:
        post_fetch(client, fixture_fields("configuration-callcenter.conf"))

    few = count_queries(engine, fetch)
    raw = demo_document()
    raw["queues"] = [
        {"name": f"Q{n}", "extension": str(600 + n), "agents": ["1000", "1002"]} for n in range(30)
    ]
    apply_raw(engine, raw)
    assert count_queries(engine, fetch) == few == 2


CALLER = "dc9efcfa-87a2-42d2-af36-bdc724a5d117"  # the fixture's Unique-ID


def test_a_call_to_the_queue_waits_then_overflows(client, queues):
    for dialled in ("500", "250"):
        assert actions(dialplan(client, dialled)) == [
            ("answer", None),
            ("set", "hangup_after_bridge=true"),
            ("set", "hold_music=local_stream://moh"),
            ("set", f"centrex_failover_for={dialled}"),
            ("set", "centrex_stage=queue_wait"),
            ("set", f"api_on_answer_centrex_cancel_wait=sched_del {CALLER}"),
            ("set", f"api_on_answer_centrex_clear_stage=uuid_setvar {CALLER} centrex_stage"),
            (
                "set",
                "cc_export_vars=api_on_answer_centrex_cancel_wait,api_on_answer_centrex_clear_stage",
            ),
            ("sched_transfer", f"+90 {dialled} XML 127.0.0.1"),
            ("callcenter", "500@127.0.0.1"),
            ("sched_cancel", None),
            ("unset", "centrex_failover_for"),
            ("unset", "centrex_stage"),
            ("answer", None),
            ("voicemail", "default 127.0.0.1 1000"),
        ]


def test_the_queue_s_scheduled_transfer_at_max_wait_is_its_overflow(client, queues):
    back = dialplan(client, "500", centrex_failover_for="500", centrex_stage="queue_wait")
    assert actions(back) == [
        ("unset", "centrex_failover_for"),
        ("unset", "centrex_stage"),
        ("answer", None),
        ("voicemail", "default 127.0.0.1 1000"),
    ]
    # The same markers for another number, or another stage, are not a wait that is over.
    assert ("callcenter", "500@127.0.0.1") in actions(
        dialplan(client, "500", centrex_failover_for="250", centrex_stage="queue_wait")
    )
    assert ("callcenter", "500@127.0.0.1") in actions(
        dialplan(client, "500", centrex_failover_for="500", centrex_stage="ring")
    )


def test_a_queue_call_costs_two_indexed_queries(client, queues, engine):
    assert count_queries(engine, lambda: dialplan(client, "501")) == 2
    # Calls to lines do not look for a queue.
    assert count_queries(engine, lambda: dialplan(client, "1001")) == 1


def test_renaming_a_queue_keeps_its_row_and_its_agents_logged_in_state(client, token):
    base = "/api/v1/tenants/127.0.0.1"
    client.post(base + "/queues/sales/agents/1000/logout", headers=token)
    raw = client.get(base, headers=token).json
    raw["queues"][0]["name"] = "Sales desk"
    answer = client.put(base, headers=token, json=raw)
    assert answer.status_code == 200, answer.json
    assert answer.json["updated"] == ["queue Sales desk"] and answer.json["deleted"] == []
    listed = client.get(base + "/queues", headers=token).json["queues"]
    assert (listed[0]["name"], listed[0]["extension"]) == ("Sales desk", "500")
    assert listed[0]["agents"][0]["logged_in"] is False


def test_agents_log_in_and_out_and_the_configuration_follows(client, token):
    base = "/api/v1/tenants/127.0.0.1/queues/sales/agents/1000"
    answer = client.post(base + "/logout", headers=token)
    assert answer.status_code == 200
    assert answer.json == {"queue": "Sales", "extension": "1000", "logged_in": False}
    listed = client.get("/api/v1/tenants/127.0.0.1/queues", headers=token).json["queues"]
    assert listed[0]["agents"][0] == {
        "extension": "1000",
        "name": "Reception",
        "logged_in": False,
        "paused": False,
    }
    assert listed[0]["agents_logged_in"] == 1
    conf = configuration(load_queue(client, "500@127.0.0.1"))
    agent = conf.find("agents/agent[@name='1000@127.0.0.1']")
    assert agent.get("status") == "Logged Out"
    assert [t.get("agent") for t in conf.iterfind("tiers/tier")] == ["1001@127.0.0.1"]

    assert client.post(base + "/login", headers=token).json["logged_in"] is True
    conf = configuration(load_queue(client, "500@127.0.0.1"))
    assert conf.find("agents/agent[@name='1000@127.0.0.1']").get("status") == "Available"


def test_login_of_unknown_queues_or_agents_is_404(client, token):
    base = "/api/v1/tenants/127.0.0.1/queues"
    assert client.post(f"{base}/nope/agents/1000/login", headers=token).status_code == 404
    assert client.post(f"{base}/Support/agents/1000/login", headers=token).status_code == 404
    other = "/api/v1/tenants/other.example/queues"
    assert client.get(other, headers=token).status_code == 404
