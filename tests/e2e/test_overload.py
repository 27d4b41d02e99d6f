"""Overload on a real FreeSWITCH (xmlcurl.overload): the only Centrex server stalls
(SIGSTOP) for 0.7 s while carriers' calls and phones' registrations arrive, so that
their fetches queue up in the kernel as they do behind busy workers. When it resumes,
the calls that waited past CENTREX_CALL_WAIT_LIMIT are turned away at once with 503
(NORMAL_TEMPORARY_FAILURE), and every registration with the right password is accepted:
none meets the static directory's 403."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e import sipp
from tests.e2e.conftest import (
    CREDENTIALS,
    DOMAIN,
    Centrex,
    Node,
    free_port,
    running_freeswitch,
)
from tests.e2e.test_freeswitch import PASSWORDS, registered, unregister
from tests.stack import running_stack

pytestmark = pytest.mark.e2e

STALL_S = 0.7
CARRIER_CALLS = 4
PHONES = ("1000", "1001", "1002")


@dataclass
class Single:
    node: Node
    group: int
    log: Path  # the server's output


@pytest.fixture(scope="module")
def one_server(centrex: Centrex, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Single]:
    """One server with one worker: a stall of it is a full queue."""
    settings = {
        "xmlcurl_credentials": CREDENTIALS,
        "media_dir": centrex.settings.media_dir,
        "workers": "1",
    }
    with ExitStack() as stack:
        server = stack.enter_context(running_stack(centrex.settings.database_url, **settings))
        url = f"http://127.0.0.1:{server.switch_port}"
        node = stack.enter_context(running_freeswitch(tmp_path_factory.mktemp("fs1"), [url]))
        try:
            yield Single(node, server.process_group(), server.log)
        finally:
            (node.workdir / "centrex.log").write_bytes(server.log.read_bytes())


def _turned_away_call(number: str, caller: str) -> str:
    """A carrier's call that expects the 503 of a call turned away, and acknowledges it."""
    text = sipp.carrier_call(number, caller, DOMAIN, hold_ms=0)
    head = text[: text.index('<recv response="200" rrs="true"/>')]
    ack = (
        "<send><![CDATA[\n"
        f"ACK sip:{number}@{DOMAIN} SIP/2.0\n"
        "[last_Via:]\n[last_From:]\n[last_To:]\n[last_Call-ID:]\n"
        "CSeq: 1 ACK\nMax-Forwards: 70\nContent-Length: 0\n\n]]></send>"
    )
    return head + '<recv response="503"/>\n' + ack + "\n</scenario>\n"


def test_a_stalled_server_turns_calls_away_and_lets_every_phone_in(one_server: Single):
    node = one_server.node
    work = node.workdir
    node.api(f"user_exists id 1000 {DOMAIN}")  # the worker has seen this switch: its floor
    os.killpg(one_server.group, signal.SIGSTOP)
    stalled = time.monotonic()
    try:
        calls = [
            subprocess.Popen(
                sipp.command(
                    _turned_away_call("+33184800100", f"+3361234567{n}"),
                    work,
                    f"carrier-{n}",
                    f"127.0.0.1:{node.external_port}",
                    port=free_port(socket.SOCK_DGRAM),
                ),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for n in range(CARRIER_CALLS)
        ]
        registrations = [
            subprocess.Popen(
                sipp.command(
                    sipp.register(user, DOMAIN, free_port(socket.SOCK_DGRAM)),
                    work,
                    f"register-{user}",
                    node.remote,
                    port=free_port(socket.SOCK_DGRAM),
                    user=user,
                    password=PASSWORDS[user],
                ),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for user in PHONES
        ]
        time.sleep(max(0.0, stalled + STALL_S - time.monotonic()))
    finally:
        os.killpg(one_server.group, signal.SIGCONT)
    for process in registrations:
        out, _ = process.communicate(timeout=30)
        assert process.returncode == 0, out.decode(errors="replace")[-2000:]
    for process in calls:
        out, _ = process.communicate(timeout=30)
        assert process.returncode == 0, out.decode(errors="replace")[-2000:]
    answered_within = time.monotonic() - stalled
    assert answered_within < STALL_S + 1.5  # turned away early, not after ringing
    log = (work / "log" / "freeswitch.log").read_text(errors="replace")
    assert "NORMAL_TEMPORARY_FAILURE" in log
    for user in PHONES:
        assert registered(node, user)
    # Only the calls were turned away; nothing was left unanswered.
    server_log = one_server.log.read_text(errors="replace")
    assert server_log.count("dialplan request waited") == CARRIER_CALLS, server_log[-3000:]
    assert "directory request waited" not in server_log
    for user in PHONES:
        unregister(node, user)
