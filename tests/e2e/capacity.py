"""What a call costs on the production path, and how many a node takes: the machinery of
tests/e2e/test_capacity.py.

One run on one database: a FreeSWITCH of freeswitch-conf/, `centrex serve` (gunicorn,
the production number of workers), `centrex esl` following the node, mod_xml_cdr
posting every leg's record, and a tenant of CALLERS callers and as many callees, each
callee registered by a SIPp registrar (digest) with its contact on one SIPp phone that
answers at once. A SIPp caller places calls of TALK seconds, caller i always calling
callee i (an injection file), each INVITE digest-authenticated, at a step of rates.

For each step: the outcome of every call read from the caller's SIP trace (its setup:
from the first INVITE leaving to the final response; its final code and Reason; the
BYE answered), the CPU time of each kind of process from /proc over the steady part
of the step (after the first calls have ended, so that as many calls start as end)
divided by the calls placed in it, and the call log checked against the calls made.
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from centrex.config import Settings
from centrex.db import make_engine, upgrade
from tests.conftest import apply_raw, demo_document
from tests.e2e import sipp
from tests.e2e.conftest import (
    CREDENTIALS,
    DOMAIN,
    Node,
    call_log_mark,
    call_log_since,
    free_port,
    running_freeswitch,
    spawn_listener,
    stop,
)
from tests.stack import running_stack

CALLERS = 100  # caller i calls callee i: a line has one call at a time up to 100 calls/s·s
FIRST_CALLER, FIRST_CALLEE = 2000, 2100
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")
# Final answers a caller may get instead of 200; each is acknowledged and counted.
REFUSALS = (403, 404, 408, 480, 486, 487, 500, 502, 503, 603)


def password(extension: int) -> str:
    return f"Capacity-Pass-{extension % 1000:03d}x"


def tenant() -> dict:
    """The demo tenant and the bench's callers and callees (no voicemail: a call that
    is not answered fails, it does not end in a mailbox)."""
    raw = demo_document(DOMAIN)
    lines = [*range(FIRST_CALLER, FIRST_CALLER + CALLERS)]
    lines += range(FIRST_CALLEE, FIRST_CALLEE + CALLERS)
    for extension in lines:
        raw["users"].append(
            {
                "extension": str(extension),
                "name": f"Line {extension}",
                "sip_password": password(extension),
                "voicemail": {"enabled": False},
            }
        )
    return raw


# -- CPU time from /proc ---------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None  # gone meanwhile
    return text.rsplit(")", 1)[1].split()


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def tree_ticks(roots: list[int], tree: dict[int, list[int]]) -> int:
    """CPU clock ticks of the processes `roots` and all their descendants, alive now
    or ended and reaped by one of them (utime + stime + cutime + cstime)."""
    total, todo = 0, list(roots)
    while todo:
        pid = todo.pop()
        fields = _stat(pid)
        if fields is None:
            continue
        total += sum(int(v) for v in fields[11:15])
        todo += tree.get(pid, [])
    return total


def machine_ticks() -> tuple[int, int]:
    """(busy, all) clock ticks of every CPU since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values) - idle, sum(values)


@dataclass
class CpuSample:
    at: float
    kinds: dict[str, int]
    busy: int
    all: int


def sample(processes: dict[str, list[int]]) -> CpuSample:
    tree = _children()
    busy, every = machine_ticks()
    kinds = {kind: tree_ticks(roots, tree) for kind, roots in processes.items()}
    return CpuSample(time.time(), kinds, busy, every)


def pid_of_freeswitch(node: Node) -> int:
    conf = str(node.workdir / "conf")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"freeswitch") and conf.encode() in argv:
            return int(entry.name)
    raise AssertionError(f"no FreeSWITCH process running with {conf}")


# -- SIPp ----------------------------------------------------------------------------

# Quoted, so that SIPp reads the fields inside the keyword (it does not nest brackets).
_AUTH = '[authentication username="[field0]" password="[field1]"]'


def _injection(path: Path, rows: list[tuple[int, int]]) -> Path:
    """SIPp's injection file: field0 the user, field1 their password, field2 the callee."""
    path.write_text(
        "SEQUENTIAL\n" + "".join(f"{a};{password(a)};{b};\n" for a, b in rows), encoding="ascii"
    )
    return path


def registrar_scenario(contact_port: int) -> str:
    text = sipp.register("[field0]", DOMAIN, contact_port).replace("[authentication]", _AUTH)
    return text.replace("Expires: 300", "Expires: 3600")


def phone_scenario() -> str:
    """A phone that rings and answers at once, and takes any number of calls."""
    return sipp.phone(200).replace('<pause milliseconds="200"/>', "")


def caller_scenario(talk_ms: int) -> str:
    """sipp.call with the caller, password and callee from the injection file; a final
    answer other than 200 (a call turned away) is acknowledged and ends the call."""
    text = sipp.call("[field0]", DOMAIN, "[field2]", expect=200, talk_ms=talk_ms)
    text = text.replace("[authentication]", _AUTH)
    refusals = "".join(
        f'<recv response="{code}" optional="true" next="refused"/>\n' for code in REFUSALS
    )
    final = '<recv response="200" rrs="true"/>'
    text = text.replace(final, refusals + final)
    ack = (
        "<send><![CDATA[\n"
        f"ACK sip:[field2]@{DOMAIN} SIP/2.0\n"
        "[last_Via:]\n[last_From:]\n[last_To:]\n[last_Call-ID:]\n"
        "CSeq: 2 ACK\nMax-Forwards: 70\nContent-Length: 0\n\n]]></send>\n"
    )
    ending = '<nop next="done"/>\n<label id="refused"/>\n' + ack + '<label id="done"/>\n</scenario>'
    return text.replace("</scenario>", ending)


_STAMP = re.compile(r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)$")


@dataclass
class Call:
    invited_at: float = 0.0  # the first INVITE leaving the caller
    final: int = 0  # the final answer to the authenticated INVITE
    final_at: float = 0.0
    reason: str = ""  # its Reason header (Q.850 cause)
    hung_up: bool = False  # the caller's BYE answered 200
    challenged: int = 0  # the first INVITE's answer (407 expected)

    @property
    def completed(self) -> bool:
        return self.final == 200 and self.hung_up

    @property
    def setup_ms(self) -> float:
        return (self.final_at - self.invited_at) * 1000


def _messages(trace: Path) -> Iterator[tuple[float, str, list[str]]]:
    """(when, "sent"/"received", lines) of each message of a SIPp -trace_msg file."""
    if not trace.exists():
        return
    for block in trace.read_text(errors="replace").split("\n-----"):
        lines = ("-----" + block).splitlines()
        matched = _STAMP.match(lines[0].strip()) if lines else None
        if not matched or len(lines) < 4:
            continue
        direction = "sent" if "message sent" in lines[1] else "received"
        message = [line.strip() for line in lines[3:] if line.strip()]
        if message:
            yield datetime.fromisoformat(matched.group(1)).timestamp(), direction, message


def _header(message: list[str], name: str) -> str:
    prefix = name.lower() + ":"
    for line in message:
        if line.lower().startswith(prefix):
            return line[len(prefix) :].strip()
    return ""


def calls_in(trace: Path) -> dict[str, Call]:
    """Every call of a caller's trace, by Call-ID."""
    calls: dict[str, Call] = {}
    for at, direction, message in _messages(trace):
        call = calls.setdefault(_header(message, "Call-ID"), Call())
        cseq = _header(message, "CSeq")
        first = message[0]
        if direction == "sent" and first.startswith("INVITE ") and cseq == "1 INVITE":
            call.invited_at = call.invited_at or at
        elif direction == "received" and first.startswith("SIP/2.0 "):
            code = int(first.split()[1])
            if cseq == "1 INVITE" and code >= 200:
                call.challenged = call.challenged or code
                if code != 407 and not call.final:  # refused before any challenge
                    call.final, call.final_at = code, at
                    call.reason = _header(message, "Reason")
            elif cseq == "2 INVITE" and code >= 200 and not call.final:
                call.final, call.final_at = code, at
                call.reason = _header(message, "Reason")
            elif cseq == "3 BYE" and code == 200:
                call.hung_up = True
    calls.pop("", None)
    return calls


def responses(trace: Path, code: int) -> int:
    """Final answers `code` the registrar got (one per REGISTER, retransmissions aside)."""
    seen = set()
    for _at, direction, message in _messages(trace):
        if direction == "received" and message[0].startswith(f"SIP/2.0 {code} "):
            seen.add((_header(message, "Call-ID"), _header(message, "CSeq")))
    return len(seen)


# -- the stack -------------------------------------------------------------------------


@dataclass
class Bench:
    """Everything of one run, and the processes whose CPU is counted."""

    name: str  # the database
    node: Node
    engine: Engine
    work: Path
    processes: dict[str, list[int]]  # kind -> root pids
    server_log: Path
    phone_port: int
    load: list[float] = field(default_factory=list)


@contextmanager
def running_bench(
    name: str,
    database_url: str,
    work: Path,
    db_roots: list[int],
    *,
    workers: int = 0,
    call_wait_limit: int = 0,
) -> Iterator[Bench]:
    """The whole production path on `database_url`, the callees registered. `workers`:
    the server's sync workers, `call_wait_limit`: CENTREX_CALL_WAIT_LIMIT (production's
    defaults when 0: 2 × CPUs + 1, 250 ms)."""
    engine = make_engine(database_url)
    upgrade(engine)
    apply_raw(engine, tenant())
    settings = {
        "xmlcurl_credentials": CREDENTIALS,
        "media_dir": str(work / "media"),
        "workers": str(workers or Settings().workers),
        "call_wait_limit": str(call_wait_limit or Settings().call_wait_limit),
    }
    with ExitStack() as stack:
        server = stack.enter_context(running_stack(database_url, **settings))
        url = f"http://127.0.0.1:{server.switch_port}"
        node = stack.enter_context(running_freeswitch(work / "freeswitch", [url]))
        listener = stack.enter_context(running_listener(database_url, node, work / "esl.log"))
        processes = {
            "FreeSWITCH": [pid_of_freeswitch(node)],
            "server": [server.process_group()],
            "listener": [listener],
        }
        if db_roots:
            processes["database"] = db_roots
        phone_port = free_port(socket.SOCK_DGRAM)
        phone = stack.enter_context(sipp_process(_phone(node, work, phone_port)))
        processes["SIPp"] = [phone]
        bench = Bench(name, node, engine, work, processes, server.log, phone_port)
        try:
            register(bench)
            yield bench
        finally:  # kept for a failure's post-mortem
            (work / "centrex.log").write_bytes(server.log.read_bytes())
            engine.dispose()


@contextmanager
def running_listener(database_url: str, node: Node, log: Path) -> Iterator[int]:
    """`centrex esl` following the node, until it says so; its pid."""
    process, _ = spawn_listener(database_url, [node], log)
    try:
        deadline = time.monotonic() + 30
        while "following 127.0.0.1:" not in log.read_text(errors="replace"):
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the listener never followed the node"
            time.sleep(0.2)
        yield process.pid
    finally:
        stop(process)


@contextmanager
def sipp_process(argv: list[str]) -> Iterator[int]:
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield process.pid
    finally:
        stop(process)


def _phone(node: Node, work: Path, port: int) -> list[str]:
    argv = sipp.command(phone_scenario(), work, "phones", node.remote, port=port, timeout=86400)
    argv[argv.index("-m") + 1] = "100000000"
    # A phone's trace at thousands of calls is of no use; its errors are kept.
    argv.remove("-trace_msg")
    return argv


def _registrar(bench: Bench, name: str, count: int, rate: float) -> list[str]:
    callees = [(FIRST_CALLEE + i, 0) for i in range(CALLERS)]
    argv = sipp.command(
        registrar_scenario(bench.phone_port),
        bench.work,
        name,
        bench.node.remote,
        port=free_port(socket.SOCK_DGRAM),
        timeout=int(count / rate) + 120,
    )
    argv[argv.index("-m") + 1] = str(count)
    argv += ["-inf", str(_injection(bench.work / f"{name}.csv", callees))]
    argv += ["-r", str(round(rate * 10)), "-rp", "10000", "-recv_timeout", "10000"]
    return argv


def register(bench: Bench) -> None:
    """Every callee registered with its contact on the phone."""
    result = sipp.run(_registrar(bench, "registrar", CALLERS, 20), timeout=120)
    assert result.returncode == 0, result.stdout.decode(errors="replace")[-3000:]
    for extension in (FIRST_CALLEE, FIRST_CALLEE + CALLERS - 1):
        bench.node.wait_for(
            f"sofia_contact */{extension}@{DOMAIN}",
            lambda out: out.strip().endswith(f":{bench.phone_port}"),
        )


# -- a step ----------------------------------------------------------------------------


@dataclass
class Step:
    database: str
    rate: float
    seconds: float
    calls: dict[str, Call]
    window_calls: int  # calls placed in the steady window
    cpu_ms: dict[str, float]  # per call placed in the window, by kind of process
    others: float  # share of the machine's CPU used by anything else meanwhile
    load: tuple[float, float]
    call_log: str  # "exact", or what is wrong
    turned_away_logged: int  # the servers' "dialplan request waited" lines
    registrations: dict[str, int] = field(default_factory=dict)  # overload: code -> count

    @property
    def failed(self) -> int:
        return sum(1 for c in self.calls.values() if not c.completed)

    @property
    def setups(self) -> list[float]:
        return sorted(c.setup_ms for c in self.calls.values() if c.completed)

    def percentile(self, share: float) -> float:
        values = self.setups
        return values[min(len(values) - 1, int(share * len(values)))] if values else 0.0

    @property
    def centrex_ms(self) -> float:
        return sum(self.cpu_ms.get(k, 0.0) for k in ("server", "listener", "database"))

    @property
    def ratio(self) -> float:
        return self.centrex_ms / self.cpu_ms["FreeSWITCH"] if self.cpu_ms["FreeSWITCH"] else 0.0

    def refusals(self) -> dict[str, int]:
        """Calls not completed, by final answer and Reason."""
        found: dict[str, int] = {}
        for call in self.calls.values():
            if not call.completed:
                what = f"{call.final or 'none'} {call.reason}".strip()
                found[what] = found.get(what, 0) + 1
        return found

    def refusal_ms(self) -> list[float]:
        return sorted(c.setup_ms for c in self.calls.values() if c.final >= 300)


def check_call_log(bench: Bench, since: int, completed: int) -> str:
    """Each completed call has exactly its caller's `placed` entry and its callee's
    `received` one (the database's unique key keeps any entry from being there twice),
    once every record has come in; what differs, said."""
    deadline = time.monotonic() + 90
    while True:
        log = call_log_since(bench.engine, since)
        received = [e for e in log.values() if any(kind == "received" for _, kind in e)]
        # A call's legs post their records apart (the callee's simply answered one
        # none): each in, or the time is up.
        whole = [e for e in received if any(kind == "placed" for _, kind in e)]
        if len(whole) >= completed or time.monotonic() > deadline:
            break
        time.sleep(1)
    wrong = 0
    for entries in received:
        callers = [int(x) for x, kind in entries if kind == "placed"]
        callees = [int(x) for x, kind in entries if kind == "received"]
        pair = bool(callers) and [callers[0] - FIRST_CALLER + FIRST_CALLEE] == callees
        wrong += not (pair and len(entries) == 2)
    left = list((bench.node.workdir / "log" / "xml_cdr").glob("*.cdr.xml"))
    problems = []
    if len(received) != completed:
        problems.append(f"{len(received)} calls received in the log for {completed} completed")
    if wrong:
        problems.append(f"{wrong} calls with other entries than their caller's and callee's")
    if left:
        problems.append(f"{len(left)} records left in xml_cdr's error directory")
    return "; ".join(problems) or "exact"


def run_step(
    bench: Bench, rate: float, seconds: float, talk_ms: int, *, registrations: float = 0.0
) -> Step:
    """`rate` calls/s for `seconds` (and, with `registrations`, that many REGISTERs a
    second of the callees meanwhile); every call ended and recorded before it returns."""
    tag = f"{bench.name}-{rate:g}"
    since = call_log_mark(bench.engine)
    logged_before = _turned_away_logged(bench)
    count = round(rate * seconds)
    argv = sipp.command(
        caller_scenario(talk_ms),
        bench.work,
        f"calls-{tag}",
        bench.node.remote,
        port=free_port(socket.SOCK_DGRAM),
        timeout=int(seconds) + 120,
    )
    argv[argv.index("-m") + 1] = str(count)
    rows = [(FIRST_CALLER + i, FIRST_CALLEE + i) for i in range(CALLERS)]
    argv += ["-inf", str(_injection(bench.work / f"calls-{tag}.csv", rows))]
    argv += ["-r", str(round(rate * 10)), "-rp", "10000", "-l", str(count)]
    argv += ["-recv_timeout", "30000"]
    trace = bench.work / f"calls-{tag}.messages"
    registrar = None
    with ExitStack() as stack:
        load_before = os.getloadavg()[0]
        if registrations:
            count_reg = round(registrations * seconds)
            registrar = subprocess.Popen(
                _registrar(bench, f"reregister-{tag}", count_reg, registrations),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            stack.callback(stop, registrar)
        started = time.time()
        caller = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stack.callback(stop, caller)
        processes = {**bench.processes, "SIPp": [*bench.processes["SIPp"], caller.pid]}
        if registrar is not None:
            processes["SIPp"].append(registrar.pid)
        # Steady once the first calls have ended: as many calls start as end.
        warm = min(talk_ms / 1000 + 2, seconds / 3)
        time.sleep(max(0.0, started + warm - time.time()))
        first = sample(processes)
        time.sleep(max(0.0, started + seconds - time.time()))
        last = sample(processes)
        caller.wait(timeout=talk_ms / 1000 + 150)
        if registrar is not None:
            registrar.wait(timeout=150)
        load_after = os.getloadavg()[0]
    calls = calls_in(trace)
    in_window = sum(1 for c in calls.values() if first.at <= c.invited_at < last.at)
    cpu_ms = {
        kind: (last.kinds[kind] - first.kinds[kind]) * TICK_MS / max(in_window, 1)
        for kind in first.kinds
    }
    measured = sum(last.kinds[k] - first.kinds[k] for k in first.kinds)
    busy = last.busy - first.busy
    others = max(0.0, (busy - measured) / max(last.all - first.all, 1))
    completed = sum(1 for c in calls.values() if c.completed)
    step = Step(
        bench.name,
        rate,
        seconds,
        calls,
        in_window,
        cpu_ms,
        others,
        (load_before, load_after),
        check_call_log(bench, since, completed),
        _turned_away_logged(bench) - logged_before,
    )
    if registrar is not None:
        reg_trace = bench.work / f"reregister-{tag}.messages"
        step.registrations = {str(code): responses(reg_trace, code) for code in (200, 403)}
    return step


def _turned_away_logged(bench: Bench) -> int:
    return bench.server_log.read_text(errors="replace").count("dialplan request waited")


# -- the report ------------------------------------------------------------------------


def passed(step: Step, p99_bound_ms: float) -> bool:
    return step.failed == 0 and step.call_log == "exact" and step.percentile(0.99) <= p99_bound_ms


def table(steps: list[Step], p99_bound_ms: float) -> str:
    """The Markdown table for the README: one line a step."""
    lines = [
        "| database | calls/s | calls | failed | setup p50 / p99 | FreeSWITCH | server "
        "| listener | database server | Centrex ÷ FreeSWITCH | SIPp | call log | others "
        "| load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for s in steps:
        db = f"{s.cpu_ms['database']:.1f} ms" if "database" in s.cpu_ms else "(in process)"
        verdict = "" if passed(s, p99_bound_ms) else " ✗"
        codes: dict[int, int] = {}
        for call in s.calls.values():
            if not call.completed:
                codes[call.final] = codes.get(call.final, 0) + 1
        failed = f"{s.failed}" + "".join(
            f", {code or 'no answer'} ×{n}" for code, n in sorted(codes.items())
        )
        lines.append(
            f"| {s.database} | {s.rate:g}{verdict} | {len(s.calls)} | {failed} "
            f"| {s.percentile(0.5):.0f} / {s.percentile(0.99):.0f} ms "
            f"| {s.cpu_ms['FreeSWITCH']:.1f} ms | {s.cpu_ms['server']:.1f} ms "
            f"| {s.cpu_ms['listener']:.1f} ms | {db} | {s.ratio:.2f} "
            f"| {s.cpu_ms['SIPp']:.1f} ms | {s.call_log} | {s.others:.0%} "
            f"| {s.load[0]:.1f} → {s.load[1]:.1f} |"
        )
    return "\n".join(lines)


def sizing(step: Step) -> str:
    """Calls a second each part would take with the CPU to itself, from the CPU it spent
    per call (SIPp aside): what an operator sizes with, whatever else shared the
    machine during the run."""
    cores = os.cpu_count() or 1
    node = step.cpu_ms["FreeSWITCH"] + step.centrex_ms
    parts = [
        f"a {cores}-core node running everything: {cores * 1000 / node:.0f} calls/s",
        f"FreeSWITCH alone: {cores * 1000 / step.cpu_ms['FreeSWITCH']:.0f} calls/s",
        f"Centrex server(s) alone: {cores * 1000 / step.cpu_ms['server']:.0f} calls/s",
        f"one listener (one process, one core): {1000 / step.cpu_ms['listener']:.0f} calls/s",
    ]
    if "database" in step.cpu_ms:
        parts.append(f"PostgreSQL alone: {cores * 1000 / step.cpu_ms['database']:.0f} calls/s")
    return f"CPU ceilings at {step.rate:g} calls/s, {step.database}: " + "; ".join(parts)


def overload_report(step: Step, capacity: float) -> str:
    refused = step.refusal_ms()
    completed = sum(1 for c in step.calls.values() if c.completed)
    regs = step.registrations
    return (
        f"overload, {step.database}: {step.rate:g} calls/s (1.5 × {capacity:g}) for "
        f"{step.seconds:g} s, {len(step.calls)} calls: {completed} completed, "
        f"not completed by answer {step.refusals() or '{}'}, "
        f"turned away by the servers (their log) {step.turned_away_logged}, "
        f"refusal after p50 {statistics.median(refused) if refused else 0:.0f} ms / "
        f"p99 {refused[min(len(refused) - 1, int(0.99 * len(refused)))] if refused else 0:.0f}"
        f" ms; re-registrations meanwhile: {regs.get('200', 0)} × 200, "
        f"{regs.get('403', 0)} × 403; INVITEs refused 403: "
        f"{sum(1 for c in step.calls.values() if c.final == 403)}; "
        f"call log {step.call_log}; setup p50 / p99 of those completed "
        f"{step.percentile(0.5):.0f} / {step.percentile(0.99):.0f} ms; "
        f"load avg {step.load[0]:.1f} → {step.load[1]:.1f}"
    )
