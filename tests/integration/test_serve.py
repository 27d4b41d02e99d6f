"""`centrex serve`, the real server stack: FreeSWITCH's fetches are answered whatever
people, slow clients and the database do.

The server runs as a subprocess on free loopback ports (tests/stack.py); a frozen
database is a throw-away PostgreSQL server stopped dead with SIGSTOP (its kernel still
acknowledges every byte, as a hung host's does).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest

from centrex.db import make_engine, make_session_factory, upgrade
from provisioning import service
from tests import postgres_server
from tests.conftest import apply_raw, basic_auth, demo_document
from tests.stack import running_stack

# Generous bounds: the machine may be busy; a fetch stuck behind a client takes 30 s.
PROMPT = 2.0
BRIDGE = ("bridge", "user/1000@127.0.0.1")
UNAVAILABLE = [("hangup", "NORMAL_TEMPORARY_FAILURE")]


@contextmanager
def connections(port: int, count: int, first_bytes: bytes = b"") -> Iterator[list[socket.socket]]:
    """`count` connections that send `first_bytes` (maybe nothing) and then nothing more."""
    opened = []
    try:
        for _ in range(count):
            conn = socket.create_connection(("127.0.0.1", port), timeout=5)
            if first_bytes:
                conn.sendall(first_bytes)
            opened.append(conn)
        yield opened
    finally:
        for conn in opened:
            conn.close()


def partial_headers(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: centrex\r\nUser-Agent: slow".encode()


def body_never_sent(path: str, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: centrex", "Content-Length: 4096"]
    lines += ["Content-Type: application/x-www-form-urlencoded"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def closed_by_server(conn: socket.socket, within: float) -> bool:
    """Whether the server closes the connection (after any answer) within `within` s."""
    conn.settimeout(within)
    try:
        while conn.recv(4096):
            pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        return False
    return True


def test_fetches_never_wait_behind_idle_or_slow_clients(database_url, demo_tenant):
    with running_stack(database_url, read_timeout="300") as stack, ExitStack() as held:
        people, switch = stack.people_port, stack.switch_port
        assert BRIDGE in stack.fetch_dialplan().actions()
        # 200 on the people's side: idle, partial headers, a log-in whose body never comes.
        held.enter_context(connections(people, 100))
        held.enter_context(connections(people, 50, partial_headers("/panel/login")))
        held.enter_context(connections(people, 50, body_never_sent("/panel/login")))
        # And on FreeSWITCH's own side, more than it has workers.
        held.enter_context(connections(switch, 20))
        stalled = held.enter_context(connections(switch, 2, partial_headers("/xmlcurl")))
        stalled += held.enter_context(
            connections(switch, 1, body_never_sent("/xmlcurl", basic_auth()))
        )
        for _ in range(5):
            answer = stack.fetch_dialplan()
            assert answer.seconds < PROMPT and BRIDGE in answer.actions()
        # People are served meanwhile too, and FreeSWITCH's side let the silent go.
        assert stack.request(people, "GET", "/panel/login").status == 200
        assert all(closed_by_server(conn, within=5) for conn in stalled)


@pytest.fixture
def frozen_postgres(database_url: str) -> Iterator[postgres_server.Server]:
    """A throw-away PostgreSQL server of this test's own, with the demo tenant."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: runs in the suite's PostgreSQL run (make test)")
    with postgres_server.throwaway_server() as server:
        engine = make_engine(server.url)
        upgrade(engine)
        apply_raw(engine, demo_document())
        engine.dispose()
        yield server


def test_a_frozen_database_gets_fallbacks_and_503s_at_once_then_routing_recovers(
    frozen_postgres,
):
    engine = make_engine(frozen_postgres.url)
    with make_session_factory(engine).begin() as session:
        token = service.create_token(session, "frozen", None)
    engine.dispose()
    with running_stack(frozen_postgres.url, database_timeout="1000") as stack:
        for _ in range(4):  # each worker has a kept connection
            assert BRIDGE in stack.fetch_dialplan().actions()
        assert stack.post_cdr().status == 200
        assert stack.api("/tenants", token).status == 200
        with frozen_postgres.stopped_dead():
            # Kept connections, then fresh ones that never get the server's greeting.
            for _ in range(4):
                answer = stack.fetch_dialplan()
                assert answer.actions() == UNAVAILABLE and answer.seconds < 1.5
            refused = stack.post_cdr()
            assert (refused.status, refused.body) == (503, b"database unavailable, try again\n")
            assert refused.seconds < 1.5
            api = stack.api("/tenants", token)
            assert api.status == 503 and b"database is unavailable" in api.body
            assert api.seconds < 5  # one silent round trip, then a connection attempt
        recovered = time.monotonic() + 10
        while BRIDGE not in stack.fetch_dialplan().actions():
            assert time.monotonic() < recovered, "routing did not recover"
        assert stack.post_cdr().status == 200
        assert stack.api("/tenants", token).status == 200


def _switches_of(group: int) -> int:
    """Voluntary context switches of the process group's processes so far: how often
    they went to sleep (Linux)."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.getpgid(int(pid)) != group:
                continue
            with open(f"/proc/{pid}/status") as status:
                total += sum(
                    int(line.split()[1])
                    for line in status
                    if line.startswith("voluntary_ctxt_switches")
                )
        except (OSError, ProcessLookupError):
            continue  # gone meanwhile
    return total


def test_a_connection_wakes_one_idle_worker_not_all_of_them(database_url, demo_tenant):
    """Four idle switch-side workers: each request wakes the one that serves it (about
    two sleeps: waiting for a connection, then for the next), not the other three too
    (a select() on the shared socket wakes them all: five and more per request)."""
    with running_stack(database_url, workers="4") as stack:
        group = stack.process_group()
        stack.request(stack.switch_port, "GET", "/healthz")
        time.sleep(0.5)  # every worker idle
        requests = 200
        before = _switches_of(group)
        for _ in range(requests):
            assert stack.request(stack.switch_port, "GET", "/healthz").status == 200
        per_request = (_switches_of(group) - before) / requests
        assert per_request < 3.5, f"{per_request:.1f} wake-ups per request"


def test_requests_the_switch_side_cannot_read_get_their_status_and_fetches_go_on(
    database_url, demo_tenant
):
    with running_stack(database_url, workers="1") as stack:
        too_large = b"POST /cdr HTTP/1.1\r\nHost: centrex\r\nContent-Length: 99999999\r\n\r\n"
        for data, status in ((b"GARBAGE\r\n\r\n", b"400"), (too_large, b"413")):
            with socket.create_connection(("127.0.0.1", stack.switch_port), timeout=5) as conn:
                conn.sendall(data)
                assert conn.recv(4096).split(b" ")[1] == status
            answer = stack.fetch_dialplan()
            assert answer.seconds < PROMPT and BRIDGE in answer.actions()
