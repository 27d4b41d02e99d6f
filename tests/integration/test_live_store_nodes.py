"""A stretch of several nodes' events is written with the statements of one node's: a
statement per table, whatever the number of nodes, and each node still learns the
lines its own changes touched."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from esl.handlers import ChannelGone, ChannelSeen, LineRef, Registered, Unregistered
from esl.store import LiveStore

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
DOMAIN = "127.0.0.1"


@contextmanager
def statements(engine) -> Iterator[Callable[[], int]]:
    run: list[str] = []

    def executed(conn, cursor, statement, parameters, context, executemany) -> None:
        run.append(statement)

    event.listen(engine, "before_cursor_execute", executed)
    try:
        yield lambda: len(run)
    finally:
        event.remove(engine, "before_cursor_execute", executed)


def stretch(node: str, caller: str, callee: str, tag: str):
    """A call set up, a phone registered and another gone, on one node."""
    return [
        ChannelSeen(node, f"a{tag}", LineRef(caller, DOMAIN), "inbound", False, False, "", "", NOW),
        ChannelSeen(
            node, f"b{tag}", LineRef(callee, DOMAIN), "outbound", False, False, "", "", NOW
        ),
        ChannelSeen(node, f"b{tag}", None, "outbound", True, False, "", "", NOW),
        Registered(
            node,
            f"call-{tag}",
            LineRef(caller, DOMAIN),
            f"sip:{caller}@10.0.0.{tag}",
            "phone",
            f"10.0.0.{tag}",
            5060,
            NOW + timedelta(hours=1),
        ),
        Unregistered(node, f"old-{tag}"),
    ]


def ended(node: str, tag: str):
    return [ChannelGone(node, f"a{tag}", NOW), ChannelGone(node, f"b{tag}", NOW)]


def counted_apply(store: LiveStore, by_node) -> tuple[int, list]:
    with statements(store.engine) as counted:
        written = store.apply_nodes(by_node, NOW)
        return counted(), written


def test_three_nodes_take_the_statements_of_one(engine, demo_tenant):
    store = LiveStore(engine)
    alone, _ = counted_apply(store, [("fs1:8021", stretch("fs1:8021", "1000", "1001", "1"))])
    alone_ended, _ = counted_apply(store, [("fs1:8021", ended("fs1:8021", "1"))])
    nodes = [
        ("fs1:8021", "1000", "1001"),
        ("fs2:8021", "1001", "1002"),
        ("fs3:8021", "1002", "1000"),
    ]
    together, written = counted_apply(
        store,
        [(node, stretch(node, a, b, str(n + 2))) for n, (node, a, b) in enumerate(nodes)],
    )
    together_ended, _ = counted_apply(
        store, [(node, ended(node, str(n + 2))) for n, (node, _, _) in enumerate(nodes)]
    )
    assert (together, together_ended) == (alone, alone_ended)
    # Each node is told the lines its own changes touched, in their state after all of
    # them: every line has two calls answered, one on each of two nodes.
    assert [
        (node, {s.line.extension: (s.active_calls, s.ringing_calls) for s in states})
        for node, states in written
    ] == [(node, {a: (2, 0), b: (2, 0)}) for node, a, b in nodes]


def test_a_stretch_reads_by_index_whatever_the_tenant_size(engine, demo_tenant):
    """No statement of a stretch scans a table: lines, registrations and legs are looked
    up by their keys (a row-value IN would scan every user on SQLite)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plans")
    run: list[tuple[str, tuple]] = []

    def executed(conn, cursor, statement, parameters, context, executemany) -> None:
        if not executemany:
            run.append((statement, parameters))

    store = LiveStore(engine)
    event.listen(engine, "before_cursor_execute", executed)
    try:
        store.apply_nodes([("fs1:8021", stretch("fs1:8021", "1000", "1001", "1"))], NOW)
        store.apply_nodes([("fs1:8021", ended("fs1:8021", "1"))], NOW)
    finally:
        event.remove(engine, "before_cursor_execute", executed)
    plans = []
    with engine.connect() as conn:
        for statement, parameters in run:
            if statement.lstrip().upper().startswith(("SELECT", "DELETE")):
                cursor = conn.connection.driver_connection.cursor()
                steps = [
                    r[3] for r in cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                ]
                plans.append((statement, steps))
    assert len(plans) >= 5
    for statement, steps in plans:
        scans = [s for s in steps if s.startswith("SCAN") and "CONSTANT ROW" not in s]
        assert not scans, (statement, steps)
