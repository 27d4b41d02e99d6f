"""A node's listing against the events that cross it: a leg that ends while the node is
listed, or that the node's channels table still shows after its end, is not brought back
by the listing. Registrations are listed from sofia: every phone of a line, only the
node's own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from centrex.config import Settings
from esl.listener import Listener
from provisioning.models import Channel, Registration
from tests.conftest import apply_raw, demo_document
from tests.fakes.freeswitch import FakeFreeSWITCH
from tests.integration.test_listener import DOMAIN, in_thread, line, node, settled, until

PASSWORD = "s3cret"


@pytest.fixture
def fake() -> Iterator[FakeFreeSWITCH]:
    with FakeFreeSWITCH(PASSWORD) as server:
        yield server


def listener_on(engine, fake: FakeFreeSWITCH) -> Listener:
    apply_raw(engine, demo_document())
    settings = Settings(esl_nodes=(f"127.0.0.1:{fake.port}",), esl_password=PASSWORD)
    listener = Listener(
        settings, engine, timeout=1.0, backoff=(0.02, 0.1), keys_every=3600, expire_every=3600
    )
    listener.start()
    return listener


def legs(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.scalars(select(Channel.uuid)))


def test_a_leg_that_ends_while_the_node_is_listed_stays_ended(engine, fake):
    # 1001's phone calls: its leg is in `show channels`; the listener then asks whose
    # it is, and the call ends right then, its events sent before the answer.
    uuid = fake.create_channel(
        direction="inbound",
        caller="1001",
        destination="1000",
        variables={"user_name": "1001", "domain_name": DOMAIN},
    )
    fake.answer_channel(uuid)

    def owner(command: str) -> str:
        if command.endswith(" user_name"):
            fake.hangup_channel(uuid)
            return "1001"
        return DOMAIN

    fake.on_api("uuid_getvar", owner)
    listener = listener_on(engine, fake)
    try:
        until(lambda: settled(listener) and not fake.channels)
        until(lambda: (state := line(engine, "1001")) is not None and state.last_call_end)
        assert legs(engine) == set() and line(engine, "1001").active_calls == 0
    finally:
        listener.stop()


def test_a_leg_the_channels_table_still_shows_after_its_end_is_not_brought_back(engine, fake):
    listener = listener_on(engine, fake)
    try:
        until(lambda: settled(listener))
        uuid = fake.create_channel(
            direction="outbound",
            caller="1001",
            destination="1000",
            variables={"dialed_user": "1000", "dialed_domain": DOMAIN},
        )
        until(lambda: uuid in legs(engine))
        row = dict(fake.channels[0])
        fake.hangup_channel(uuid)
        until(lambda: uuid not in legs(engine))
        # FreeSWITCH deletes the row through its SQL queue: a listing may still show it.
        fake.channels.append(row)
        connections = node(listener).connections
        in_thread(fake.disconnect)
        until(lambda: node(listener).connections > connections)
        # Known only from the new session (its listing, or an event written after it).
        fake.register("1002", call_id="since-the-reconnect")
        until(lambda: line(engine, "1002") is not None and line(engine, "1002").registered)
        assert legs(engine) == set() and line(engine, "1000").active_calls == 0
    finally:
        listener.stop()


def test_a_phone_that_unregisters_while_the_node_is_listed_stays_unregistered(engine, fake):
    fake.register("1002", call_id="leaving")
    fake.create_channel(
        direction="inbound",
        caller="1001",
        destination="1000",
        variables={"user_name": "1001", "domain_name": DOMAIN},
    )

    def owner(command: str) -> str:
        # The registrations were listed; while the calls are, the phone leaves.
        if command.endswith(" user_name") and fake.registrations:
            fake.unregister("1002")
        return "1001" if command.endswith(" user_name") else DOMAIN

    fake.on_api("uuid_getvar", owner)
    listener = listener_on(engine, fake)
    try:
        until(lambda: settled(listener) and not fake.registrations)
        fake.register("1001", call_id="after-the-listing")
        until(lambda: line(engine, "1001") is not None and line(engine, "1001").registered)
        assert not line(engine, "1002").registered
        with engine.connect() as conn:
            assert set(conn.scalars(select(Registration.call_id))) == {"after-the-listing"}
    finally:
        listener.stop()


def registrations(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.scalars(select(Registration.call_id)))


def test_every_phone_of_a_line_is_listed_and_no_other_node_s(engine, fake):
    # Before the listener connects: two phones of 1000 (their events went to nobody),
    # and a phone of 1002 on another node whose sofia profile shares this one's database.
    fake.register("1000", call_id="desk", network_port="5062")
    fake.register("1000", call_id="softphone", network_port="5064")
    elsewhere = fake.registration_row("1002", call_id="on-fs2")
    fake.registrations.append({**elsewhere, "hostname": "fs2"})
    listener = listener_on(engine, fake)
    try:
        until(lambda: settled(listener))
        assert registrations(engine) == {"desk", "softphone"}
        assert line(engine, "1000").registered
        elsewhere = line(engine, "1002")
        assert elsewhere is None or not elsewhere.registered
    finally:
        listener.stop()
