"""`centrex serve` as a subprocess on free loopback ports, for the tests that need the
real server stack (gunicorn, its workers, the two sides), and what FreeSWITCH sends it.

    with running_stack(database_url) as stack:
        answer = stack.fetch_dialplan("1000")
"""

from __future__ import annotations

import http.client
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from tests.conftest import XMLCURL_CREDENTIALS, basic_auth
from tests.dial_strings import read_as_user_endpoints
from tests.fsrequests import fixture_fields, fs_body, with_fields
from tests.postgres_server import free_port
from tests.unit.test_cdr import CALL1_A, CALL1_A_UUID, bodies, cdr_xml

SECRET_KEY = "stack-test-secret-key-of-32-chars-or-more"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    seconds: float  # from sending the request to the whole answer read

    def xml(self) -> etree._Element:
        return etree.fromstring(self.body)

    def actions(self) -> list[tuple[str, str]]:
        """A line dialled itself read as its `user/` endpoint (tests.dial_strings)."""
        return read_as_user_endpoints(
            [(a.get("application") or "", a.get("data") or "") for a in self.xml().iter("action")]
        )


@dataclass(frozen=True)
class Stack:
    switch_port: int  # FreeSWITCH's side: /xmlcurl, /cdr
    people_port: int  # the panel and the REST API
    log: Path

    def request(
        self, port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None
    ) -> Answer:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        started = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return Answer(response.status, response.read(), time.monotonic() - started)
        finally:
            conn.close()

    def process_group(self) -> int:
        """The process group of the `centrex serve` listening on the switch port."""
        out = subprocess.run(
            ["ss", "-Htlnp", f"sport = :{self.switch_port}"], capture_output=True, text=True
        ).stdout
        return os.getpgid(int(out.split("pid=")[1].split(",")[0]))

    def fetch_dialplan(self, destination: str = "1000") -> Answer:
        """The dialplan fetch of a call from 1001 to `destination`, as mod_xml_curl sends it."""
        values = {
            "Hunt-Destination-Number": destination,
            "Caller-Destination-Number": destination,
            "Hunt-Context": "127.0.0.1",
            "Caller-Context": "127.0.0.1",
        }
        body = fs_body(with_fields(fixture_fields("dialplan-1000"), values))
        return self.fetch(body)

    def fetch(self, body: bytes) -> Answer:
        headers = {**basic_auth(), "Content-Type": "application/x-www-form-urlencoded"}
        return self.request(self.switch_port, "POST", "/xmlcurl", body, headers)

    def post_cdr(self) -> Answer:
        headers = {**basic_auth(), "Content-Type": "application/x-www-form-urlencoded"}
        body = bodies(cdr_xml(CALL1_A))["true"]
        return self.request(self.switch_port, "POST", f"/cdr?uuid=a_{CALL1_A_UUID}", body, headers)

    def api(self, path: str, token: str) -> Answer:
        headers = {"Authorization": f"Bearer {token}"}
        return self.request(self.people_port, "GET", "/api/v1" + path, headers=headers)


@contextmanager
def running_stack(database_url: str, **settings: str) -> Iterator[Stack]:
    """`centrex serve` (2 switch workers, 1 people worker; `settings`: more CENTREX_*
    values, by lower-case name) until /healthz answers on both ports; the whole process
    group is stopped afterwards, whatever happened."""
    stack = Stack(free_port(), free_port(), Path(tempfile.mkstemp(prefix="centrex-stack-")[1]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENTREX_")}
    env.update(
        {
            "CENTREX_DATABASE_URL": database_url,
            "CENTREX_XMLCURL_CREDENTIALS": XMLCURL_CREDENTIALS,
            "CENTREX_HOST": "127.0.0.1",
            "CENTREX_PORT": str(stack.switch_port),
            "CENTREX_PANEL_PORT": str(stack.people_port),
            "CENTREX_WORKERS": "2",
            "CENTREX_PANEL_WORKERS": "1",
            "CENTREX_SECRET_KEY": SECRET_KEY,
            "CENTREX_LOG_LEVEL": "INFO",
        }
    )
    env.update({f"CENTREX_{k.upper()}": v for k, v in settings.items()})
    command = [sys.executable, "-m", "centrex.cli", "serve"]
    try:
        with process_group(command, env, stack.log, [stack.switch_port, stack.people_port]):
            yield stack
    finally:
        stack.log.unlink(missing_ok=True)


@contextmanager
def process_group(
    command: list[str], env: dict[str, str], log: Path, ports: list[int]
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server in a process group of its own (output appended to `log`) until
    /healthz answers on each of `ports` on 127.0.0.1; stop the whole group afterwards,
    whatever happened. The benchmarks run their servers so too."""
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=out, start_new_session=True)
    try:
        for port in ports:
            _wait_until_up(process, port, command, log)
        yield process
    finally:
        _stop(process)


def _wait_until_up(
    process: subprocess.Popen[bytes], port: int, command: list[str], log: Path
) -> None:
    give_up = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > give_up:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{shlex.join(command)} did not start:\n{tail}")
        time.sleep(0.1)  # a process starting: nothing to wait on but its port


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            pass
