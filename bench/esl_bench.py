"""Event throughput of the listener: a fake FreeSWITCH (real wire protocol, real event
headers) pushes call and registration events at a fixed rate through one listener
writing live state to the database. Run by hand; see bench/README.md.

    python -m bench.esl_bench [--rate 500] [--duration 60] [--users 1000] [--nodes 1]
    python -m bench.esl_bench --hour --rate 1500   # 500/s × 3600 events, 3 × faster

Reports events written per second, the lag from the moment FreeSWITCH fired an event
to the moment its change was committed (p50/p99/max), the listener's CPU time per
event, the process's memory and the machine's load average.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import multiprocessing.connection
import os
import random
import resource
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import gevent

from bench.esl_replay import record, replays
from bench.xmlcurl_bench import FIRST_EXTENSION, domain_of, seed
from centrex.config import Settings
from centrex.db import make_engine
from esl.listener import Listener
from tests.fakes.freeswitch import FakeFreeSWITCH

PASSWORD = "bench-secret"
# Subscribed events a call between two phones makes, both legs ringing then answered:
# CREATE + CALLSTATE(RINGING) per leg, ANSWER + CALLSTATE(ACTIVE) per leg,
# CALLSTATE(HANGUP) + DESTROY per leg.
EVENTS_PER_CALL = 12


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def call(fake: FakeFreeSWITCH, domain: str, caller: str, callee: str) -> list[Callable[[], None]]:
    """The steps of one call, each emitting its events."""
    legs: dict[str, str] = {}

    def create() -> None:
        legs["a"] = fake.create_channel(
            direction="inbound",
            caller=caller,
            destination=callee,
            domain=domain,
            variables={"user_name": caller, "domain_name": domain},
        )
        legs["b"] = fake.create_channel(
            direction="outbound",
            caller=caller,
            destination=callee,
            domain=domain,
            variables={"dialed_user": callee, "dialed_domain": domain},
        )

    def answer() -> None:
        fake.answer_channel(legs["b"])
        fake.answer_channel(legs["a"])

    def hangup() -> None:
        fake.hangup_channel(legs["b"])
        fake.hangup_channel(legs["a"])

    return [create, answer, hangup]


def drive(
    fake: FakeFreeSWITCH, domain: str, users: int, rate: float, events: int, seed: int = 7
) -> None:
    """Calls between random users, overlapping, paced to `rate` events per second."""
    rng = random.Random(seed)
    steps: list[list[Callable[[], None]]] = []
    sent, started = 0, time.monotonic()
    while sent < events:
        if len(steps) < 50:
            caller, callee = rng.sample(range(users), 2)
            steps.append(
                call(fake, domain, str(FIRST_EXTENSION + caller), str(FIRST_EXTENSION + callee))
            )
        current = steps[rng.randrange(len(steps))]
        current.pop(0)()
        if not current:
            steps.remove(current)
        sent += EVENTS_PER_CALL // 3
        ahead = sent / rate - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)


# Events recorded per node and replayed in a loop (a few minutes' worth of calls).
RECORDED_EVENTS = 60_000


def play(
    pipe: multiprocessing.connection.Connection, nodes: int, domain: str, users: int, rate: float
) -> None:
    """The nodes, in a process of their own (so that they take no CPU time from the
    listener's process): calls recorded from the fake FreeSWITCH, then replayed
    (bench/esl_replay.py). Ports out, then events when told how many."""
    recordings = [
        record(
            lambda fake, seed=seed: drive(fake, domain, users, 1e12, RECORDED_EVENTS, seed),
            PASSWORD,
        )
        for seed in range(nodes)
    ]
    servers = replays(recordings, PASSWORD)
    pipe.send(list(servers))
    share = pipe.recv()
    go = threading.Event()
    players = [
        threading.Thread(target=node.play, args=(rate / nodes, share, go))
        for node in servers.values()
    ]
    for player in players:
        player.start()
    go.set()
    for player in players:
        player.join()
    pipe.send("sent")
    pipe.recv()  # stay up until the listener has read everything


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500, help="events per second (500)")
    parser.add_argument("--duration", type=int, default=60, help="seconds (60)")
    parser.add_argument("--users", type=int, default=1000, help="users of the tenant (1000)")
    parser.add_argument(
        "--hour",
        action="store_true",
        help="send one hour's worth of events at 500/s (1.8 million), paced at --rate",
    )
    parser.add_argument("--database-url", help="default: SQLite in a temporary directory")
    parser.add_argument(
        "--nodes", type=int, default=1, help="fake FreeSWITCH nodes sharing the rate (1)"
    )
    parser.add_argument("--profile", help="write the listener's cProfile statistics here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        engine = make_engine(url)
        print(f"seeding a tenant of {args.users} users in {url.split('://')[0]} …", flush=True)
        seed(engine, [args.users])
        domain = domain_of(args.users)
        ours, theirs = multiprocessing.get_context("spawn").Pipe()
        player = multiprocessing.get_context("spawn").Process(
            target=play, args=(theirs, args.nodes, domain, args.users, args.rate), daemon=True
        )
        player.start()
        try:
            ports = ours.recv()
            settings = Settings(
                esl_nodes=tuple(f"127.0.0.1:{port}" for port in ports), esl_password=PASSWORD
            )
            listener = Listener(settings, engine)
            listener.start()
            while len(listener.connected()) < len(ports) or not listener.idle():
                gevent.sleep(0.05)
            rss_start = rss_mib()
            events = 500 * 3600 if args.hour else int(args.rate * args.duration)
            share = events // len(ports)
            events = share * len(ports)
            load_before = os.getloadavg()
            profile = cProfile.Profile(time.process_time) if args.profile else None
            # The nodes run in a process of their own: this process's CPU time is the
            # listener's.
            cpu_start, started = time.process_time(), time.monotonic()
            if profile:
                profile.enable()
            ours.send(share)
            # Done when every event sent is written (or nothing moves for 5 s).
            last, still, sent = -1, time.monotonic(), False
            while listener.stats.events < events:
                gevent.sleep(0.05)
                sent = sent or ours.poll()
                if listener.stats.events != last:
                    last, still = listener.stats.events, time.monotonic()
                elif sent and time.monotonic() - still > 5:
                    break
            elapsed = time.monotonic() - started
            cpu = time.process_time() - cpu_start
            if profile:
                profile.disable()
                profile.dump_stats(args.profile)
            load_after = os.getloadavg()
            listener.stop()
            stats = listener.stats
            lags = sorted(stats.lags)
            quantiles = statistics.quantiles(lags, n=100) if len(lags) > 1 else [0.0] * 99
            print(
                f"\n{args.nodes} node(s), {args.rate:.0f} events/s asked\n"
                f"events written: {stats.events} in {elapsed:.1f} s "
                f"({stats.events / elapsed:.0f}/s, {stats.batches} transactions)\n"
                f"lag fired → committed: p50 {quantiles[49] * 1e3:.1f} ms, "
                f"p99 {quantiles[98] * 1e3:.1f} ms, max {lags[-1] * 1e3:.1f} ms\n"
                f"listener CPU: {cpu:.1f} s, {cpu / max(stats.events, 1) * 1e6:.0f} µs per event "
                f"({cpu / elapsed:.0%} of a core)\n"
                f"memory (listener's process): {rss_start:.0f} MiB connected, "
                f"{rss_mib():.0f} MiB after {stats.events} events\n"
                f"load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after"
            )
            ours.send("stop")
        finally:
            player.join(10)
            if player.is_alive():
                player.kill()
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
