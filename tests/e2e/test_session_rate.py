"""switch.conf.xml's `sessions-per-second` on a real FreeSWITCH: a burst of calls in one
second is taken whole, and the limit counts new calls only: the legs a call that was let
in rings are exempt (`no_throttle_limits`, exported before every bridge), so a call is
refused at its INVITE or not at all, never after it was routed. With the former 30,
counting both legs, a burst of 30 calls met 7 "Throttle Error"s and failed calls."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from tests.e2e import sipp
from tests.e2e.conftest import CREDENTIALS, DOMAIN, Centrex, Node, free_port, running_freeswitch
from tests.e2e.test_freeswitch import PASSWORDS, register, unregister
from tests.stack import running_stack
from tests.unit.test_freeswitch_conf import parse

pytestmark = pytest.mark.e2e

BURST = 30  # calls placed within one second


@pytest.fixture(scope="module")
def node(centrex: Centrex, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    settings = {
        "xmlcurl_credentials": CREDENTIALS,
        "media_dir": centrex.settings.media_dir,
        # What is measured here is FreeSWITCH's own limit, not Centrex's turning calls
        # away when this shared test machine is slow (tests/e2e/test_overload.py).
        "call_wait_limit": "900",
    }
    with ExitStack() as stack:
        server = stack.enter_context(running_stack(centrex.settings.database_url, **settings))
        url = f"http://127.0.0.1:{server.switch_port}"
        yield stack.enter_context(running_freeswitch(tmp_path_factory.mktemp("fsrate"), [url]))


def test_the_shipped_limits_are_the_ones_sized_in_the_readme():
    params = {
        p.get("name"): p.get("value")
        for p in parse("autoload_configs/switch.conf.xml").iter("param")
    }
    # New calls only are counted (FreeSWITCH lets one fewer through than the limit),
    # so the burst below would lose the legs to the phone if they were not exempt.
    assert BURST + 1 <= int(params["sessions-per-second"]) < 2 * BURST
    assert int(params["max-sessions"]) >= 2 * BURST


def test_a_burst_of_calls_in_one_second_is_taken_whole(node: Node):
    work = node.workdir
    port = free_port(socket.SOCK_DGRAM)
    phone_argv = sipp.command(sipp.phone(200), work, "phone-burst", node.remote, port=port)
    phone_argv[phone_argv.index("-m") + 1] = str(BURST)
    phone = subprocess.Popen(phone_argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert register(node, "1000", port).returncode == 0
        node.wait_for(
            f"sofia_contact */1000@{DOMAIN}", lambda out: out.strip().endswith(f":{port}")
        )
        argv = sipp.command(
            sipp.call("1001", DOMAIN, "1000", expect=200, talk_ms=2000),
            work,
            "burst",
            node.remote,
            port=free_port(socket.SOCK_DGRAM),
            user="1001",
            password=PASSWORDS["1001"],
            timeout=60,
        )
        argv[argv.index("-m") + 1] = str(BURST)
        argv += ["-r", str(BURST), "-rp", "1000", "-l", str(BURST)]
        result = sipp.run(argv, timeout=90)
    finally:
        phone.terminate()
        phone.wait(timeout=10)
    log = (work / "log" / "freeswitch.log").read_text(errors="replace")
    assert "Throttle Error" not in log
    assert result.returncode == 0, result.stdout.decode(errors="replace")[-3000:]
    unregister(node, "1000")
