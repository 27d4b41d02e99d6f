"""Serving the Flask application with gunicorn (pre-forked worker processes).

Each FreeSWITCH fetch blocks a FreeSWITCH thread until answered, so fetches are served
by several processes in parallel; the database engine is created in each worker after
the fork (connections must not be shared across processes).
"""

from __future__ import annotations

import gc
from typing import Any

from gunicorn.app.base import BaseApplication

from centrex.config import Settings


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings, options: dict[str, Any]):
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from centrex.app import create_app

        return ready_to_serve(create_app(self.settings))


def ready_to_serve(app: Any) -> Any:
    """Leave what the worker loaded (modules, the schema, compiled statements: some
    120,000 objects) out of the garbage collector's full passes, which otherwise take
    60 ms, a stall felt by every fetch waiting on that worker."""
    gc.collect()
    gc.freeze()
    return app


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        "worker_class": "sync",
        # A fetch takes milliseconds; a worker stuck for 30 s is broken, not busy.
        "timeout": 30,
        "graceful_timeout": 10,
        "loglevel": settings.log_level.lower(),
        "accesslog": None,
    }


def serve(settings: Settings) -> None:
    _Gunicorn(settings, gunicorn_options(settings)).run()
