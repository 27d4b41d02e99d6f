"""xml_curl fetch benchmark: throughput and latency of dialplan and directory fetches
for tenants of 100, 10,000 and 100,000 users, beside the ceiling (the same server stack
answering a constant document).

    python -m bench.xmlcurl_bench [--duration 10] [--workers N] [--database-url URL]

Seeds the tenants (untimed), starts the ceiling server (`bench.ceiling`) and then
`centrex serve` on free loopback ports, and loads each case with wrk: flat out for the
maximum throughput, then open-loop at half that rate for the latency FreeSWITCH sees
when Centrex is not saturated. Bodies are the captured FreeSWITCH requests re-aimed at
random users of the tenant and encoded as mod_xml_curl encodes them. Prints a Markdown
table for the README and the issue's targets, met or not (saved in bench/results/).
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import random
import re
import shlex
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from centrex.app import create_app
from centrex.config import Settings
from centrex.db import make_engine, make_session_factory, upgrade
from provisioning import service
from provisioning import validation as v
from provisioning.document import parse_document
from provisioning.models import PublicNumber, Tenant, User
from tests.fsrequests import fixture_fields, fs_body
from tests.postgres_server import free_port
from tests.stack import process_group

BENCH = Path(__file__).resolve().parent
LUA = BENCH / "wrk.lua"
CREDENTIALS = "freeswitch:Bench-Secret-2026"
AUTH = "Basic " + base64.b64encode(CREDENTIALS.encode()).decode()
FIRST_EXTENSION = 200000
# One user in this many has a public number (DID) of their own.
NUMBER_EVERY = 10
# Big tenants are validated in chunks of this many users (which checks every value all
# the same) and inserted in bulk: faster than applying one whole document.
CHUNK = 1000
# Every tenant has hunt groups of this many members (among its first users), up to
# GROUPS of them, dialled at FIRST_GROUP and following numbers.
GROUPS = 100
GROUP_MEMBERS = 10
FIRST_GROUP = 100000
# Each wrk thread holds them all (~9 kB each for the dialplan).
BODIES_PER_CASE = 1000
# What every good answer contains; anything else (a fallback, "not found") is counted.
EXPECT = {"dialplan": 'application="bridge"', "directory": "a1-hash", "group": "bridge"}
KINDS = ("dialplan", "directory", "group")
EXPECT["ceiling"] = EXPECT["dialplan"]
TARGET_OF_CEILING = 0.60
TARGET_P99_MS = 10.0
TARGET_SCALING = 1.3
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Share of the CPUs taken by other work above which a case's numbers are not trusted.
DISTURBED = 0.05


def domain_of(size: int) -> str:
    return f"t{size}.bench.example"


# --- seeding -------------------------------------------------------------------------


def tenant_document(size: int, index: int) -> dict[str, Any]:
    """A valid tenant document of `size` users, some with a public number."""
    rng = random.Random(size)
    users: list[dict[str, Any]] = []
    numbers: list[dict[str, Any]] = []
    for i in range(size):
        extension = str(FIRST_EXTENSION + i)
        letters = "".join(rng.choices(string.ascii_letters, k=12))
        user: dict[str, Any] = {
            "extension": extension,
            "name": f"User {i}",
            "sip_password": f"Pw{letters}{rng.randrange(10**6):06d}",
        }
        own_numbers = [extension]
        if i % NUMBER_EVERY == 0:
            number = f"+3318{index}{i // NUMBER_EVERY:06d}"  # valid French numbers
            numbers.append({"number": number, "label": f"User {i}", "user": extension})
            user["public_number"] = number
            own_numbers += [number, "0" + number[3:]]
        user["voicemail"] = {"pin": _pin(rng, own_numbers)}
        users.append(user)
    groups = [
        {
            "name": f"Group {g}",
            "extension": str(FIRST_GROUP + g),
            "members": [
                str(FIRST_EXTENSION + (g * GROUP_MEMBERS + k) % min(size, CHUNK))
                for k in range(GROUP_MEMBERS)
            ],
            "distribution": ("cyclic", "hierarchical", "simultaneous", "least_active")[g % 4],
        }
        for g in range(group_count(size))
    ]
    return {
        "domain": domain_of(size),
        "name": f"Bench {size}",
        "groups": groups,
        "timezone": "Europe/Paris",
        "country": "FR",
        "main_number": numbers[0]["number"],
        "gateway": {"proxy": "sip.carrier.example", "username": "bench", "password": "Tr-2026x"},
        "numbers": numbers,
        "users": users,
    }


def group_count(size: int) -> int:
    return min(GROUPS, min(size, CHUNK) // GROUP_MEMBERS)


def _pin(rng: random.Random, own_numbers: list[str]) -> str:
    while True:
        pin = f"{rng.randrange(10**6):06d}"
        try:
            return v.check_voicemail_pin(pin, own_numbers=own_numbers)
        except v.InvalidValue:
            pass


def seed(engine: Engine, sizes: list[int]) -> None:
    """The first chunk of each tenant (tenant, gateway, main number, users, numbers)
    goes through parse_document + apply_document; later chunks are validated by
    parse_document the same way and inserted in bulk with the service's own row values
    (`service.user_values`), so the rows are those apply_document would write."""
    upgrade(engine)
    sessions = make_session_factory(engine)
    drop_tenants(engine, sizes)
    for index, size in enumerate(sizes):
        raw = tenant_document(size, index)
        users, numbers = raw["users"], raw["numbers"]
        per_chunk = CHUNK // NUMBER_EVERY
        with sessions.begin() as session:
            first = {**raw, "users": users[:CHUNK], "numbers": numbers[:per_chunk]}
            service.apply_document(session, parse_document(first))
            tenant_id = session.scalars(select(Tenant.id).filter_by(domain=raw["domain"])).one()
        for start in range(CHUNK, size, CHUNK):
            chunk_numbers = numbers[start // NUMBER_EVERY : (start + CHUNK) // NUMBER_EVERY]
            chunk = {
                **raw,
                "main_number": None,
                "groups": [],
                "users": users[start : start + CHUNK],
            }
            doc = parse_document({**chunk, "numbers": chunk_numbers})
            with engine.begin() as conn:
                conn.execute(
                    insert(User),
                    [
                        {
                            "tenant_id": tenant_id,
                            "extension": u.extension,
                            **service.user_values(u, start + k),
                        }
                        for k, u in enumerate(doc.users)
                    ],
                )
                user_ids = dict(
                    conn.execute(
                        select(User.extension, User.id).where(
                            User.tenant_id == tenant_id,
                            User.extension.in_([n.user for n in doc.numbers]),
                        )
                    ).all()
                )
                conn.execute(
                    insert(PublicNumber),
                    [
                        {
                            "tenant_id": tenant_id,
                            "position": start // NUMBER_EVERY + k,
                            "number": n.number,
                            "label": n.label,
                            "user_id": user_ids[str(n.user)],
                        }
                        for k, n in enumerate(doc.numbers)
                    ],
                )


def drop_tenants(engine: Engine, sizes: list[int]) -> None:
    """Remove the bench's tenants (left by an interrupted run on a kept database);
    users and numbers go with them (ON DELETE CASCADE)."""
    with engine.begin() as conn:
        conn.execute(delete(Tenant).where(Tenant.domain.in_([domain_of(s) for s in sizes])))


# --- requests --------------------------------------------------------------------------


def retarget(
    fields: list[tuple[str, str]], names: dict[str, str], domain: str
) -> list[tuple[str, str]]:
    """The capture's fields aimed at other users (`names`: captured extension → new
    one) of `domain`: SIP users, hosts, realms and dialplan contexts all follow."""
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    out = []
    for name, value in fields:
        value = pattern.sub(lambda m: names[m[1]], value).replace("@127.0.0.1", "@" + domain)
        is_host = value == "127.0.0.1" and re.search(r"host|realm|domain|key_value", name, re.I)
        is_context = value == "default" and name.endswith(("Context", "user_context"))
        if is_host or is_context:
            value = domain
        elif name.endswith("Unique-ID") or name == "variable_uuid":
            value = str(uuid.uuid4())
        out.append((name, value))
    return out


def write_bodies(kind: str, size: int, path: Path) -> Path:
    """Requests to random users of the tenant, one encoded body a line."""
    rng = random.Random(f"{kind}{size}")
    fixture = fixture_fields("directory-sip_auth" if kind == "directory" else "dialplan-1000")
    lines = []
    for _ in range(BODIES_PER_CASE):
        callee, caller = (str(FIRST_EXTENSION + i) for i in rng.sample(range(size), 2))
        if kind == "group":
            callee = str(FIRST_GROUP + rng.randrange(group_count(size)))
        fields = retarget(fixture, {"1000": callee, "1001": caller}, domain_of(size))
        lines.append(fs_body(fields).decode())
    path.write_text("\n".join(lines) + "\n")
    return path


def real_answer(settings: Settings, body_file: Path) -> bytes:
    """What Centrex answers the first request, in process: the ceiling sends it back."""
    client = create_app(settings).test_client()
    body = body_file.read_text().splitlines()[0]
    answer = client.post("/xmlcurl", data=body, headers={"Authorization": AUTH})
    return answer.data


# --- server and load generator ---------------------------------------------------------


@dataclass(frozen=True)
class Server:
    base: str  # http://127.0.0.1:port
    group: int  # process group: gunicorn's master and its workers


@contextmanager
def server(command: list[str], env: dict[str, str], log: Path) -> Iterator[Server]:
    """Run a server in its own process group until /healthz answers; stop the whole
    group afterwards, whatever happened."""
    port = free_port()
    env = {**os.environ, **env, "CENTREX_HOST": "127.0.0.1", "CENTREX_PORT": str(port)}
    # `centrex serve` also serves the panel and the REST API, on a port of their own.
    env["CENTREX_PANEL_PORT"] = env.get("CENTREX_PANEL_PORT") or str(free_port())
    # The working tree's code, whatever the virtualenv's (editable) install maps.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH.parent), env.get("PYTHONPATH")]))
    with process_group(command, env, log, [port]) as process:
        yield Server(f"http://127.0.0.1:{port}", process.pid)


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # ceiling, dialplan or directory
    size: int  # users in the tenant
    path: str
    bodies: Path


@dataclass(frozen=True)
class Run:
    rps: float
    p50_ms: float
    p99_ms: float


def wrk(server: Server, case: Case, seconds: int, rate: float, c: int) -> Run:
    """One wrk run: flat out (rate 0; one thread, `c` connections) or open-loop at
    `rate` req/s (`c` threads with one connection each)."""
    threads = 1 if rate == 0 else c
    env = {
        **os.environ,
        "BENCH_BODIES": str(case.bodies),
        "BENCH_PATH": case.path,
        "BENCH_AUTH": AUTH,
        "BENCH_EXPECT": EXPECT[case.kind],
        "BENCH_RATE": str(rate),
        "BENCH_THREADS": str(threads),
    }
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{c}",
        f"-d{seconds}s",
        "-s",
        str(LUA),
        server.base + case.path,
    ]
    if os.geteuid() == 0:
        # Never let the load generator wait for a CPU: its clock is the measurement.
        command = ["nice", "-n", "-10", *command]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    found = re.search(r"^BENCH (.*)$", out, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"no result from wrk:\n{out}")
    values = {k: float(x) for k, x in (kv.split("=") for kv in found[1].split())}
    if values["bad"] or values["errors"]:
        raise RuntimeError(
            f"{values['bad']:.0f} bad answers, {values['errors']:.0f} errors:\n{out}"
        )
    # At a given rate the schedule is open-loop: the rate offered is the rate run (wrk's
    # own count also holds requests sent while it was still starting its threads).
    rps = rate or values["requests"] / values["duration_us"] * 1e6
    return Run(rps, values["p50"] / 1000, values["p99"] / 1000)


@dataclass(frozen=True)
class Result:
    case: Case
    max: Run
    half: Run
    # The ceiling's best flat-out run, taken in turn with the case's runs.
    ceiling: Run
    load: tuple[float, float]  # 1-minute load average before and after
    # Share of the machine's CPU time that went to anything but the server and wrk
    # (someone's build, other virtual machines' steal) during the timed runs.
    others: float


def machine_ticks() -> tuple[int, int, int]:
    """CPU time of the whole machine, in clock ticks (/proc/stat): busy; niced (nice > 0)
    or stolen by other virtual machines, which is never ours; total."""
    user, nice, system, idle, iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    busy = user + nice + system + irq + softirq + steal
    return busy, nice + steal, busy + idle + iowait


def our_ticks(groups: list[int]) -> int:
    """CPU time of the servers' process groups and of the finished wrk runs."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[2]) in groups:  # pgrp; then utime, stime at 11, 12
            ticks += int(fields[11]) + int(fields[12])
    children = os.times()  # waited-for children: the wrk runs
    return ticks + round((children.children_user + children.children_system) * CLOCK_TICKS)


def measure(
    case: Case, server: Server, args: argparse.Namespace, beside: tuple[Case, Server] | None = None
) -> Result:
    """Flat out (best of `--repeat` runs), then latency at half that rate. `beside`: the
    ceiling, whose flat-out runs alternate with the case's, so that both see the same
    machine: on a shared virtual machine speed drifts by more than the gaps measured."""
    pairs = [(case, server), *([beside] if beside else [])]
    # Untimed warm-up: every worker connects, loads its lazy data and fills its caches.
    for each, running in pairs:
        wrk(running, each, args.warmup, 0, args.connections)
    groups = [running.group for _, running in pairs]
    load, machine, ours = os.getloadavg()[0], machine_ticks(), our_ticks(groups)
    # Best of several runs: whatever else the machine does can only lower throughput.
    runs: dict[str, list[Run]] = {each.name: [] for each, _ in pairs}
    for _ in range(args.repeat):
        for each, running in reversed(pairs):
            runs[each.name].append(wrk(running, each, args.duration, 0, args.connections))
    flat = max(runs[case.name], key=lambda run: run.rps)
    ceiling = max(runs[beside[0].name], key=lambda run: run.rps) if beside else flat
    half = wrk(server, case, args.duration, flat.rps / 2, args.rate_connections)
    busy, niced, total = (b - a for a, b in zip(machine, machine_ticks(), strict=True))
    # Per-process and per-CPU accounting differ by a few percent: never below niced.
    others = max(busy - (our_ticks(groups) - ours), niced) / (total or 1)
    result = Result(case, flat, half, ceiling, (load, os.getloadavg()[0]), others)
    side = "".join(
        f" (ceiling beside it: {' / '.join(f'{r.rps:.0f}' for r in runs[each.name])})"
        for each, _ in pairs[1:]
    )
    print(
        f"  {case.name}: {' / '.join(f'{run.rps:.0f}' for run in runs[case.name])} req/s flat "
        f"out{side}; at {half.rps:.0f} req/s p50 "
        f"{half.p50_ms:.2f} ms, p99 {half.p99_ms:.2f} ms (load {load:.1f}→{result.load[1]:.1f}, "
        f"CPU to others {others:.0%})",
        flush=True,
    )
    return result


# --- report ----------------------------------------------------------------------------


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.MULTILINE)
    return (
        f"{os.cpu_count()} CPUs ({model[1] if model else 'unknown model'}), "
        f"Python {platform.python_version()}, gunicorn {metadata.version('gunicorn')}, "
        f"{subprocess.run(['wrk', '-v'], capture_output=True, text=True).stdout.split(' [')[0]}"
    )


def revision() -> str:
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=BENCH.parent, capture_output=True, text=True).stdout

    head = git("rev-parse", "--short", "HEAD").strip() or "?"
    return head + (
        " + uncommitted changes" if git("status", "--porcelain", "--", ".").strip() else ""
    )


def report(
    results: list[Result], args: argparse.Namespace, database: str, load: tuple[float, ...]
) -> str:
    lines = [
        f"Command: `{shlex.join(['python', '-m', 'bench.xmlcurl_bench', *sys.argv[1:]])}`",
        f"Machine: {machine()}; load average at start {load[0]:.2f} / {load[1]:.2f} / "
        f"{load[2]:.2f} (1/5/15 min).",
        f"Server: `centrex serve`, {args.workers} gunicorn sync workers, database {database}, "
        f"log level {args.log_level}; code {revision()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        f"Each case: {args.warmup} s warm-up; flat out, best of {args.repeat} runs of "
        f"{args.duration} s (wrk, one thread, {args.connections} connections), each run "
        "after one of the ceiling's, whose best is the case's ceiling; then "
        f"{args.duration} s open-loop at half that rate "
        f"({args.rate_connections} threads of one connection; latency timed from when each "
        "request was due). wrk shares the CPUs with the server.",
        "Load avg: 1-minute, before → after the case (the bench's own processes included). "
        "Others: share of the machine's CPU time used by anything but the server and wrk "
        "during the timed runs (approximate; a database server on this machine counts there).",
        "",
        "| case | max req/s | ceiling beside it | of ceiling | latency run at | p50 | p99 "
        "| load avg | others |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.case.name} | {r.max.rps:,.0f} | {r.ceiling.rps:,.0f} "
            f"| {r.max.rps / r.ceiling.rps:.0%} "
            f"| {r.half.rps:,.0f} req/s | {r.half.p50_ms:.2f} ms | {r.half.p99_ms:.2f} ms "
            f"| {r.load[0]:.1f}→{r.load[1]:.1f} | {r.others:.0%} |"
        )
    disturbed = [r.case.name for r in results if r.others > DISTURBED]
    if disturbed:
        lines += ["", f"Disturbed (others > {DISTURBED:.0%}), run again: {'; '.join(disturbed)}."]
    lines += ["", "Targets:"]

    def check(ok: bool, text: str) -> None:
        lines.append(f"- {'met' if ok else 'MISSED'}: {text}")

    cases = results[1:]
    for r in cases:
        if r.case.kind == "dialplan":
            share = r.max.rps / r.ceiling.rps
            check(share >= TARGET_OF_CEILING, f"{r.case.name}: {share:.2f} of the ceiling (≥ 0.60)")
    for r in cases:
        p99 = r.half.p99_ms
        check(p99 <= TARGET_P99_MS, f"{r.case.name}: p99 {p99:.2f} ms at half rate (≤ 10 ms)")
    for kind in KINDS:
        same = [r for r in cases if r.case.kind == kind]
        if len(same) >= 2:
            small, big = min(same, key=lambda r: r.case.size), max(same, key=lambda r: r.case.size)
            what = f"{kind}, {big.case.size:,} vs {small.case.size:,} users"
            slower = small.max.rps / big.max.rps
            p50 = big.half.p50_ms / small.half.p50_ms
            check(slower <= TARGET_SCALING, f"{what}: throughput ÷{slower:.2f} (≤ 1.3)")
            check(p50 <= TARGET_SCALING, f"{what}: p50 ×{p50:.2f} (≤ 1.3)")
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------


def _interrupted(signum: int, _frame: FrameType | None) -> None:
    # SIGTERM as Ctrl-C: unwind, so that every server started is stopped.
    raise KeyboardInterrupt


def run_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of a wrk run against `centrex serve`, shared by the benches."""
    cpus = os.cpu_count() or 1
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (10)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed seconds per case (3)")
    parser.add_argument("--repeat", type=int, default=2, help="flat-out runs, best kept (2)")
    parser.add_argument(
        "--workers", type=int, default=2 * cpus + 1, help="gunicorn workers (2 × CPUs + 1)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    run_arguments(parser)
    parser.add_argument("--connections", type=int, help="flat out: connections (2 × workers)")
    parser.add_argument(
        "--rate-connections", type=int, help="at half rate: connections (workers - 1)"
    )
    parser.add_argument("--sizes", default="100,10000,100000", help="users per tenant")
    parser.add_argument("--kinds", default=",".join(KINDS), help="fetches to measure")
    parser.add_argument("--log-level", default="INFO", help="CENTREX_LOG_LEVEL of the servers")
    parser.add_argument("--database-url", help="instead of an SQLite file in a temp dir")
    args = parser.parse_args()
    args.connections = args.connections or 2 * args.workers
    # wrk reconnects as soon as an answer is in and sends the next request when it is
    # due; a sync worker that accepts the idle connection waits for it meanwhile. With
    # fewer connections than workers, no due request ever waits behind an idle one.
    args.rate_connections = args.rate_connections or max(args.workers - 1, 1)
    if not set(args.kinds.split(",")) <= set(KINDS):
        parser.error(f"--kinds: some of {', '.join(KINDS)}")
    if shutil.which("wrk") is None:
        sys.exit("wrk (HTTP load generator) is not installed: apt-get install wrk")
    signal.signal(signal.SIGTERM, _interrupted)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="centrex-bench-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        engine = make_engine(url)
        sizes = sorted(int(s) for s in args.sizes.split(","))
        try:
            results = run(args, Path(tmp), url, engine, sizes)
        finally:
            if args.database_url:
                drop_tenants(engine, sizes)  # leave the given database as it was
            engine.dispose()
    database = "SQLite (temp file)" if url.startswith("sqlite") else engine.dialect.name
    print_and_save(report(results, args, database, load), "xmlcurl")
    return 0


def print_and_save(text: str, name: str) -> None:
    """A bench's report, printed and kept in bench/results/ (not versioned)."""
    print("\n" + text)
    saved = BENCH / "results" / f"{name}-{datetime.now(UTC):%Y%m%d-%H%M%S}.md"
    saved.parent.mkdir(exist_ok=True)
    saved.write_text(text + "\n")
    print(f"\n(saved in {saved.relative_to(BENCH.parent)})")


def run(
    args: argparse.Namespace, work: Path, url: str, engine: Engine, sizes: list[int]
) -> list[Result]:
    started = time.monotonic()
    seed(engine, sizes)
    seconds = time.monotonic() - started
    print(f"seeded tenants of {', '.join(f'{s:,}' for s in sizes)} users in {seconds:.0f} s")
    ceiling = Case(
        "ceiling (constant document)",
        "ceiling",
        0,
        "/bench/constant",
        write_bodies("dialplan", sizes[0], work / "ceiling.txt"),
    )
    cases = [
        Case(
            f"{kind}, {size:,} users",
            kind,
            size,
            "/xmlcurl",
            write_bodies(kind, size, work / f"{kind}-{size}.txt"),
        )
        for kind in args.kinds.split(",")
        for size in sizes
    ]
    # The ceiling sends back what Centrex answers to the same request: as many bytes.
    settings = Settings(database_url=url, xmlcurl_credentials=CREDENTIALS, log_level="WARNING")
    constant = work / "constant.xml"
    constant.write_bytes(real_answer(settings, ceiling.bodies))
    env = {
        "CENTREX_DATABASE_URL": url,
        "CENTREX_XMLCURL_CREDENTIALS": CREDENTIALS,
        "CENTREX_WORKERS": str(args.workers),
        "CENTREX_LOG_LEVEL": args.log_level,
        "BENCH_CONSTANT_FILE": str(constant),
    }
    log = work / "server.log"
    print(f"load average {os.getloadavg()[0]:.2f}; {args.workers} workers", flush=True)
    # Both servers stay up (an idle one costs nothing): each case is measured in turn
    # with the ceiling.
    with (
        server([sys.executable, "-m", "bench.ceiling"], env, log) as stack,
        server([str(Path(sys.executable).parent / "centrex"), "serve"], env, log) as running,
    ):
        results = [measure(ceiling, stack, args)]
        results += [measure(case, running, args, beside=(ceiling, stack)) for case in cases]
    return results


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted: every server started has been stopped")
