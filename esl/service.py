"""`centrex esl`: the listener and its live HTTP service, in one gevent process.

Database calls are not made cooperative (no monkey-patching): they are short, and
everything that waits on the network — event sockets, HTTP clients, event streams —
is gevent's own.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable

import gevent
from gevent.pywsgi import WSGIServer

from centrex import metrics
from centrex.config import Settings
from centrex.db import make_engine
from centrex.logs import configure_logging
from xmlcurl import fsnames as fs
from xmlcurl.inputs import GatewayData
from xmlcurl.loader import load_gateways, load_hold_music
from xmlcurl.local_stream import hold_music_streams

from .calllog import import_error_dir
from .connection import NodeConnection, PerSession
from .events import Event
from .listener import Listener
from .live import create_live_app
from .queue_agents import AGENTS_EVERY, QueueAgents
from .reminder_calls import fire_due_reminders, settle_reminder_call
from .switch import SwitchError

log = logging.getLogger(__name__)

# Reminders fire within this many seconds of their time.
REMINDERS_EVERY = 15.0
# A tenant's new or changed trunk is in use within this many seconds.
TRUNKS_EVERY = 10.0
# Call records FreeSWITCH could not post are imported this often.
CALL_RECORDS_EVERY = 60.0
# Newly uploaded hold music plays within this many seconds.
HOLD_MUSIC_EVERY = 10.0


def periodic_tasks(settings: Settings) -> list[tuple[float, Callable[[Listener], None]]]:
    """Work the listener does on a timer, beside following events."""
    media_dir = settings.effective_media_dir

    def reminders(listener: Listener) -> None:
        fire_due_reminders(listener.engine, listener.switch_for_user, listener.clock(), media_dir)

    tasks: list[tuple[float, Callable[[Listener], None]]] = [
        (REMINDERS_EVERY, reminders),
        (HOLD_MUSIC_EVERY, HoldMusic(str(media_dir))),
        (TRUNKS_EVERY, Trunks()),
        (AGENTS_EVERY, QueueAgents()),
    ]
    if settings.cdr_error_dir:

        def call_records(listener: Listener) -> None:
            report = import_error_dir(
                listener.engine, settings.cdr_error_dir, settings.default_country
            )
            if report.imported or report.rejected:
                log.info("call records imported from %s: %s", settings.cdr_error_dir, report)

        tasks.append((CALL_RECORDS_EVERY, call_records))
    return tasks


def settle_job(listener: Listener, event: Event) -> None:
    """A background originate finished: reminders learn whether they were answered."""
    settle_reminder_call(listener.engine, event.get(fs.EV_JOB_UUID), event.body, listener.clock())


class HoldMusic:
    """mod_local_stream starts streams only when it loads or is told to: start those of
    hold music uploaded since, on every node (on a node that reconnected, all of them)."""

    def __init__(self, media_dir: str) -> None:
        self.media_dir = media_dir
        self._started: PerSession[set[str]] = PerSession()

    def __call__(self, listener: Listener) -> None:
        with listener.engine.connect() as conn:
            wanted = {
                stream.name
                for item in load_hold_music(conn)
                for stream in hold_music_streams(item, self.media_dir)
            }
        for node in listener.connected():
            started = self._started.get(node)
            if started is None:
                started = set()
                self._started.set(node, started)
            for name in sorted(wanted - started):
                if self._start(node, name):
                    started.add(name)

    @staticmethod
    def _start(node: NodeConnection, name: str) -> bool:
        try:
            reply = node.api(f"{fs.LOCAL_STREAM_START} {name}")
        except SwitchError as exc:
            log.warning("hold music %s not started on %s: %s", name, node.node, exc)
            return False
        # A stream left running from before our reconnect is as good as started.
        if reply.startswith("+OK") or "already" in reply:
            return True
        log.warning("hold music %s not started on %s: %s", name, node.node, reply.strip())
        return False


class Trunks:
    """sofia reads gateways when its profile starts: after a tenant's trunk is added,
    changed or removed, each node is told (`killgw` for changed or removed ones, then
    `rescan`, which adds the new definitions)."""

    def __init__(self) -> None:
        self._known: PerSession[dict[str, GatewayData]] = PerSession()

    def __call__(self, listener: Listener) -> None:
        with listener.engine.connect() as conn:
            wanted = dict(load_gateways(conn))
        for node in listener.connected():
            known = self._known.get(node)
            if known is None:
                # A node that (re)started read every trunk when its profile started.
                self._known.set(node, wanted)
                continue
            stale = [name for name, gw in known.items() if wanted.get(name) != gw]
            added = [name for name in wanted if name not in known]
            if not (stale or added):
                continue
            try:
                for name in stale:
                    node.api(f"{fs.SOFIA_PROFILE_EXTERNAL} {fs.SOFIA_KILLGW} {name}")
                node.api(f"{fs.SOFIA_PROFILE_EXTERNAL} {fs.SOFIA_RESCAN}")
            except SwitchError as exc:
                log.warning("trunks not updated on %s: %s", node.node, exc)
                continue
            log.info(
                "trunks on %s: %d changed or removed, %d added", node.node, len(stale), len(added)
            )
            self._known.set(node, wanted)


def run_listener(settings: Settings) -> None:
    configure_logging(settings)
    engine = make_engine(settings.effective_database_url)
    listener = Listener(settings, engine, periodic=periodic_tasks(settings), on_job_done=settle_job)
    server = WSGIServer(
        (settings.host, settings.live_port), create_live_app(settings, engine, listener), log=None
    )
    for signum in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(signum, server.stop)
    listener.start()
    metrics.serve_listener(settings, listener)
    log.info(
        "following %s; live API on http://%s:%d",
        ", ".join(settings.esl_nodes),
        settings.host,
        settings.live_port,
    )
    try:
        server.serve_forever()
    finally:
        listener.stop()
