"""Provisioning benchmark: `centrex apply` and `centrex export` of a large tenant.

    python -m bench.apply_bench [--users 100000] [--database-url URL] [--repeat N]

Writes a tenant document of `--users` users (YAML, as `centrex export` writes it), then
runs the real command, each case in a fresh process, and measures its wall time and
peak resident memory (the process's own, from wait4):

1. `centrex apply FILE` of the new document (the tenant does not exist yet);
2. `centrex apply FILE` again, unchanged (`no change`);
3. `centrex apply` of the document with one user's name changed;
4. `centrex export DOMAIN -o FILE`.

Every output is checked: what apply reports, and that the export is the canonical form
of the document applied. Prints a Markdown table for the README and the targets, met or
not (saved in bench/results/).
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, delete

from bench.xmlcurl_bench import print_and_save, revision, tenant_document
from centrex.db import make_engine, upgrade
from provisioning.document import dump_document, load_text, parse_document
from provisioning.models import Tenant

BENCH = Path(__file__).resolve().parent
# Public numbers +33189xxxxxx: none of them is one of xmlcurl_bench's tenants'.
NUMBERS_INDEX = 9
# The targets for a tenant of this many users.
TARGET_USERS = 100_000
TARGETS = {"apply, new": (60.0, 500.0), "apply, unchanged": (20.0, None), "export": (10.0, None)}


def domain_of(users: int) -> str:
    return f"a{users}.apply-bench.example"


def bench_document(users: int, lines_only: bool = False) -> dict[str, Any]:
    """xmlcurl_bench's tenant (users, one in ten with a public number, 100 hunt groups),
    with what real tenants also have (unless `lines_only`): e-mailed voicemail,
    personal contacts, forwards, call barring choices, schedules, holidays, a queue,
    speed dials and a directory."""
    raw = tenant_document(users, NUMBERS_INDEX)
    raw["domain"] = domain_of(users)
    if lines_only:
        return raw
    rng = random.Random(users)
    extensions = [u["extension"] for u in raw["users"]]
    for i, user in enumerate(raw["users"]):
        if i % 3 == 0:
            user["voicemail"]["emails"] = [f"user{i}@{raw['domain']}"]
        if i % 5 == 0:
            user["contacts"] = [
                {"name": "Home", "numbers": [f"01 42 {rng.randrange(10**6):06d}"]},
                {"name": "Mobile", "numbers": [f"0612{rng.randrange(10**6):06d}"]},
            ]
        handling: dict[str, Any] = {}
        if i % 4 == 0:
            handling["forward_no_answer"] = {"to": "voicemail", "after": 15}
        if i % 8 == 1:
            handling["forward_busy"] = {"to": extensions[(i + 1) % len(extensions)]}
        if i % 12 == 2:
            handling["forward_unreachable"] = {"to": f"+33781{rng.randrange(10**6):06d}"}
        if i % 20 == 0:
            handling["do_not_disturb"] = {
                "enabled": False,
                "priority_callers": {"contacts": ["Home"]},
            }
        if i % 50 == 3:
            handling["forward_always"] = {"to": "voicemail", "schedule": "Weekends"}
        if handling:
            user["call_handling"] = handling
        if i % 10 == 7:
            user["call_barring"] = ["premium", "operator", "directory"]
        if i % 25 == 0:
            user["max_concurrent_calls"] = 2
            user["call_waiting"] = False
        if i % 1000 == 0:
            user["panel_admin"] = True
    raw["schedules"] = [
        {"name": "Weekends", "sat": ["00:00-24:00"], "sun": ["00:00-24:00"]},
        {"name": "Shop", "mon": ["09:00-12:30", "14:00-19:00"], "sat": ["09:00-12:00"]},
    ]
    raw["holidays"] = [
        {"name": "Christmas", "date": "2026-12-25"},
        {"name": "Winter closing", "from": "2026-12-24", "to": "2027-01-03"},
    ]
    raw["queues"] = [
        {"name": "Support", "extension": "190000", "agents": extensions[:20]},
    ]
    raw["speed_dials"] = [
        {"code": str(550 + k), "name": f"Supplier {k}", "number": f"09 70 71 {k:02d} 58"}
        for k in range(50)
    ]
    raw["directory"] = [
        {"name": f"Contact {k}", "number": f"01 45 {k // 100:02d} {k % 100:02d} 45"}
        for k in range(500)
    ]
    return raw


def write_yaml(data: dict[str, Any], path: Path) -> None:
    # libyaml's emitter: the bench's own files need not wait for the pure-Python one.
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(data, out, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True)


@dataclass(frozen=True)
class Run:
    seconds: float
    # CPU time (user and system): what the command itself cost, whatever else ran.
    cpu_seconds: float
    peak_mb: float
    stdout: str


# Runs the command given and prints its wall time and peak RSS. A process started
# directly by the bench would count the bench's own memory: Linux carries the parent's
# peak over into a child's (ru_maxrss), and this small process's is below any command's.
_TIMER = """
import os, subprocess, sys, time
started = time.perf_counter()
process = subprocess.Popen(sys.argv[1:])
_pid, status, usage = os.wait4(process.pid, 0)
seconds = time.perf_counter() - started
cpu = usage.ru_utime + usage.ru_stime
print(os.waitstatus_to_exitcode(status), seconds, cpu, usage.ru_maxrss, file=sys.stderr)
"""


def centrex(env: dict[str, str], *args: str) -> Run:
    """One `centrex` command in a fresh process: wall time and its own peak RSS."""
    command = [sys.executable, "-c", _TIMER, sys.executable, "-m", "centrex.cli", *args]
    # Run from elsewhere than a source tree: `-m` puts the working directory first on the
    # path, before the tree PYTHONPATH names.
    done = subprocess.run(
        command, env=env, cwd=tempfile.gettempdir(), capture_output=True, text=True
    )
    *stderr, timed = done.stderr.splitlines()
    status, seconds, cpu, kib = timed.split()
    if int(status) != 0:
        raise RuntimeError(f"{shlex.join(args)} failed ({status}):\n" + "\n".join(stderr[-50:]))
    # ru_maxrss is in KiB on Linux.
    return Run(float(seconds), float(cpu), int(kib) * 1024 / 1e6, done.stdout)


@dataclass(frozen=True)
class Result:
    case: str
    users: int
    runs: list[Run]

    @property
    def best(self) -> Run:
        return min(self.runs, key=lambda r: r.seconds)


def expect(ok: bool, what: str) -> None:
    if not ok:
        raise RuntimeError(f"unexpected result: {what}")


def run_size(
    users: int, engine: Engine, env: dict[str, str], work: Path, args: argparse.Namespace
) -> list[Result]:
    domain = domain_of(users)
    repeat = args.repeat
    raw = bench_document(users, args.lines_only)
    new_file, changed_file = work / f"tenant-{users}.yaml", work / f"changed-{users}.yaml"
    exported = work / f"export-{users}.yaml"
    write_yaml(raw, new_file)
    changed = {**raw, "users": [dict(u) for u in raw["users"]]}
    changed["users"][users // 2]["name"] = "Renamed User"
    write_yaml(changed, changed_file)
    print(f"{users:,} users: document of {new_file.stat().st_size / 1e6:.1f} MB", flush=True)

    results = {c: Result(c, users, []) for c in ("apply, new", "apply, unchanged")}
    results |= {c: Result(c, users, []) for c in ("apply, one user changed", "export")}
    for _ in range(repeat):
        drop_tenants(engine, [users])
        new = centrex(env, "apply", str(new_file))
        created = new.stdout.count("\ncreated: user ") + new.stdout.startswith("created: user ")
        expect(f"created: tenant {domain}" in new.stdout, "the tenant created")
        expect(created == users, f"{users} users created, not {created}")
        results["apply, new"].runs.append(new)
        again = centrex(env, "apply", str(new_file))
        expect(again.stdout == "no change\n", f"no change, not {again.stdout[:200]!r}")
        results["apply, unchanged"].runs.append(again)
        one = centrex(env, "apply", str(changed_file))
        expect(one.stdout == f"updated: user {raw['users'][users // 2]['extension']}\n", "one")
        centrex(env, "apply", str(new_file))  # back as it was (untimed)
        results["apply, one user changed"].runs.append(one)
        results["export"].runs.append(centrex(env, "export", domain, "-o", str(exported)))
        for r in results.values():
            print(
                f"  {r.case}: {r.runs[-1].seconds:.1f} s, {r.runs[-1].peak_mb:,.0f} MB", flush=True
            )
    drop_tenants(engine, [users])  # its numbers are the next size's too
    again_doc = parse_document(load_text(exported.read_text(encoding="utf-8")))
    expect(dump_document(again_doc) == dump_document(parse_document(raw)), "export is canonical")
    return list(results.values())


def drop_tenants(engine: Engine, sizes: list[int]) -> None:
    """Remove the bench's tenants; what they own goes with them (ON DELETE CASCADE)."""
    with engine.begin() as conn:
        conn.execute(delete(Tenant).where(Tenant.domain.in_([domain_of(s) for s in sizes])))


def report(results: list[Result], args: argparse.Namespace, database: str) -> str:
    code = revision() if Path(args.code) == BENCH.parent else args.code
    lines = [
        f"Command: `{shlex.join(['python', '-m', 'bench.apply_bench', *sys.argv[1:]])}`",
        f"Machine: {os.cpu_count()} CPUs, {_memory_gb():.0f} GB, load average "
        f"{args.load_before:.1f} at start and {os.getloadavg()[0]:.1f} at the end (other "
        f"work slows every case); database {database}; code {code}; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        f"Each case a fresh `centrex` process; best wall time of {args.repeat} run(s), "
        "peak resident memory of that run. Document: "
        + ("lines only (--lines-only)." if args.lines_only else "lines, contacts, forwards …"),
        "",
        "| case | users | wall time | CPU time | peak memory |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in results:
        best = r.best
        lines.append(
            f"| {r.case} | {r.users:,} | {best.seconds:.1f} s | {best.cpu_seconds:.1f} s "
            f"| {best.peak_mb:,.0f} MB |"
        )
    lines += ["", "Targets (100,000 users):"]
    for r in results:
        if r.users != TARGET_USERS or r.case not in TARGETS:
            continue
        seconds, megabytes = TARGETS[r.case]
        ok = r.best.seconds <= seconds
        lines.append(
            f"- {'met' if ok else 'MISSED'}: {r.case} {r.best.seconds:.1f} s (≤ {seconds:.0f} s)"
        )
        if megabytes is not None:
            ok = r.best.peak_mb <= megabytes
            lines.append(
                f"- {'met' if ok else 'MISSED'}: {r.case} peak {r.best.peak_mb:,.0f} MB "
                f"(≤ {megabytes:.0f} MB)"
            )
    return "\n".join(lines)


def _memory_gb() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--users", default=str(TARGET_USERS), help="users, or a list: 10000,100000")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each case, best kept (1)")
    parser.add_argument(
        "--lines-only",
        action="store_true",
        help="xmlcurl_bench's tenant as it is: no e-mails, contacts, forwards, schedules …",
    )
    parser.add_argument("--database-url", help="instead of an SQLite file in a temp dir")
    parser.add_argument(
        "--code",
        default=str(BENCH.parent),
        help="the source tree whose `centrex` runs (default: this one; e.g. an older "
        "commit's, unpacked with git archive, to measure before and after alike)",
    )
    args = parser.parse_args()
    args.load_before = os.getloadavg()[0]
    sizes = [int(s) for s in args.users.split(",")]
    with tempfile.TemporaryDirectory(prefix="centrex-apply-bench-") as tmp:
        work = Path(tmp)
        url = args.database_url or f"sqlite:///{work / 'bench.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        env = {
            **os.environ,
            "CENTREX_DATABASE_URL": url,
            "CENTREX_DATA_DIR": str(work / "data"),
            # That tree's code, whatever the virtualenv's install maps.
            "PYTHONPATH": os.pathsep.join(filter(None, [args.code, os.environ.get("PYTHONPATH")])),
        }
        try:
            results = [r for users in sizes for r in run_size(users, engine, env, work, args)]
        finally:
            drop_tenants(engine, sizes)  # leave a given database as it was
            engine.dispose()
        database = "SQLite (temp file)" if url.startswith("sqlite") else engine.dialect.name
    print_and_save(report(results, args, database), "apply")
    return 0


if __name__ == "__main__":
    sys.exit(main())
