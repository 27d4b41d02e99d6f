"""Frozen database benchmark: how long FreeSWITCH and people wait for an answer while
PostgreSQL is stopped dead, and how soon routing is back once it runs again.

    python -m bench.frozen_database_bench [--requests 10] [--deadline 500]

Starts a throw-away PostgreSQL server (tests/postgres_server.py) with the demo tenant
and `centrex serve` on free loopback ports (2 switch-side workers, as the tests), warms
every worker up, then stops every PostgreSQL process with SIGSTOP (its kernel still
acknowledges every byte, as a hung host's does) and times, one after the other:
`--requests` dialplan fetches (each must be the fallback, the call rejected with
NORMAL_TEMPORARY_FAILURE), as many call records (each must be 503) and REST API reads
(each must be 503). Then SIGCONT, and the time until a fetch routes the call again.
Prints a Markdown table (saved in bench/results/).
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bench.xmlcurl_bench import machine, print_and_save, revision
from centrex.db import make_engine, make_session_factory, upgrade
from provisioning import service
from tests import postgres_server
from tests.conftest import apply_raw, demo_document
from tests.stack import Answer, Stack, running_stack

BRIDGE = ("bridge", "user/1000@127.0.0.1")
UNAVAILABLE = [("hangup", "NORMAL_TEMPORARY_FAILURE")]
TARGET_S = 1.0


def timed(
    what: str, count: int, request: Callable[[], Answer], good: Callable[[Answer], bool]
) -> list[float]:
    """Seconds each of `count` requests took, one after the other; every answer checked."""
    seconds = []
    for _ in range(count):
        answer = request()
        if not good(answer):
            raise RuntimeError(f"{what}: unexpected answer {answer.status} {answer.body[:200]!r}")
        seconds.append(answer.seconds)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10, help="of each kind (10)")
    parser.add_argument("--deadline", default="500", help="CENTREX_FETCH_DEADLINE, ms (500)")
    parser.add_argument(
        "--database-timeout", default="5000", help="CENTREX_DATABASE_TIMEOUT, ms (5000)"
    )
    args = parser.parse_args()
    with postgres_server.throwaway_server() as database:
        engine = make_engine(database.url)
        upgrade(engine)
        apply_raw(engine, demo_document())
        with make_session_factory(engine).begin() as session:
            token = service.create_token(session, "bench", None)
        engine.dispose()
        settings = {"fetch_deadline": args.deadline, "database_timeout": args.database_timeout}
        with running_stack(database.url, **settings) as stack:
            rows, recovered = measure(stack, database, token, args.requests)
    lines = [
        f"Command: `{shlex.join(['python', '-m', 'bench.frozen_database_bench', *sys.argv[1:]])}`",
        f"Machine: {machine()}.",
        f"Server: `centrex serve`, 2 switch-side workers, 1 people-side worker, PostgreSQL "
        f"(throw-away, same machine) stopped with SIGSTOP; CENTREX_FETCH_DEADLINE "
        f"{args.deadline} ms, CENTREX_DATABASE_TIMEOUT {args.database_timeout} ms; code "
        f"{revision()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "| while the database is stopped | answer | min | median | max |",
        "|---|---|---:|---:|---:|",
    ]
    for what, answer, seconds in rows:
        lines.append(
            f"| {what} | {answer} | {min(seconds):.3f} s | {statistics.median(seconds):.3f} s "
            f"| {max(seconds):.3f} s |"
        )
    worst = max(max(s) for what, _, s in rows if what != "REST API read")
    verdict = "met" if worst <= TARGET_S else "MISSED"
    lines += [
        "",
        f"After SIGCONT, the first fetch that routed the call again came {recovered:.3f} s later.",
        f"Target: {verdict}: FreeSWITCH answered within {worst:.3f} s at worst (≤ 1 s).",
    ]
    print_and_save("\n".join(lines), "frozen-database")
    return 0


def measure(
    stack: Stack, database: postgres_server.Server, token: str, count: int
) -> tuple[list[tuple[str, str, list[float]]], float]:
    for _ in range(8):  # every worker connected
        assert BRIDGE in stack.fetch_dialplan().actions()
        assert stack.api("/tenants", token).status == 200
    with database.stopped_dead():
        rows = [
            (
                "dialplan fetch",
                "hangup NORMAL_TEMPORARY_FAILURE",
                timed(
                    "dialplan fetch",
                    count,
                    stack.fetch_dialplan,
                    lambda a: a.actions() == UNAVAILABLE,
                ),
            ),
            ("call record", "503", timed("call record", count, stack.post_cdr, is_503)),
            (
                "REST API read",
                "503",
                timed("REST API read", count, lambda: stack.api("/tenants", token), is_503),
            ),
        ]
        let_go = time.monotonic()
    while BRIDGE not in stack.fetch_dialplan().actions():
        if time.monotonic() - let_go > 30:
            raise RuntimeError("routing did not recover within 30 s")
    return rows, time.monotonic() - let_go


def is_503(answer: Answer) -> bool:
    return answer.status == 503


if __name__ == "__main__":
    sys.exit(main())
