"""The people side's gunicorn worker (centrex.server): gevent, one greenlet a connection.

Imported only by that side's workers, which gevent patches before the application is
loaded, so that psycopg waits for PostgreSQL cooperatively there.
"""

from __future__ import annotations

from typing import Any

from gunicorn.workers.base_async import AsyncWorker
from gunicorn.workers.ggevent import GeventWorker

from centrex.server import PEOPLE_READ_TIMEOUT


class PeopleWorker(GeventWorker):
    """gunicorn's gevent worker, whose connections give up on a client that sends
    nothing for PEOPLE_READ_TIMEOUT while a request's body comes (its headers are bound
    by the keepalive time): a browser that stalls holds a greenlet for that long, never
    for ever."""

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        # What GeventWorker.handle does (blocking mode for the handler), with a timeout.
        client.settimeout(PEOPLE_READ_TIMEOUT)
        AsyncWorker.handle(self, listener, client, addr)
