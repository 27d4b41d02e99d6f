"""xml_curl fetch benchmark: throughput and latency of dialplan and directory fetches for
tenants of 100, 10,000 and 100,000 users, beside the ceiling (the same server stack
answering a constant document).

    python -m bench.xmlcurl_bench [--duration 10] [--workers 4] [--connections 8]
                                  [--database-url URL] [--sizes 100,10000,100000]

Each case runs twice with wrk on loopback: flat out (maximum throughput), then paced
to half that rate (wrk's delay() between a connection's requests) for the latency a
FreeSWITCH node sees when Centrex is not saturated. Request bodies are the captured
FreeSWITCH requests re-aimed at random users of the tenant, encoded as mod_xml_curl
encodes them. Prints a Markdown table for the README.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert

from centrex.db import make_engine, make_session_factory, upgrade
from provisioning import service
from provisioning.document import parse_document
from provisioning.models import Tenant, User
from tests.fsrequests import fixture_fields, fs_body, with_fields

CREDENTIALS = "bench:bench-secret"
AUTH = "Basic YmVuY2g6YmVuY2gtc2VjcmV0"  # base64 of CREDENTIALS
BODIES_PER_CASE = 2000

LUA = """
local bodies, i = {}, 0
local path = os.getenv("BENCH_PATH")
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
for line in io.lines(os.getenv("BENCH_BODIES")) do bodies[#bodies + 1] = line end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = os.getenv("BENCH_AUTH")
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, path, nil, bodies[i])
end
if delay_ms > 0 then delay = function() return delay_ms end end
"""


def domain_of(size: int) -> str:
    return f"t{size}.bench.example"


def seed(url: str, sizes: list[int]) -> None:
    """Tenants through the service (validated), users in bulk with validated values."""
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    for size in sizes:
        doc = parse_document(
            {
                "domain": domain_of(size),
                "name": f"Bench {size}",
                "timezone": "Europe/Paris",
                "country": "FR",
                "gateway": {"proxy": "sip.carrier.example"},
            }
        )
        with sessions.begin() as session:
            service.apply_document(session, doc)
            tenant_id = session.query(Tenant.id).filter_by(domain=doc.domain).scalar()
        rows = [
            {
                "tenant_id": tenant_id,
                "position": i,
                "extension": str(100000 + i),
                "display_name": f"User {i}",
                "sip_password": f"Bench-Pass-{i:06d}x",
                "public_number": None,
                "voicemail_enabled": True,
                "voicemail_pin": "480519",
                "voicemail_emails": [],
                "max_concurrent_calls": 5,
                "call_waiting": True,
                "allowed_destinations": ["national"],
                "contacts": [],
                "call_handling": {},
            }
            for i in range(size)
        ]
        with engine.begin() as conn:
            for start in range(0, size, 5000):
                conn.execute(insert(User), rows[start : start + 5000])
    engine.dispose()


def bodies(kind: str, size: int, path: Path) -> Path:
    rng = random.Random(size)
    domain = domain_of(size)
    lines = []
    for _ in range(BODIES_PER_CASE):
        callee, caller = (str(100000 + rng.randrange(size)) for _ in range(2))
        if kind == "dialplan":
            fields = with_fields(
                fixture_fields("dialplan-1000"),
                {
                    "Hunt-Context": domain,
                    "Caller-Context": domain,
                    "Hunt-Destination-Number": callee,
                    "Caller-Destination-Number": callee,
                    "variable_user_name": caller,
                    "variable_domain_name": domain,
                },
            )
        else:
            fields = with_fields(
                fixture_fields("directory-sip_auth"),
                {"user": callee, "domain": domain, "key_value": domain},
            )
        lines.append(fs_body(fields).decode())
    path.write_text("\n".join(lines) + "\n")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(app: str, url: str, workers: int) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "CENTREX_DATABASE_URL": url,
        "CENTREX_XMLCURL_CREDENTIALS": CREDENTIALS,
        "CENTREX_PORT": str(port),
        "CENTREX_WORKERS": str(workers),
        "CENTREX_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.serve", app], env=env, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{app} server did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _latency(output: str, percent: str) -> float:
    match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    if not match:
        raise RuntimeError(f"no {percent}% latency in wrk output:\n{output}")
    return float(match[1]) * _UNITS[match[2]]


def wrk(
    base: str,
    path: str,
    body_file: Path,
    script: Path,
    args: argparse.Namespace,
    delay_ms: float = 0,
) -> Result:
    env = {
        **os.environ,
        "BENCH_BODIES": str(body_file),
        "BENCH_PATH": path,
        "BENCH_AUTH": AUTH,
        "BENCH_DELAY_MS": f"{delay_ms:.3f}",
    }
    command = [
        "wrk",
        "-t1",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--latency",
        "-s",
        str(script),
        base + path,
    ]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise RuntimeError(f"{errors[1]} failed requests:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])  # type: ignore[index]
    return Result(rps, _latency(output, "50"), _latency(output, "99"))


def measure(
    base: str, path: str, body_file: Path, script: Path, args: argparse.Namespace
) -> tuple[Result, Result]:
    # Untimed warm-up: every worker loads its lazy data (number metadata, caches).
    wrk(base, path, body_file, script, argparse.Namespace(**{**vars(args), "duration": 3}))
    flat_out = wrk(base, path, body_file, script, args)
    # Each connection sends one request, waits for the answer, then `delay`: pace the
    # connections so that together they send half the maximum rate.
    period_ms = args.connections * 1000 / (flat_out.rps / 2)
    half = wrk(base, path, body_file, script, args, delay_ms=max(period_ms - flat_out.p50_ms, 0))
    return flat_out, half


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--database-url")
    parser.add_argument("--sizes", default="100,10000,100000")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    sizes = [int(s) for s in args.sizes.split(",")]

    with tempfile.TemporaryDirectory(prefix="centrex-bench-") as tmp:
        work = Path(tmp)
        url = args.database_url or f"sqlite:///{work / 'bench.sqlite3'}"
        started = time.monotonic()
        seed(url, sizes)
        print(
            f"seeded {', '.join(map(str, sizes))} users in {time.monotonic() - started:.0f} s",
            flush=True,
        )
        script = work / "bench.lua"
        script.write_text(LUA)
        rows: list[tuple[str, Result, Result]] = []
        with server("ceiling", url, args.workers) as base:
            body_file = bodies("dialplan", sizes[0], work / "ceiling.txt")
            flat, half = measure(base, "/bench/constant", body_file, script, args)
            rows.append(("ceiling (constant document)", flat, half))
        with server("centrex", url, args.workers) as base:
            for kind in ("dialplan", "directory"):
                for size in sizes:
                    body_file = bodies(kind, size, work / f"{kind}-{size}.txt")
                    flat, half = measure(base, "/xmlcurl", body_file, script, args)
                    rows.append((f"{kind}, {size:,} users", flat, half))
                    print(f"  {rows[-1][0]}: {rows[-1][1].rps:.0f} req/s", flush=True)

    ceiling = rows[0][1].rps
    print(
        f"\nCommand: python -m bench.xmlcurl_bench --duration {args.duration} --workers "
        f"{args.workers} --connections {args.connections} --sizes {args.sizes}"
    )
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    print(
        f"Machine: {os.cpu_count()} CPUs ({cpu}); load before: {os.getloadavg()[0]:.2f}; "
        f"database: {'SQLite' if url.startswith('sqlite') else url.split(':', 1)[0]}\n"
    )
    print(
        "| case | max req/s | of ceiling | p50 at half rate | p99 at half rate | "
        "p50 / p99 flat out |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, flat, half in rows:
        print(
            f"| {name} | {flat.rps:,.0f} | {flat.rps / ceiling:.0%} | {half.p50_ms:.2f} ms | "
            f"{half.p99_ms:.2f} ms | {flat.p50_ms:.2f} / {flat.p99_ms:.2f} ms |"
        )
    by_name = {name: flat for name, flat, _ in rows}
    small, big = sizes[0], sizes[-1]
    for kind in ("dialplan", "directory"):
        a, b = by_name[f"{kind}, {small:,} users"], by_name[f"{kind}, {big:,} users"]
        print(
            f"\n{kind}: {big:,} vs {small:,} users — throughput ×{a.rps / b.rps:.2f} slower, "
            f"p50 ×{b.p50_ms / a.p50_ms:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
