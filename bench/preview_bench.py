"""Time a dry run with its routing effects (`provisioning.preview`) on the demo tenant
and on apply_bench's 1,000-user tenant (schedules, holidays, 100 hunt groups, a queue),
each previewing one user's new forward, on a fresh SQLite file:

    .venv/bin/python -m bench.preview_bench [--users 1000]
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.apply_bench import bench_document
from centrex.db import make_engine, make_session_factory, upgrade
from provisioning import preview, service
from provisioning.document import load_text, parse_document

DEMO = Path(__file__).resolve().parents[1] / "provisioning" / "demo" / "tenant.yaml"


def measure(factory: Any, raw: dict[str, Any], name: str) -> None:
    with factory.begin() as session:
        service.apply_document(session, parse_document(raw))
    changed = copy.deepcopy(raw)
    changed["users"][1]["call_handling"] = {"forward_always": {"to": raw["users"][2]["extension"]}}
    doc = parse_document(changed)
    with factory.begin() as session:
        started = time.perf_counter()
        report, effects = preview.preview(
            session,
            doc,
            lambda: service.apply_document(session, doc),
            default_country="FR",
            now=datetime.now(UTC),
        )
        session.rollback()
        took = time.perf_counter() - started
    print(
        f"{name}: {len(raw['users'])} users, {effects.considered} calls considered, "
        f"{effects.explained} explained twice, {len(effects.changes)} change, "
        f"{took:.2f} s ({report.updated})"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.sqlite3")
        upgrade(engine)
        factory = make_session_factory(engine)
        measure(factory, load_text(DEMO.read_text()), "demo")
        measure(factory, bench_document(args.users), f"{args.users}-user tenant")
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
