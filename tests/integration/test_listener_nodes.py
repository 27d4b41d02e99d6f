"""One listener, three nodes: a call's line states reach the other nodes' phones, sent
without waiting for replies, and the events of every node queued together are written
in one transaction."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import MappingProxyType

import pytest
from sqlalchemy import event

from centrex.config import Settings
from esl.events import Event
from esl.listener import Listener, _Received
from tests.conftest import apply_raw, demo_document
from tests.fakes.freeswitch import FakeFreeSWITCH
from tests.integration.test_listener import DOMAIN, in_thread, line, phone_call, until


@pytest.fixture
def fakes() -> Iterator[list[FakeFreeSWITCH]]:
    servers = [FakeFreeSWITCH("s3cret") for _ in range(3)]
    for server in servers:
        server.start()
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def listener(engine, fakes) -> Iterator[Listener]:
    apply_raw(engine, demo_document())
    settings = Settings(
        esl_nodes=tuple(f"127.0.0.1:{fake.port}" for fake in fakes), esl_password="s3cret"
    )
    listener = Listener(
        settings, engine, timeout=1.0, backoff=(0.02, 0.1), keys_every=3600, expire_every=3600
    )
    listener.start()
    until(lambda: len(listener.connected()) == 3 and listener.idle())
    yield listener
    listener.stop()


def line_events(fake: FakeFreeSWITCH, address: str) -> list[str]:
    return [
        c.header("answer-state")
        for c in fake.commands
        if c.name == "sendevent" and c.header("from") == address
    ]


def test_a_call_on_one_node_lights_its_lines_on_the_others_only(engine, fakes, listener):
    first, second, third = fakes
    a_leg, b_leg = phone_call(first, "1001", "1000")
    until(lambda: (s := line(engine, "1000")) and s.ringing_calls == 1)
    callee = f"1000@{DOMAIN}"
    for other in (second, third):
        in_thread(other.wait_for_commands, lambda c: c.header("from") == callee, 1, 3)
        assert line_events(other, callee)[-1] == "early"
    first.answer_channel(b_leg)
    first.answer_channel(a_leg)
    first.hangup_channel(b_leg)
    first.hangup_channel(a_leg)
    until(lambda: line(engine, "1000").active_calls == 0)
    for other in (second, third):
        until(lambda other=other: line_events(other, callee)[-1:] == ["terminated"])
    # The node where the call is lights its phones' keys itself.
    assert line_events(first, callee) == []


def test_events_of_several_nodes_taken_together_are_one_transaction(engine):
    apply_raw(engine, demo_document())
    nodes = ("10.0.0.1:8021", "10.0.0.2:8021", "10.0.0.3:8021")
    listener = Listener(Settings(esl_nodes=nodes, esl_password="x"), engine)
    listener.held.update(nodes)
    batch = []
    for number, (node, (caller, callee)) in enumerate(
        zip(nodes, [("1001", "1000"), ("1000", "1002"), ("1002", "1001")], strict=True)
    ):
        for uuid, direction, owner in [
            (f"a{number}", "inbound", {"variable_user_name": caller}),
            (f"b{number}", "outbound", {"variable_dialed_user": callee}),
        ]:
            headers = {
                "Event-Name": "CHANNEL_CREATE",
                "Unique-ID": uuid,
                "Call-Direction": direction,
                "Answer-State": "answered",
                "variable_domain_name": DOMAIN,
                "variable_dialed_domain": DOMAIN,
                **owner,
            }
            batch.append(_Received(node, Event(MappingProxyType(headers)), time.monotonic()))
    begun: list[object] = []

    def began(conn: object) -> None:
        begun.append(conn)

    event.listen(listener.store.engine, "begin", began)
    try:
        listener._process(batch)
    finally:
        event.remove(listener.store.engine, "begin", began)
    assert len(begun) == 1
    assert listener.stats.events == 6
    for extension in ("1000", "1001", "1002"):
        assert line(engine, extension).active_calls == 2
