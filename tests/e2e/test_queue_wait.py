"""A queue's max_wait on a real FreeSWITCH: kept while an agent's phone rings (the
caller overflows at max_wait, not when the agent's ring ends), and never applied to a
call an agent answered in time.
"""

from __future__ import annotations

import socket
import subprocess
import time

import pytest

from tests.conftest import apply_raw, demo_document
from tests.e2e import sipp
from tests.e2e.conftest import DOMAIN, Centrex, Node, free_port, stop
from tests.e2e.test_freeswitch import PASSWORDS, phone, phone_saw, unregister

pytestmark = pytest.mark.e2e

QUEUE = "5300"
MAX_WAIT = 8
OVERFLOW_BOX = "1001"


def _voicemail_runs(node: Node) -> int:
    log = (node.workdir / "log" / "freeswitch.log").read_text()
    return log.count(f"voicemail(default {DOMAIN} {OVERFLOW_BOX})")


@pytest.fixture
def queue(centrex: Centrex, freeswitch: Node) -> str:
    """Queue 5300: agent 1000 (its phone rings 20 s per offer), max_wait 8 s, then
    1001's voicemail."""
    raw = demo_document(DOMAIN)
    raw["gateway"] = {"proxy": "127.0.0.1:5999", "username": "trunk"}
    raw["queues"] = [
        {
            "name": "Waiting",
            "extension": QUEUE,
            "agents": ["1000"],
            "max_wait": MAX_WAIT,
            "agent_rings": 4,
            "wrap_up": 0,
            "overflow": {"voicemail": OVERFLOW_BOX},
        }
    ]
    apply_raw(centrex.engine, raw)
    name = f"{QUEUE}@{DOMAIN}"
    assert freeswitch.api(f"callcenter_config queue load {name}").startswith("+OK")
    assert freeswitch.api(f"callcenter_config queue reload {name}").startswith("+OK")
    assert freeswitch.api(f"callcenter_config agent reload 1000@{DOMAIN}").startswith("+OK")
    return name


def _caller(node: Node, talk_ms: int, callee_hangs_up: bool) -> subprocess.Popen[bytes]:
    scenario = sipp.call(
        "1002", DOMAIN, QUEUE, expect=200, talk_ms=talk_ms, callee_hangs_up=callee_hangs_up
    )
    argv = sipp.command(
        scenario,
        node.workdir,
        f"call-1002-{QUEUE}-{talk_ms}",
        node.remote,
        port=free_port(socket.SOCK_DGRAM),
        user="1002",
        password=PASSWORDS["1002"],
        timeout=60,
    )
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_an_answered_queue_call_is_not_cut_at_max_wait(queue: str, freeswitch: Node):
    """The agent answers at once; the conversation goes on well past max_wait (the
    scheduled overflow was cancelled by the agent's answer) and ends when the caller
    hangs up."""
    agent = phone(freeswitch, "1000", 200)
    before = _voicemail_runs(freeswitch)
    caller = _caller(freeswitch, talk_ms=(MAX_WAIT + 5) * 1000, callee_hangs_up=False)
    try:
        time.sleep(MAX_WAIT + 2.5)
        # Past max_wait: still one bridged call, the caller and the agent.
        calls = freeswitch.api("show bridged_calls")
        assert "1 total." in calls and "1000" in calls, calls
        output, _ = caller.communicate(timeout=30)
        assert caller.returncode == 0, output.decode()[-2000:]
        assert phone_saw(freeswitch, agent, "phone-1000-200", "BYE sip:")
        assert _voicemail_runs(freeswitch) == before
    finally:
        stop(caller)
        stop(agent)
        unregister(freeswitch, "1000")


def test_a_caller_overflows_at_max_wait_while_the_agent_s_phone_rings(queue: str, freeswitch: Node):
    """The agent's phone rings without an answer (20 s per offer): at max_wait the
    offer is cancelled and the caller goes to the overflow, 1001's voicemail (which
    answers, and hangs up having no prompts to play)."""
    agent = phone(freeswitch, "1000", 0)
    before = _voicemail_runs(freeswitch)
    started = time.monotonic()
    caller = _caller(freeswitch, talk_ms=0, callee_hangs_up=True)
    try:
        deadline = started + 20
        while _voicemail_runs(freeswitch) == before:
            assert time.monotonic() < deadline, "the caller never reached the overflow"
            time.sleep(0.1)
        waited = time.monotonic() - started
        print(f"overflow reached after {waited:.1f} s")
        assert 7 <= waited <= 12, waited
        # The agent's phone was offered the call, and the offer was withdrawn.
        assert phone_saw(freeswitch, agent, "phone-1000-0", "CANCEL sip:")
        output, _ = caller.communicate(timeout=30)
        assert caller.returncode == 0, output.decode()[-2000:]
    finally:
        stop(caller)
        stop(agent)
        unregister(freeswitch, "1000")
