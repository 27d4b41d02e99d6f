"""Capacity on the production path (tests/e2e/capacity.py): how many calls a second a
node takes with no call failed, their setup, the CPU each kind of process spends per
call, and the call log exact; then a sustained overload at 1.5 × that rate, where no
registered phone may be refused and the calls beyond capacity must be turned away early
and cleanly (503, NORMAL_TEMPORARY_FAILURE) while the rest complete.

On the embedded SQLite database and on PostgreSQL (a throw-away server on the same
machine, whose CPU is counted too). In the end-to-end tier it is a check: one rate for
15 s on each database, every call completed and logged exactly, CPU figures present.
The measurement (README, "Capacity"), by environment variables:

    CENTREX_CAPACITY_RATES=2,4,6,8,10,12,14,16 CENTREX_CAPACITY_SECONDS=60 \\
      CENTREX_E2E=1 pytest -s tests/e2e/test_capacity.py

climbs the rates until the first with a failed call, a call log not exact or a setup
p99 over CENTREX_CAPACITY_P99_MS (300), runs the overload at 1.5 × the last rate
passed, and prints the Markdown table. CENTREX_CAPACITY_TALK_MS (2000) is each call's
length, CENTREX_CAPACITY_DATABASES (sqlite,postgresql) the databases measured.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import postgres_server
from tests.e2e.capacity import (
    Bench,
    Step,
    overload_report,
    passed,
    run_step,
    running_bench,
    sizing,
    table,
)

pytestmark = pytest.mark.e2e

MEASURING = bool(os.environ.get("CENTREX_CAPACITY_RATES"))
RATES = [float(r) for r in os.environ.get("CENTREX_CAPACITY_RATES", "4").split(",")]
SECONDS = float(os.environ.get("CENTREX_CAPACITY_SECONDS", "15"))
TALK_MS = int(os.environ.get("CENTREX_CAPACITY_TALK_MS", "2000"))
P99_BOUND_MS = float(os.environ.get("CENTREX_CAPACITY_P99_MS", "300"))
DATABASES = os.environ.get("CENTREX_CAPACITY_DATABASES", "sqlite,postgresql").split(",")
OVERLOAD = 1.5
REREGISTRATIONS = 5.0  # REGISTERs a second during the overload, of phones registered


# The check proves the path, not how this shared machine stalls: a call whose fetch
# waited 250 ms behind others' work would be turned away (503), as in production; the
# measurement keeps production's limit.
CALL_WAIT_LIMIT = 0 if MEASURING else 900


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_capacity(database: str, tmp_path: Path):
    if database not in DATABASES:
        pytest.skip(f"not in CENTREX_CAPACITY_DATABASES ({','.join(DATABASES)})")
    if database == "sqlite":
        url = f"sqlite:///{tmp_path / 'centrex.sqlite3'}"
        with running_bench("SQLite", url, tmp_path, [], call_wait_limit=CALL_WAIT_LIMIT) as bench:
            measure(bench)
        return
    if not postgres_server.installed():
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with (
        postgres_server.throwaway_server() as server,
        running_bench(
            "PostgreSQL",
            server.url,
            tmp_path,
            server.processes()[:1],
            call_wait_limit=CALL_WAIT_LIMIT,
        ) as bench,
    ):
        measure(bench)


def measure(bench: Bench) -> None:
    steps: list[Step] = []
    for rate in RATES:
        step = run_step(bench, rate, SECONDS, TALK_MS)
        steps.append(step)
        print(f"\n{table([step], P99_BOUND_MS)}", flush=True)
        if not passed(step, P99_BOUND_MS):
            break
    print(
        f"\ncapacity, {bench.name}, {SECONDS:g} s a rate, calls of {TALK_MS} ms, bound "
        f"setup p99 ≤ {P99_BOUND_MS:g} ms:\n{table(steps, P99_BOUND_MS)}",
        flush=True,
    )
    print(f"\n{sizing(steps[-1] if passed(steps[-1], P99_BOUND_MS) else steps[0])}")
    for step in steps:
        sane = {kind: 0 < step.cpu_ms[kind] < 1000 for kind in ("FreeSWITCH", "server")}
        assert all(sane.values()), step.cpu_ms
        assert step.cpu_ms["listener"] > 0, step.cpu_ms
        assert step.window_calls >= step.rate * SECONDS / 3
    if not MEASURING:
        # The check: the rate is well within what the node takes.
        (step,) = steps
        assert step.failed == 0, step.refusals()
        assert step.call_log == "exact"
        return
    sustained = [s for s in steps if passed(s, P99_BOUND_MS)]
    assert sustained, "not even the first rate was sustained"
    capacity = sustained[-1].rate
    print(f"\nsustained, {bench.name}: {capacity:g} calls/s", flush=True)
    overload = run_step(bench, capacity * OVERLOAD, SECONDS, TALK_MS, registrations=REREGISTRATIONS)
    print(f"\n{overload_report(overload, capacity)}", flush=True)
    # No registered phone is refused: not its REGISTER, not its call's authentication.
    assert overload.registrations.get("403", 0) == 0
    assert not [c for c in overload.calls.values() if c.final == 403]
    # Calls beyond capacity are turned away, early and with a cause carriers retry on;
    # the others complete, and the call log holds them exactly.
    not_completed = [c for c in overload.calls.values() if not c.completed]
    assert all(c.final == 503 for c in not_completed), overload.refusals()
    assert all(c.setup_ms < 1500 for c in not_completed), overload.refusal_ms()[-5:]
    assert overload.call_log == "exact"
