"""Call setup through Centrex against the same call routed by static XML, on this
machine: how much later a phone's call reaches the callee's phone when FreeSWITCH
asks Centrex (the caller's directory entry for the digest, the dialplan; the callee's
phones are dialled without a `user/` lookup) than when it reads the same XML from its
own files.

Two FreeSWITCH nodes, configured alike from freeswitch-conf/: one fetches from
`centrex serve` (gunicorn, as in production), the other has mod_xml_curl without a
binding and, as static files, exactly the XML Centrex answered for that call (captured
with `xml_curl debug_on` on the first node). A registered SIPp phone 1000 answers;
SIPp 1001 calls it, one call at a time. Setup = from the caller's authenticated INVITE
leaving SIPp to the callee's INVITE arriving (both SIPp traces, one clock). Rounds
alternate between the nodes, so that the machine's other work weighs on both alike.

A check in the end-to-end tier (a handful of calls, both routes work and the numbers
come out); the measurement: `CENTREX_BENCH_CALLS=110 CENTREX_E2E=1 pytest -s
tests/e2e/test_call_setup.py` prints the table the README's "Call setup" section holds.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from lxml import etree

from tests.e2e import sipp
from tests.e2e.conftest import (
    CONF,
    CREDENTIALS,
    DOMAIN,
    ESL_PASSWORD,
    FREESWITCH,
    Centrex,
    Node,
    free_port,
    rtp_ports,
    stop,
)
from tests.e2e.test_freeswitch import PASSWORDS
from tests.stack import process_group

pytestmark = pytest.mark.e2e

CALLS = int(os.environ.get("CENTREX_BENCH_CALLS", "6"))
ROUNDS = 5 if CALLS >= 20 else 2
CALLER, CALLEE = "1001", "1000"
_STAMP = re.compile(r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)$")


@contextmanager
def centrex_serve(centrex: Centrex, work: Path) -> Iterator[str]:
    """`centrex serve` on the e2e database, as production runs it (gunicorn)."""
    port = free_port()
    env = {
        **os.environ,
        "CENTREX_DATABASE_URL": centrex.settings.database_url,
        "CENTREX_XMLCURL_CREDENTIALS": CREDENTIALS,
        "CENTREX_LOG_LEVEL": "WARNING",
        "CENTREX_HOST": "127.0.0.1",
        "CENTREX_PORT": str(port),
        "CENTREX_PANEL_PORT": str(free_port()),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    command = [str(Path(sys.executable).parent / "centrex"), "serve"]
    with process_group(command, env, work / "serve.log", [port]):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def node(name: str, work: Path, url: str, static: dict[str, str] | None = None) -> Iterator[Node]:
    """A FreeSWITCH node of freeswitch-conf/ asking `url`; with `static`, mod_xml_curl
    has no binding and these files are its directory and dialplan."""
    assert FREESWITCH is not None
    work = work / name
    conf = work / "conf"
    shutil.copytree(CONF, conf)
    internal = conf / "sip_profiles" / "internal.xml"
    internal.write_text(
        internal.read_text().replace(
            '"send-message-query-on-register" value="true"',
            '"send-message-query-on-register" value="false"',
        )
    )
    if static is not None:
        (conf / "autoload_configs" / "xml_curl.conf.xml").write_text(
            '<configuration name="xml_curl.conf"><bindings/></configuration>\n'
        )
        for path, text in static.items():
            (conf / path).write_text(text)
    result = Node(
        free_port(socket.SOCK_DGRAM),
        free_port(socket.SOCK_DGRAM),
        free_port(),
        work,
        FREESWITCH.parent / "fs_cli",
    )
    rtp = rtp_ports()
    settings = {
        "centrex_url": url,
        "centrex_xmlcurl_credentials": CREDENTIALS,
        "centrex_esl_password": ESL_PASSWORD,
        "centrex_esl_port": result.esl_port,
        "internal_sip_port": result.sip_port,
        "external_sip_port": result.external_port,
        "bind_ip": "127.0.0.1",
        "external_sip_ip": "127.0.0.1",
        "external_rtp_ip": "127.0.0.1",
        "rtp_start_port": rtp,
        "rtp_end_port": rtp + 2000,
    }
    (conf / "vars.d" / "e2e.xml").write_text(
        "<include>\n"
        + "".join(f'  <X-PRE-PROCESS cmd="set" data="{k}={v}"/>\n' for k, v in settings.items())
        + "</include>\n"
    )
    argv = [str(FREESWITCH), "-nonat", "-nf", "-nc", "-conf", str(conf)]
    for sub in ["log", "db", "run", "storage", "recordings", "cache", "temp", "sounds"]:
        (work / sub).mkdir()
        argv += [f"-{sub}", str(work / sub)]
    modules = FREESWITCH.parent.parent / "lib/freeswitch/mod"
    if modules.is_dir():
        argv += ["-mod", str(modules)]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        result.wait_for("sofia status", lambda out: "internal" in out and "RUNNING" in out, 60)
        yield result
    finally:
        stop(process, grace=20)


def _stamps(trace: Path, direction: str, first_line: str, cseq: str | None = None) -> list[float]:
    """When each message `direction` ("sent"/"received") starting with `first_line`
    (and carrying `CSeq: <cseq>`) went through SIPp, in seconds."""
    stamps: list[float] = []
    blocks = trace.read_text().split("\n-----")
    for block in blocks:
        lines = ("-----" + block).splitlines()
        matched = _STAMP.match(lines[0].strip()) if lines else None
        if not matched or len(lines) < 4 or f"message {direction}" not in lines[1]:
            continue
        message = [line.strip() for line in lines[3:]]
        if not message[0].startswith(first_line):
            continue
        if cseq is not None and f"CSeq: {cseq}" not in message:
            continue
        stamps.append(datetime.fromisoformat(matched.group(1)).timestamp())
    return stamps


def setup_times(fs: Node, calls: int, tag: str) -> list[float]:
    """`calls` calls from 1001 to 1000, one at a time: each one's setup in ms."""
    name = f"bench-{tag}"
    phone_port = free_port(socket.SOCK_DGRAM)
    callee = sipp.command(
        sipp.phone(200), fs.workdir, f"{name}-callee", fs.remote, port=phone_port, timeout=120
    )
    callee[callee.index("-m") + 1] = str(calls)
    uas = subprocess.Popen(callee, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        registered = sipp.run(
            sipp.command(
                sipp.register(CALLEE, DOMAIN, phone_port),
                fs.workdir,
                f"{name}-register",
                fs.remote,
                port=free_port(socket.SOCK_DGRAM),
                user=CALLEE,
                password=PASSWORDS[CALLEE],
            )
        )
        assert registered.returncode == 0, registered.stdout.decode()[-2000:]
        fs.wait_for(
            f"sofia_contact */{CALLEE}@{DOMAIN}", lambda out: out.strip().endswith(f":{phone_port}")
        )
        caller = sipp.command(
            sipp.call(CALLER, DOMAIN, CALLEE, expect=200, talk_ms=50),
            fs.workdir,
            f"{name}-caller",
            fs.remote,
            port=free_port(socket.SOCK_DGRAM),
            user=CALLER,
            password=PASSWORDS[CALLER],
            timeout=120,
        )
        caller[caller.index("-m") + 1] = str(calls)
        caller += ["-l", "1", "-r", "20"]
        result = sipp.run(caller, timeout=180)
        assert result.returncode == 0, result.stdout.decode()[-2000:]
        uas.wait(timeout=30)
    finally:
        stop(uas)
        fs.api(f"sofia profile internal flush_inbound_reg {CALLEE}@{DOMAIN}")
    sent = _stamps(fs.workdir / f"{name}-caller.messages", "sent", "INVITE sip:", "2 INVITE")
    received = _stamps(fs.workdir / f"{name}-callee.messages", "received", "INVITE sip:")
    assert len(sent) == len(received) == calls, (len(sent), len(received))
    return [(r - s) * 1000 for s, r in zip(sent, received, strict=True)]


def static_xml(fetched: list[Path]) -> dict[str, str]:
    """Centrex's answers for the call, kept by `xml_curl debug_on`, as static files: the
    tenant's domain with both users, and the tenant's dialplan context."""
    domain: etree._Element | None = None
    users: dict[str, etree._Element] = {}
    context: etree._Element | None = None
    for path in fetched:
        root = etree.fromstring(path.read_bytes())
        for found in root.iter("domain"):
            if found.get("name") == DOMAIN:
                domain = domain if domain is not None else found
                users.update({u.get("id"): u for u in found.iter("user")})
        for found in root.iter("context"):
            context = context if context is not None else found
    assert domain is not None and context is not None and set(users) >= {CALLER, CALLEE}
    for holder in domain.iter("users"):
        for user in list(holder):
            holder.remove(user)
        for user in users.values():
            holder.append(user)
        break

    def text(element: etree._Element) -> str:
        return "<include>\n" + etree.tostring(element, encoding="unicode") + "\n</include>\n"

    return {"directory/centrex.xml": text(domain), "dialplan/centrex.xml": text(context)}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def test_call_setup_through_centrex_against_static_xml(centrex: Centrex, tmp_path: Path):
    with centrex_serve(centrex, tmp_path) as url, node("centrex", tmp_path, url) as dynamic:
        # One call with FreeSWITCH keeping what it fetched: the static node's files.
        temp = dynamic.workdir / "temp"
        dynamic.api("xml_curl debug_on")
        setup_times(dynamic, 1, "capture")
        dynamic.api("xml_curl debug_off")
        fetched = sorted(temp.glob("*.tmp.xml"), key=lambda p: p.stat().st_mtime)
        files = static_xml(fetched)
        with node("static", tmp_path, url, static=files) as static:
            through: list[float] = []
            plain: list[float] = []
            loads = [os.getloadavg()[0]]
            per_round = max(1, CALLS // ROUNDS)
            for index in range(ROUNDS):
                first, second = (dynamic, static) if index % 2 == 0 else (static, dynamic)
                for fs in (first, second):
                    times = setup_times(fs, per_round, f"{fs is dynamic}-{index}")
                    (through if fs is dynamic else plain).extend(times)
                loads.append(os.getloadavg()[0])
    p50 = statistics.median(through) - statistics.median(plain)
    p90 = percentile(through, 0.9) - percentile(plain, 0.9)
    print(
        f"\ncall setup, {len(through)} calls each way in {ROUNDS} alternating rounds, "
        f"load average {min(loads):.2f}–{max(loads):.2f}:\n"
        f"| route | p50 | p90 | mean |\n|---|---:|---:|---:|\n"
        f"| static XML | {statistics.median(plain):.1f} ms | {percentile(plain, 0.9):.1f} ms | "
        f"{statistics.mean(plain):.1f} ms |\n"
        f"| through Centrex | {statistics.median(through):.1f} ms | "
        f"{percentile(through, 0.9):.1f} ms | {statistics.mean(through):.1f} ms |\n"
        f"| added | {p50:.1f} ms | {p90:.1f} ms | |"
    )
    # Both routes really set the calls up, in a time a phone user would accept.
    assert all(0 < t < 2000 for t in through + plain)
