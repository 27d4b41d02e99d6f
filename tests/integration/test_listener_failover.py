"""Several `centrex esl`: one holds each FreeSWITCH node, another takes over when it dies.

Real `centrex esl` processes against the fake FreeSWITCH (real wire protocol, in this
process's threads). On PostgreSQL (the suite's PostgreSQL run) two listeners share the
node; the holder is killed with SIGKILL while calls go on, and the other must have
listed the node again within 5 s, leaving the live state and the call log exact. On
SQLite a second listener refuses to start, and a crashed one blocks nobody.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid as uuidlib
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from centrex.config import Settings, environment
from esl.holders import AnotherListener
from esl.listener import Listener
from provisioning.models import CallRecord, Channel, LineState, Registration, User
from tests.conftest import apply_raw, demo_document
from tests.fakes.freeswitch import FakeFreeSWITCH
from tests.postgres_server import free_port
from tests.unit.test_cdr import CALL1_A, cdr_xml, edited
from tests.waiting import until as _until

PASSWORD = "s3cret"
DOMAIN = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[2]
# `centrex esl` itself, importing the error directory every 0.3 s instead of every minute.
LISTENER = (
    "import sys, esl.service as s; s.CALL_RECORDS_EVERY = 0.3; "
    "from centrex.cli import main; sys.exit(main(['esl']))"
)


# This file's waits: 10 s unless told.
until = partial(_until, timeout=10.0)


@pytest.fixture
def fake() -> Iterator[FakeFreeSWITCH]:
    with FakeFreeSWITCH(PASSWORD) as server:
        yield server


class Listeners:
    """`centrex esl` processes on one database and one node, stopped at the end."""

    def __init__(self, database_url: str, fake: FakeFreeSWITCH, tmp: Path) -> None:
        self.tmp = tmp
        self.errors = tmp / "cdr-errors"
        self.errors.mkdir()
        settings = Settings(
            database_url=database_url,
            esl_nodes=(f"127.0.0.1:{fake.port}",),
            esl_password=PASSWORD,
            cdr_error_dir=str(self.errors),
            log_level="INFO",
        )
        self.env = {**os.environ, **environment(settings)}
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"esl-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-c", LISTENER],
            env={**self.env, "CENTREX_LIVE_PORT": str(free_port())},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def log(self, process: subprocess.Popen[bytes]) -> str:
        return (self.tmp / f"esl-{self.processes.index(process)}.log").read_text()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def listeners(engine: Engine, database_url: str, fake, tmp_path) -> Iterator[Listeners]:
    apply_raw(engine, demo_document())
    running = Listeners(database_url, fake, tmp_path)
    yield running
    running.stop()


def subscribed(fake: FakeFreeSWITCH) -> list[int]:
    """The connections that receive channel events: those of a listener holding the node."""
    return [c.id for c in fake.connections if c.authenticated and "CHANNEL_CREATE" in c.events]


def listed_since(fake: FakeFreeSWITCH, connection: int) -> bool:
    return any(
        c.connection == connection and c.line.startswith("api show channels") for c in fake.commands
    )


# --- SQLite: one listener only ---------------------------------------------------------------
def test_a_second_listener_on_sqlite_refuses_to_start_and_a_stopped_one_blocks_nobody(
    engine, database_url
):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's rule")
    settings = Settings(esl_nodes=("127.0.0.1:1",), esl_password="x")
    first = Listener(settings, engine, keys_every=3600, expire_every=3600)
    first.start()
    try:
        second = Listener(settings, engine)
        with pytest.raises(AnotherListener) as refused:
            second.start()
        message = str(refused.value)
        assert f"pid {os.getpid()}" in message and "only one listener" in message
        assert "PostgreSQL" in message
    finally:
        first.stop()
    again = Listener(settings, engine, keys_every=3600, expire_every=3600)
    again.start()
    again.stop()


def test_on_sqlite_centrex_esl_says_why_it_will_not_start_and_a_killed_one_blocks_nobody(
    engine, database_url, fake, listeners
):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's rule")
    first = listeners.start()
    until(lambda: subscribed(fake))
    second = listeners.start()
    assert second.wait(30) == 1
    said = listeners.log(second)
    assert f"another centrex esl (pid {first.pid})" in said
    assert "on SQLite only one listener may run" in said
    assert subscribed(fake) and first.poll() is None
    # A crash leaves the lock file behind, but not the lock.
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    third = listeners.start()
    until(lambda: subscribed(fake))
    assert third.poll() is None and "not started" not in listeners.log(third)


# --- PostgreSQL: two listeners, the holder killed mid-traffic ----------------------------------
class Traffic:
    """Calls between the demo users on the fake, each leaving its call record in the
    error directory as FreeSWITCH does when it cannot post it; a registration now and
    then."""

    def __init__(self, fake: FakeFreeSWITCH, errors: Path) -> None:
        self.fake, self.errors = fake, errors
        self.calls = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        users = ["1000", "1001", "1002"]
        while not self.stopped.is_set():
            caller, callee = users[self.calls % 3], users[(self.calls + 1) % 3]
            a_leg = self.fake.create_channel(
                direction="inbound",
                caller=caller,
                destination=callee,
                variables={"user_name": caller, "domain_name": DOMAIN},
            )
            b_leg = self.fake.create_channel(
                direction="outbound",
                caller=caller,
                destination=callee,
                variables={"dialed_user": callee, "dialed_domain": DOMAIN},
            )
            self.fake.answer_channel(b_leg)
            self.fake.answer_channel(a_leg)
            time.sleep(0.01)
            self.fake.hangup_channel(b_leg)
            self.fake.hangup_channel(a_leg)
            record = edited(cdr_xml(CALL1_A), variables={"uuid": str(uuidlib.uuid4())})
            path = self.errors / f"a_{uuidlib.uuid4()}.cdr.xml"
            path.with_suffix(".tmp").write_bytes(record)
            path.with_suffix(".tmp").rename(path)
            self.calls += 1
            if self.calls % 10 == 0:
                self.fake.register(users[self.calls % 2])  # 1002 is the test's
            time.sleep(0.01)

    def __enter__(self) -> Traffic:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopped.set()
        self.thread.join(10)


def live_state(engine: Engine) -> tuple[set[str], set[str]]:
    with engine.connect() as conn:
        channels = set(conn.scalars(select(Channel.uuid)))
        registrations = set(conn.scalars(select(Registration.call_id)))
    return channels, registrations


def switch_state(fake: FakeFreeSWITCH) -> tuple[set[str], set[str]]:
    return {c["uuid"] for c in fake.channels}, {r["token"] for r in fake.registrations}


def test_when_the_holder_is_killed_mid_traffic_the_other_takes_the_node_over_within_5_s(
    engine, database_url, fake, listeners
):
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: runs in the suite's PostgreSQL run (make test)")
    holder = listeners.start()
    (first,) = until(lambda: subscribed(fake))
    until(lambda: listed_since(fake, first))
    standby = listeners.start()
    until(lambda: "live API on" in listeners.log(standby), timeout=30)
    with Traffic(fake, listeners.errors) as traffic:
        until(lambda: traffic.calls >= 20)
        # Exactly one listener follows the node: the stand-by waits.
        time.sleep(1.5)
        assert subscribed(fake) == [first] and standby.poll() is None
        assert "following" not in listeners.log(standby)
        holder.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        holder.wait(10)
        # Registered while nobody listens: only the new holder's listing can know it.
        fake.register("1002", call_id="while-nobody-listened")
        (second,) = until(lambda: [c for c in subscribed(fake) if c != first])
        until(lambda: listed_since(fake, second), step=0.005)
        until(
            lambda: "while-nobody-listened" in live_state(engine)[1],
            timeout=10,
            step=0.005,
        )
        takeover = time.monotonic() - killed
        until(lambda: traffic.calls >= 40)
    assert takeover <= 5.0, f"took {takeover:.2f} s:\n{listeners.log(standby)[-3000:]}"
    print(f"\ntakeover measured: {takeover:.2f} s")
    assert subscribed(fake) == [second] and standby.poll() is None
    # The live state is what the node holds, no more, no less.
    try:
        until(lambda: live_state(engine) == switch_state(fake))
    except AssertionError:
        raise AssertionError(
            f"live state {live_state(engine)} != node's {switch_state(fake)}"
        ) from None
    with engine.connect() as conn:
        busy = conn.scalar(select(func.count()).where(LineState.active_calls > 0))
        registered = set(
            conn.scalars(select(User.extension).join(LineState).where(LineState.registered))
        )
    assert busy == 0 and registered == {r["reg_user"] for r in fake.registrations}
    # Every call record left in the error directory is in the call log once.
    until(lambda: not list(listeners.errors.glob("*.cdr.xml")))
    with engine.connect() as conn:
        entries = conn.execute(select(CallRecord.call_uuid, CallRecord.extension)).all()
    # Each record gives two entries: 1001 placed the call, 1000 missed it.
    assert len(entries) == len(set(entries)) == 2 * traffic.calls
    assert len({uuid for uuid, _ in entries}) == traffic.calls
    assert {extension for _, extension in entries} == {"1000", "1001"}
