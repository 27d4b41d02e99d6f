"""End-to-end tier: a real FreeSWITCH 1.10, configured with freeswitch-conf/, taking
everything from a Centrex server, driven by SIPp phones.

Opt-in: runs with `make e2e` (CENTREX_E2E=1) or when CENTREX_FREESWITCH names a binary,
and is skipped unless a FreeSWITCH binary is found (CENTREX_FREESWITCH, PATH, or the
usual install prefixes) and SIPp (Debian's sip-tester). Everything binds to 127.0.0.1
on free ports; FreeSWITCH runs in temporary directories.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from werkzeug.serving import make_server

from centrex.app import create_app
from centrex.config import Settings, environment
from centrex.db import make_engine, upgrade
from provisioning.models import CallRecord
from tests.conftest import apply_raw, demo_document
from xmlcurl.servers import slot_variable

CONF = Path(__file__).resolve().parents[2] / "freeswitch-conf"
DOMAIN = "127.0.0.1"
CREDENTIALS = "freeswitch:e2e-secret"
ESL_PASSWORD = "e2e-esl"


def _find_freeswitch() -> Path | None:
    candidates = [os.environ.get("CENTREX_FREESWITCH"), shutil.which("freeswitch")]
    candidates += ["/opt/freeswitch/bin/freeswitch", "/usr/local/freeswitch/bin/freeswitch"]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


FREESWITCH = _find_freeswitch()

pytestmark = pytest.mark.e2e


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    wanted = os.environ.get("CENTREX_E2E") == "1" or bool(os.environ.get("CENTREX_FREESWITCH"))
    found = [("FreeSWITCH", FREESWITCH), ("sipp", shutil.which("sipp"))]
    missing = [name for name, path in found if not path]
    if wanted and not missing:
        return
    reason = (
        f"end-to-end tier: no {' or '.join(missing)} found"
        if wanted
        else "end-to-end tier: opt in with `make e2e` (CENTREX_E2E=1)"
    )
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A loopback port free for UDP and TCP alike (SIP listens on both)."""
    while True:
        with socket.socket(socket.AF_INET, kind) as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            other = socket.SOCK_DGRAM if kind == socket.SOCK_STREAM else socket.SOCK_STREAM
            with socket.socket(socket.AF_INET, other) as second:
                try:
                    second.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port


def rtp_ports() -> int:
    """The first of a node's 2,000 RTP ports, below the kernel's ephemeral range (where
    free_port and every client socket take theirs): a call given a port that a SIP
    profile or SIPp holds fails (RTP bind error, 488 INCOMPATIBLE_DESTINATION)."""
    return random.randrange(16384, 30000) & ~1


def stop(process: subprocess.Popen[bytes], grace: float = 10) -> None:
    """Ask a process to end; kill it if it has not after `grace` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()


def spawn_listener(
    database_url: str, nodes: Sequence[Node], log: Path, **settings: Any
) -> tuple[subprocess.Popen[bytes], Settings]:
    """`centrex esl` following `nodes` (its output in `log`), and the settings it runs
    with; `settings`: more of them (metrics…)."""
    used = Settings(
        database_url=database_url,
        esl_nodes=tuple(f"127.0.0.1:{n.esl_port}" for n in nodes),
        esl_password=ESL_PASSWORD,
        live_port=free_port(),
        log_level="INFO",
        **settings,
    )
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "centrex.cli", "esl"],
            env={**os.environ, **environment(used)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, used


def call_log_mark(engine: Engine) -> int:
    """The call log's last entry id: what a test's calls add comes after it."""
    with engine.connect() as conn:
        return conn.scalar(select(func.coalesce(func.max(CallRecord.id), 0))) or 0


def call_log_since(engine: Engine, since: int) -> dict[str, list[tuple[str, str]]]:
    """Each call's entries (extension, kind) after entry `since`."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(CallRecord.call_uuid, CallRecord.extension, CallRecord.kind).where(
                CallRecord.id > since
            )
        ).all()
    log: dict[str, list[tuple[str, str]]] = {}
    for call_uuid, extension, kind in rows:
        log.setdefault(call_uuid, []).append((extension, kind))
    return log


@dataclass
class Node:
    """A running FreeSWITCH and how to reach it."""

    sip_port: int
    external_port: int
    esl_port: int
    workdir: Path
    fs_cli: Path

    @property
    def remote(self) -> str:
        return f"127.0.0.1:{self.sip_port}"

    def api(self, command: str) -> str:
        out = subprocess.run(
            [
                str(self.fs_cli),
                "-H",
                "127.0.0.1",
                "-P",
                str(self.esl_port),
                "-p",
                ESL_PASSWORD,
                "-x",
                command,
            ],
            capture_output=True,
            text=True,
            timeout=15,
        )
        return out.stdout

    def wait_for(self, command: str, predicate, timeout: float = 20) -> str:  # type: ignore[no-untyped-def]
        """Poll a FreeSWITCH API command until its output satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        while True:
            output = self.api(command)
            if predicate(output):
                return output
            if time.monotonic() > deadline:
                raise AssertionError(f"{command!r} never satisfied; last output:\n{output}")
            time.sleep(0.2)

    def wait_until_no_channels(self) -> None:
        """Every leg gone (a leg is destroyed only once its call record is posted)."""
        self.wait_for("show channels count", lambda out: out.strip().startswith("0 total"))


@dataclass
class Centrex:
    """The Centrex server FreeSWITCH fetches from, and its database."""

    url: str
    engine: Engine
    settings: Settings


def demo_with_trunk() -> dict[str, Any]:
    """The demo tenant as the session's Centrex starts with: its SIPp 'carrier' trunk."""
    raw = demo_document(DOMAIN)
    carrier = os.environ["CENTREX_E2E_CARRIER_PORT"]
    raw["gateway"] = {"proxy": f"127.0.0.1:{carrier}", "username": "trunk"}
    return raw


@pytest.fixture
def plain_demo_tenant(centrex: Centrex) -> Iterator[None]:
    """For a module whose tests apply tenants of their own (autouse it there): the demo
    tenant with its trunk put back after each, so later files find it as they expect."""
    yield
    apply_raw(centrex.engine, demo_with_trunk())


@pytest.fixture(scope="session")
def centrex(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Centrex]:
    """A Centrex server on a free port, with the demo tenant on 127.0.0.1 and a SIPp
    'carrier' gateway for outbound calls."""
    data = tmp_path_factory.mktemp("centrex")
    url = f"sqlite:///{data / 'centrex.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    carrier_port = free_port(socket.SOCK_DGRAM)
    os.environ["CENTREX_E2E_CARRIER_PORT"] = str(carrier_port)
    apply_raw(engine, demo_with_trunk())
    settings = Settings(
        database_url=url,
        xmlcurl_credentials=CREDENTIALS,
        log_level="INFO",
        media_dir=str(data / "media"),
    )
    app = create_app(settings, engine)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Centrex(f"http://127.0.0.1:{server.server_port}", engine, settings)
    server.shutdown()


@pytest.fixture(scope="session")
def freeswitch(centrex: Centrex, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    with running_freeswitch(tmp_path_factory.mktemp("freeswitch"), [centrex.url]) as node:
        yield node


@contextmanager
def running_freeswitch(
    work: Path, centrex_urls: list[str], variables: dict[str, str] | None = None
) -> Iterator[Node]:
    """A FreeSWITCH configured with freeswitch-conf/, asking the Centrex servers at
    `centrex_urls` (vars.xml's server slots, in order), with more of vars.xml's
    `variables` set, until the block ends."""
    assert FREESWITCH is not None
    conf = work / "conf"
    shutil.copytree(CONF, conf)
    # SIPp phones do not do message waiting: no unsolicited NOTIFY when they register.
    internal = conf / "sip_profiles" / "internal.xml"
    internal.write_text(
        internal.read_text().replace(
            '"send-message-query-on-register" value="true"',
            '"send-message-query-on-register" value="false"',
        )
    )
    prefix = FREESWITCH.parent.parent
    for lang in [
        prefix / "etc/freeswitch/lang",
        prefix / "conf/lang",
        Path("/usr/share/freeswitch/lang"),
    ]:
        if lang.is_dir():
            (conf / "lang").symlink_to(lang)
            break
    node = Node(
        free_port(socket.SOCK_DGRAM),
        free_port(socket.SOCK_DGRAM),
        free_port(),
        work,
        FREESWITCH.parent / "fs_cli",
    )
    rtp = rtp_ports()
    settings = {
        **{slot_variable(n): url for n, url in enumerate(centrex_urls, start=1)},
        "centrex_xmlcurl_credentials": CREDENTIALS,
        "centrex_esl_password": ESL_PASSWORD,
        "centrex_esl_port": node.esl_port,
        "internal_sip_port": node.sip_port,
        "external_sip_port": node.external_port,
        "bind_ip": "127.0.0.1",
        "external_sip_ip": "127.0.0.1",
        "external_rtp_ip": "127.0.0.1",
        "rtp_start_port": rtp,
        "rtp_end_port": rtp + 2000,
        **(variables or {}),
    }
    (conf / "vars.d" / "e2e.xml").write_text(
        "<include>\n"
        + "".join(f'  <X-PRE-PROCESS cmd="set" data="{k}={v}"/>\n' for k, v in settings.items())
        + "</include>\n"
    )
    dirs = {
        name: work / name
        for name in ["log", "db", "run", "storage", "recordings", "cache", "temp", "sounds"]
    }
    for path in dirs.values():
        path.mkdir()
    argv = [str(FREESWITCH), "-nonat", "-nf", "-nc", "-conf", str(conf)]
    for name, path in dirs.items():
        argv += [f"-{name}", str(path)]
    modules = prefix / "lib/freeswitch/mod"
    if modules.is_dir():
        argv += ["-mod", str(modules)]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        node.wait_for(
            "sofia status", lambda out: "internal" in out and "RUNNING" in out, timeout=60
        )
        yield node
    finally:
        stop(process, grace=20)
