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

from centrex.config import Settings
from centrex.db import make_engine

from .listener import Listener
from .live import create_live_app

log = logging.getLogger(__name__)


def periodic_tasks(settings: Settings) -> list[tuple[float, Callable[[Listener], None]]]:
    """Work the listener does on a timer, beside following events."""
    return []


def run_listener(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    engine = make_engine(settings.effective_database_url)
    listener = Listener(settings, engine, periodic=periodic_tasks(settings))
    server = WSGIServer(
        (settings.host, settings.live_port), create_live_app(settings, engine, listener), log=None
    )
    for signum in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(signum, server.stop)
    listener.start()
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
