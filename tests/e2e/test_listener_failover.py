"""Two `centrex esl` on one real FreeSWITCH: one follows it, the other takes over within
5 s when the first is killed in the middle of a call, and finds what happened meanwhile
(a phone that registered, the call still up) in the node's listing. On the embedded
SQLite database a second listener refuses to start.

The listeners share a throw-away PostgreSQL server of this test's own (the session's
Centrex server, which FreeSWITCH fetches from, stays on SQLite: both hold the demo
tenant).
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from centrex.db import make_engine, upgrade
from provisioning.models import LineState, Registration, User
from tests import postgres_server
from tests.conftest import apply_raw, demo_document
from tests.e2e import sipp
from tests.e2e.conftest import (
    DOMAIN,
    Centrex,
    Node,
    demo_with_trunk,
    free_port,
    spawn_listener,
    stop,
)
from tests.e2e.test_freeswitch import PASSWORDS, phone, register, unregister
from tests.waiting import until

pytestmark = pytest.mark.e2e


@pytest.fixture
def postgres() -> Iterator[Engine]:
    if not postgres_server.installed():
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with postgres_server.throwaway_server() as server:
        engine = make_engine(server.url)
        upgrade(engine)
        apply_raw(engine, demo_document(DOMAIN))
        yield engine
        engine.dispose()


@pytest.fixture
def demo_tenant(centrex: Centrex) -> None:
    """The session's Centrex, which FreeSWITCH routes the calls by, holds the plain demo
    tenant (with its trunk): a forward an earlier test left on 1000 would take the call
    away from the phone this test watches."""
    apply_raw(centrex.engine, demo_with_trunk())


def start_listener(database_url: str, freeswitch: Node, log: Path) -> subprocess.Popen[bytes]:
    return spawn_listener(database_url, [freeswitch], log)[0]


def following(log: Path) -> bool:
    return "following 127.0.0.1:" in log.read_text()


def line(engine: Engine, extension: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(LineState).join(User).where(User.extension == extension)).first()


def registered_in(engine: Engine, extension: str, contact_port: int | None = None) -> bool:
    """A registration of the line (from the phone at `contact_port`, when given: an
    earlier test may have left another phone of the line registered)."""
    query = select(Registration.call_id).join(User).where(User.extension == extension)
    if contact_port is not None:
        query = query.where(Registration.contact.contains(f":{contact_port}"))
    with engine.connect() as conn:
        return bool(conn.scalar(query))


def long_call(node: Node, caller: str, destination: str, talk_ms: int) -> subprocess.Popen[bytes]:
    argv = sipp.command(
        sipp.call(caller, DOMAIN, destination, expect=200, talk_ms=talk_ms),
        node.workdir,
        f"failover-call-{caller}-{destination}",
        node.remote,
        port=free_port(socket.SOCK_DGRAM),
        user=caller,
        password=PASSWORDS[caller],
        timeout=60,
    )
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_the_stand_by_listener_takes_the_node_over_within_5_s_of_a_kill_mid_call(
    demo_tenant: None, freeswitch: Node, postgres: Engine, tmp_path: Path
):
    url = postgres.url.render_as_string(hide_password=False)
    logs = [tmp_path / "esl-a.log", tmp_path / "esl-b.log"]
    first = start_listener(url, freeswitch, logs[0])
    second: subprocess.Popen[bytes] | None = None
    uas = None
    try:
        until(lambda: following(logs[0]))
        second = start_listener(url, freeswitch, logs[1])
        until(lambda: "live API on" in logs[1].read_text(), timeout=30)
        uas = phone(freeswitch, "1000", 200)
        until(lambda: registered_in(postgres, "1000"))
        talking = long_call(freeswitch, "1001", "1000", talk_ms=8000)
        until(lambda: (s := line(postgres, "1000")) and s.active_calls >= 1)
        assert not following(logs[1]) and second.poll() is None  # the stand-by waits

        first.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        first.wait(10)
        # A phone registers while nobody listens: only the node's listing can tell.
        contact_port = free_port(socket.SOCK_DGRAM)
        assert register(freeswitch, "1002", contact_port).returncode == 0
        try:
            until(lambda: registered_in(postgres, "1002", contact_port), timeout=10, step=0.01)
        except AssertionError:
            raise AssertionError(logs[1].read_text()[-3000:]) from None
        takeover = time.monotonic() - killed
        print(f"\ntakeover measured on FreeSWITCH: {takeover:.2f} s")
        assert takeover <= 5.0
        assert following(logs[1])
        # The call that was up across the kill is still known, and its end is followed.
        caller, callee = line(postgres, "1001"), line(postgres, "1000")
        assert caller.active_calls >= 1 and callee.active_calls >= 1
        assert talking.wait(60) == 0
        until(lambda: line(postgres, "1000").active_calls == 0)
        until(lambda: line(postgres, "1001").active_calls == 0)
        assert line(postgres, "1000").registered and line(postgres, "1002").registered
    finally:
        stop(first)
        if second is not None:
            stop(second)
        if uas is not None:
            uas.kill()
            uas.wait()
        unregister(freeswitch, "1000")
        unregister(freeswitch, "1002")


def test_on_sqlite_a_second_listener_refuses_to_start(
    centrex: Centrex, freeswitch: Node, tmp_path: Path
):
    url = centrex.settings.database_url
    logs = [tmp_path / "esl-a.log", tmp_path / "esl-b.log"]
    first = start_listener(url, freeswitch, logs[0])
    try:
        until(lambda: following(logs[0]))
        second = start_listener(url, freeswitch, logs[1])
        assert second.wait(30) == 1
        said = logs[1].read_text()
        assert f"another centrex esl (pid {first.pid})" in said
        assert "on SQLite only one listener may run" in said
        assert first.poll() is None
    finally:
        stop(first)
