"""A phone that registers again under a new Call-ID (after a reboot, or its own
choice) replaces its registration: FreeSWITCH's tables keep one row for it and send no
event for the row replaced, so the live state must not keep the old one until it
expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from esl.handlers import LineRef, Registered
from esl.store import LiveStore
from provisioning.models import Registration

NODE = "fs1:8021"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=10)
LINE = LineRef("1000", "127.0.0.1")


def registered(call_id: str, ip: str = "10.0.0.5", port: int = 5060, node: str = NODE):
    return Registered(node, call_id, LINE, f"<sip:1000@{ip}:{port}>", "", ip, port, LATER)


def call_ids(engine) -> set[tuple[str, str]]:
    with engine.connect() as conn:
        return {
            (node, call_id)
            for node, call_id in conn.execute(select(Registration.node, Registration.call_id))
        }


def test_a_new_call_id_from_the_same_phone_replaces_the_old_one(engine, demo_tenant):
    store = LiveStore(engine)
    store.apply([registered("first")], NOW)
    (status,) = store.apply([registered("second")], NOW)
    assert call_ids(engine) == {(NODE, "second")} and status.registered


def test_within_one_batch_the_last_call_id_wins(engine, demo_tenant):
    LiveStore(engine).apply([registered("a"), registered("b")], NOW)
    assert call_ids(engine) == {(NODE, "b")}


def test_other_phones_of_the_line_and_other_nodes_are_kept(engine, demo_tenant):
    store = LiveStore(engine)
    store.apply([registered("desk"), registered("other-node", node="fs2:8021")], NOW)
    store.apply([registered("softphone", port=5062), registered("desk-again")], NOW)
    assert call_ids(engine) == {
        (NODE, "desk-again"),
        (NODE, "softphone"),
        ("fs2:8021", "other-node"),
    }


def test_a_registration_without_an_address_replaces_nothing(engine, demo_tenant):
    store = LiveStore(engine)
    store.apply([registered("x", ip="", port=0)], NOW)
    store.apply([registered("y", ip="", port=0)], NOW)
    assert call_ids(engine) == {(NODE, "x"), (NODE, "y")}
