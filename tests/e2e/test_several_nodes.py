"""Several nodes, set up as README "Running several nodes" says: two FreeSWITCH nodes
(freeswitch-conf/ with ports of their own), two `centrex serve` and two `centrex esl` on
one PostgreSQL database, one shared directory for tenant media and voicemail (its
messages and mod_voicemail's index). Checked on them: each phone is registered on its
own node and the listeners know where; a call between phones of one node rings; a phone
registered on the other node is not registered for this one, so the call takes the
callee's unreachable handling, its voicemail, and the message left through the first
node is in the box on the second, where its owner hears it; every process serves its
metrics; killing the listener that holds the nodes hands both to the other.

The node's sound prompts are stand-ins (silent files): the FreeSWITCH build of the test
machine has none, and mod_voicemail stops a deposit at a prompt it cannot play.
"""

from __future__ import annotations

import http.client
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import soundfile
from sqlalchemy import Engine, select

from centrex.db import make_engine, upgrade
from provisioning.models import Registration, User
from tests import postgres_server
from tests.conftest import apply_raw, demo_document
from tests.e2e import sipp
from tests.e2e.conftest import (
    CREDENTIALS,
    DOMAIN,
    Node,
    free_port,
    running_freeswitch,
    spawn_listener,
    stop,
)
from tests.e2e.test_freeswitch import PASSWORDS, phone, phone_saw, register, unregister
from tests.stack import Stack, running_stack
from tests.waiting import until

pytestmark = pytest.mark.e2e

METRICS_TOKEN = "several-nodes-metrics-token-of-32-chars-or-more"
PIN_1000 = "190852"
DTMF = Path("/usr/share/sip-tester")  # Debian's sip-tester: one RFC 2833 digit per file


@dataclass
class Listener:
    process: subprocess.Popen[bytes]
    log: Path
    metrics_port: int

    def follows(self, node: Node) -> bool:
        return f"following 127.0.0.1:{node.esl_port}\n" in self.log.read_text()


@dataclass
class Cluster:
    engine: Engine
    shared: Path
    servers: list[tuple[Stack, int]]  # each server and its metrics port
    nodes: list[Node]
    listeners: list[Listener]


def silent_prompts(node: Node) -> None:
    """The prompts voicemail's phrases play (lang/en/vm), as short silent files where
    the node reads its sounds (vars.xml's sound_prefix)."""
    phrases = (node.workdir / "conf" / "lang" / "en" / "vm" / "sounds.xml").read_text()
    names = set(re.findall(r'data="((?:voicemail|digits|ascii)/[^"$]+\.wav)"', phrases))
    states = ("new", "saved", "urgent", "urgent-new", "urgent-saved", "message", "messages")
    names |= {f"voicemail/vm-{state}.wav" for state in states}
    # What mod_say_en says numbers, spelled names and dates with.
    names |= {f"digits/{n}.wav" for n in range(100)} | {f"ascii/{c}.wav" for c in range(32, 127)}
    names |= {f"digits/h-{n}.wav" for n in [*range(1, 32), 10, 20, 30]}
    names |= {f"digits/{w}.wav" for w in ("hundred", "thousand", "million", "dot")}
    names |= {f"time/day-{d}.wav" for d in range(7)} | {f"time/mon-{m}.wav" for m in range(12)}
    words = ("a-m", "p-m", "at", "hour", "hours", "minute", "minutes", "oclock", "oh")
    names |= {f"time/{w}.wav" for w in (*words, "second", "seconds", "today", "yesterday")}
    prefix = node.workdir / "sounds" / "en" / "us" / "callie"
    for name in names:
        (prefix / name).parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(prefix / name, np.zeros(1600), 8000, subtype="PCM_16")


def start_listener(database_url: str, nodes: list[Node], log: Path) -> Listener:
    process, settings = spawn_listener(
        database_url, nodes, log, metrics_token=METRICS_TOKEN, esl_metrics_port=free_port()
    )
    return Listener(process, log, settings.esl_metrics_port)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not postgres_server.installed():
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    work = tmp_path_factory.mktemp("several-nodes")
    shared = work / "shared"
    voicemail = {
        "voicemail_storage_dir": str(shared / "voicemail"),
        "voicemail_db": str(shared / "voicemail" / "index.db"),
    }
    (shared / "voicemail").mkdir(parents=True)
    with ExitStack() as stack:
        database = stack.enter_context(postgres_server.throwaway_server())
        engine = make_engine(database.url)
        stack.callback(engine.dispose)
        upgrade(engine)
        raw = demo_document(DOMAIN)
        # A PIN without 7: sip-tester's recording of that digit (dtmf_2833_7.pcap) was
        # not taken as a digit by FreeSWITCH.
        raw["users"][0]["voicemail"]["pin"] = PIN_1000
        apply_raw(engine, raw)
        servers = []
        for _ in range(2):
            metrics_port = free_port()
            server = running_stack(
                database.url,
                xmlcurl_credentials=CREDENTIALS,
                media_dir=str(shared / "media"),
                metrics_token=METRICS_TOKEN,
                metrics_port=str(metrics_port),
            )
            servers.append((stack.enter_context(server), metrics_port))
        urls = [f"http://127.0.0.1:{s.switch_port}" for s, _ in servers]
        nodes = [
            # Each node asks its own server first.
            stack.enter_context(running_freeswitch(work / f"fs{n}", order, voicemail))
            for n, order in ((1, urls), (2, urls[::-1]))
        ]
        for node in nodes:
            silent_prompts(node)
        listeners = []
        for name in ("a", "b"):
            listener = start_listener(database.url, nodes, work / f"esl-{name}.log")
            stack.callback(stop, listener.process)
            listeners.append(listener)
            # The first one started holds both nodes; the second stands by.
            until(lambda log=listener.log: "live API on" in log.read_text(), timeout=60)
        until(lambda: all(listeners[0].follows(n) for n in nodes))
        yield Cluster(engine, shared, servers, nodes, listeners)


def registered_on(
    engine: Engine, extension: str, node: Node, contact_port: int | None = None
) -> bool:
    """A registration of the line on `node` (from the phone at `contact_port`, when
    given), as the listeners wrote it."""
    query = (
        select(Registration.call_id)
        .join(User)
        .where(User.extension == extension, Registration.node == f"127.0.0.1:{node.esl_port}")
    )
    if contact_port is not None:
        query = query.where(Registration.contact.contains(f":{contact_port}"))
    with engine.connect() as conn:
        return bool(conn.scalar(query))


def speaking_call(node: Node, caller: str, destination: str, speak_ms: int) -> None:
    """`caller` calls `destination` through `node` and, once answered, sends a tone for
    `speak_ms` (what voicemail records), then hangs up."""
    tone = node.workdir / "tone.wav"
    seconds = np.arange(8000 * (speak_ms // 1000 + 2)) / 8000
    soundfile.write(tone, 0.5 * np.sin(2 * np.pi * 440 * seconds), 8000, subtype="ULAW")
    scenario = sipp.call(caller, DOMAIN, destination, expect=200, talk_ms=speak_ms)
    pause = f'<pause milliseconds="{speak_ms}"/>'
    scenario = scenario.replace(
        pause, f'<nop><action><exec rtp_stream="{tone},1,0"/></action></nop>\n{pause}'
    )
    argv = sipp.command(
        scenario,
        node.workdir,
        f"speak-{caller}-{destination}",
        node.remote,
        port=free_port(socket.SOCK_DGRAM),
        user=caller,
        password=PASSWORDS[caller],
        timeout=60,
    )
    result = sipp.run(argv, timeout=90)
    assert result.returncode == 0, result.stdout.decode(errors="replace")[-2000:]


def listen_to_voicemail(node: Node, user: str, pin: str) -> None:
    """`user` dials *318 through `node`, types the PIN (RFC 2833) and listens."""
    scenario = sipp.call(user, DOMAIN, "*318", expect=200, talk_ms=20000)
    scenario = scenario.replace("RTP/AVP 0\n", "RTP/AVP 0 101\n").replace(
        "a=rtpmap:0 PCMU/8000\n",
        "a=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\n",
    )
    digits = "".join(
        f'<nop><action><exec play_pcap_audio="{DTMF}/dtmf_2833_{digit}.pcap"/></action></nop>\n'
        '<pause milliseconds="1000"/>\n'
        for digit in pin
    )
    scenario = scenario.replace(
        '<pause milliseconds="20000"/>',
        f'<pause milliseconds="2500"/>\n{digits}' + '<pause milliseconds="20000"/>',
    )
    argv = sipp.command(
        scenario,
        node.workdir,
        f"listen-{user}",
        node.remote,
        port=free_port(socket.SOCK_DGRAM),
        user=user,
        password=PASSWORDS[user],
        timeout=90,
    )
    result = sipp.run(argv, timeout=120)
    assert result.returncode == 0, result.stdout.decode(errors="replace")[-2000:]


def call(node: Node, caller: str, destination: str) -> subprocess.CompletedProcess[bytes]:
    argv = sipp.command(
        sipp.call(caller, DOMAIN, destination, expect=200),
        node.workdir,
        f"call-{caller}-{destination}",
        node.remote,
        port=free_port(socket.SOCK_DGRAM),
        user=caller,
        password=PASSWORDS[caller],
        timeout=60,
    )
    return sipp.run(argv, timeout=80)


def metrics(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        response = conn.getresponse()
        assert response.status == 200
        return response.read().decode()
    finally:
        conn.close()


def test_phones_call_on_their_node_and_voicemail_left_on_one_is_heard_on_the_other(
    cluster: Cluster,
):
    first, second = cluster.nodes
    callee_1002 = phone(first, "1002", 200)
    callee_1000 = phone(second, "1000", 200)
    try:
        # Each registration is known, with its node, whichever listener wrote it.
        until(lambda: registered_on(cluster.engine, "1002", first))
        until(lambda: registered_on(cluster.engine, "1000", second))

        # Phones of one node call each other.
        assert call(first, "1001", "1002").returncode == 0
        assert phone_saw(first, callee_1002, "phone-1002-200", "INVITE sip:1002@")

        # 1000's phone is on the second node: the first does not see it registered, and
        # the call takes 1000's unreachable handling, its voicemail, on the first node.
        assert first.api(f"sofia_contact */1000@{DOMAIN}").strip() == "error/user_not_registered"
        speaking_call(first, "1001", "1000", speak_ms=8000)
        box = cluster.shared / "voicemail" / DOMAIN / "1000"
        until(lambda: ":inbox:" in second.api(f"vm_list 1000@{DOMAIN}"), timeout=10)
        fields = second.api(f"vm_list 1000@{DOMAIN}").strip().splitlines()[0].split(":")
        # created:read:box:domain:folder:file:uuid:caller name:caller number:seconds
        assert fields[2:5] == ["1000", DOMAIN, "inbox"]
        assert Path(fields[5]).parent == box and Path(fields[5]).stat().st_size > 0
        assert fields[8] == "1001" and int(fields[9]) >= 3
        assert second.api(f"vm_boxcount 1000@{DOMAIN}").strip() == "1"
        assert first.api(f"vm_boxcount 1000@{DOMAIN}").strip() == "1"

        # 1000 hears it through the second node (its log names each file it plays).
        second.api("fsctl loglevel debug")
        listen_to_voicemail(second, "1000", PIN_1000)
        log = (second.workdir / "log" / "freeswitch.log").read_text(errors="replace")
        assert f"done playing file {fields[5]}" in log
    finally:
        stop(callee_1000)
        stop(callee_1002)
        unregister(second, "1000")
        unregister(first, "1002")


def test_every_server_and_listener_serves_its_metrics(cluster: Cluster):
    for _, port in cluster.servers:
        assert "centrex_xmlcurl_fetch_seconds_count" in metrics(port)
    for listener in cluster.listeners:
        assert "centrex_esl_nodes 2.0" in metrics(listener.metrics_port)
    holder = metrics(cluster.listeners[0].metrics_port)
    assert "centrex_esl_nodes_connected 2.0" in holder


def test_killing_the_listener_holding_the_nodes_hands_both_to_the_other(cluster: Cluster):
    holder, stand_by = cluster.listeners
    first, second = cluster.nodes
    assert all(holder.follows(n) for n in cluster.nodes)
    assert not any(stand_by.follows(n) for n in cluster.nodes)
    holder.process.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    holder.process.wait(10)
    until(lambda: all(stand_by.follows(n) for n in cluster.nodes), timeout=5)
    takeover = time.monotonic() - killed
    print(f"\nboth nodes followed by the other listener {takeover:.2f} s after the kill")
    # What happens on either node from then on is written by the new holder.
    for node, extension in ((first, "1001"), (second, "1002")):
        port = free_port(socket.SOCK_DGRAM)
        assert register(node, extension, port).returncode == 0
        until(partial(registered_on, cluster.engine, extension, node, port), timeout=10)
        unregister(node, extension)
