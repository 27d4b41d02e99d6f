"""Queue agents pushed to mod_callcenter, and queue statistics, on the fake FreeSWITCH."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from centrex.config import Settings
from esl.listener import Listener
from esl.queue_agents import QueueAgents
from provisioning import queue_agents
from tests.conftest import apply_raw, demo_document
from tests.fakes.freeswitch import FakeFreeSWITCH
from tests.integration.test_listener import DOMAIN, node, settled, until


@pytest.fixture
def fake() -> Iterator[FakeFreeSWITCH]:
    with FakeFreeSWITCH("s3cret") as server:
        yield server


@pytest.fixture
def listener(engine, fake: FakeFreeSWITCH) -> Iterator[Listener]:
    settings = Settings(esl_nodes=(f"127.0.0.1:{fake.port}",), esl_password="s3cret")
    listener = Listener(
        settings, engine, timeout=1.0, backoff=(0.02, 0.1), keys_every=3600, expire_every=3600
    )
    listener.start()
    yield listener
    listener.stop()


QUEUES = [
    {"name": "Sales", "extension": "500", "agents": ["1000", "1001"]},
    {"name": "Support", "extension": "501", "agents": ["1001"]},
]


def with_queues(engine) -> None:
    raw = demo_document()
    raw["queues"] = QUEUES
    apply_raw(engine, raw)


def callcenter(fake) -> list[str]:
    return [c.args for c in fake.commands if c.args.startswith("callcenter_config")]


def log_in(engine, queue: str, extension: str, on: bool) -> None:
    from centrex.db import make_session_factory

    with make_session_factory(engine).begin() as session:
        queue_agents.set_logged_in(session, DOMAIN, queue, extension, on)


def test_statuses_and_tiers_are_pushed_then_only_changes(engine, fake, listener):
    with_queues(engine)
    fake.on_api("callcenter_config", "+OK\n")
    until(lambda: settled(listener))
    push = QueueAgents()
    push(listener)
    assert callcenter(fake) == [
        "callcenter_config agent set status 1000@127.0.0.1 'Available'",
        "callcenter_config agent set status 1001@127.0.0.1 'Available'",
        "callcenter_config tier add 500@127.0.0.1 1000@127.0.0.1 1 1",
        "callcenter_config tier add 500@127.0.0.1 1001@127.0.0.1 1 2",
        "callcenter_config tier add 501@127.0.0.1 1001@127.0.0.1 1 1",
    ]
    push(listener)
    assert len(callcenter(fake)) == 5

    log_in(engine, "Sales", "1000", False)
    log_in(engine, "Sales", "1001", False)  # still in Support: stays available
    push(listener)
    assert callcenter(fake)[5:] == [
        "callcenter_config agent set status 1000@127.0.0.1 'Logged Out'",
        "callcenter_config tier del 500@127.0.0.1 1000@127.0.0.1",
        "callcenter_config tier del 500@127.0.0.1 1001@127.0.0.1",
    ]


def test_after_a_reconnect_everything_is_pushed_again(engine, fake, listener):
    with_queues(engine)
    log_in(engine, "Support", "1001", False)
    fake.on_api("callcenter_config", "+OK\n")
    until(lambda: settled(listener))
    push = QueueAgents()
    push(listener)
    first, before = node(listener).connections, len(callcenter(fake))
    fake.restart()
    until(lambda: node(listener).connections > first and settled(listener))
    push(listener)
    again = callcenter(fake)[before:]
    # Logged out of Support: its tier there is removed, whatever the node held.
    assert "callcenter_config tier del 501@127.0.0.1 1001@127.0.0.1" in again
    assert "callcenter_config agent set status 1000@127.0.0.1 'Available'" in again


def test_an_agent_unknown_to_the_node_is_loaded_first(engine, fake, listener):
    with_queues(engine)
    told: set[str] = set()

    def answer(command: str) -> str:
        agent = command.split()[4] if " set status " in command else ""
        if agent and agent not in told:
            told.add(agent)
            return "-ERR Agent not found!\n"
        return "+OK\n"

    fake.on_api("callcenter_config", answer)
    until(lambda: settled(listener))
    QueueAgents()(listener)
    assert callcenter(fake)[:3] == [
        "callcenter_config agent set status 1000@127.0.0.1 'Available'",
        "callcenter_config agent reload 1000@127.0.0.1",
        "callcenter_config agent set status 1000@127.0.0.1 'Available'",
    ]


MEMBERS_HEADER = (
    "queue|instance_id|uuid|session_uuid|cid_number|cid_name|system_epoch|joined_epoch|"
    "rejoined_epoch|bridge_epoch|abandoned_epoch|base_score|skill_score|serving_agent|"
    "serving_system|state|score"
)


def member(uuid: str, joined: int, state: str, name: str = "Bob") -> str:
    return (
        f"500@127.0.0.1|single_box|{uuid}|s-{uuid}|0612345678|{name}|{joined}|{joined}|0|0|0|0|0|"
        f"||{state}|10"
    )


def test_queue_statistics_read_mod_callcenters_members(engine, fake, listener):
    from esl.queue_stats import queue_statistics

    with_queues(engine)
    log_in(engine, "Sales", "1001", False)
    now = int(listener.clock().timestamp())
    output = "\n".join(
        [
            MEMBERS_HEADER,
            member("m1", now - 40, "Waiting", name="Eve|Mallory"),
            member("m2", now - 20, "Trying"),
            member("m3", now - 300, "Answered"),
            member("m4", now - 100, "Abandoned"),
            "+OK",
        ]
    )
    fake.on_api("callcenter_config queue list members 500@127.0.0.1", output + "\n")
    fake.on_api("callcenter_config queue list members 501@127.0.0.1", "+OK\n")
    until(lambda: settled(listener))
    with engine.connect() as conn:
        stats = queue_statistics(conn, DOMAIN, listener)
        again = queue_statistics(conn, DOMAIN, listener)
    sales, support = stats
    assert sales["name"] == "Sales" and sales["agents_logged_in"] == 1
    assert sales["callers_waiting"] == 2
    assert 29 <= sales["average_wait_seconds"] <= 32
    assert 40 <= sales["longest_wait_seconds"] <= 42
    assert (support["callers_waiting"], support["agents_logged_in"]) == (0, 1)
    # Asked once per queue: the second snapshot came from the cache (its waits are
    # counted again from the clock, which may have ticked a second meanwhile).
    asked = [c for c in fake.commands if "queue list members" in c.args]

    def counts(snapshot: list[dict]) -> list[dict]:
        return [{k: v for k, v in q.items() if not k.endswith("wait_seconds")} for q in snapshot]

    assert len(asked) == 2 and counts(again) == counts(stats)
