"""FreeSWITCH's two requests, `POST /xmlcurl` and `POST /cdr`, answered in front of
Flask: each call makes four of them, and Flask's request context, routing and response
machinery cost about as much CPU as the work of a fetch (12 % of the server's CPU in
the capacity run). Their handlers take the WSGI environ and give an `Answer`; the same
handlers stay routed in Flask too (its URL map, `flask routes`), behind this.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask, Response

from centrex.db import database_unavailable

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()

    def response(self) -> Response:
        """The same answer for Flask (the routes it keeps)."""
        return Response(
            self.body, status=self.status, content_type=self.content_type, headers=self.headers
        )

    def __call__(self, start_response: StartResponse) -> list[bytes]:
        phrase = HTTPStatus(self.status).phrase
        start_response(
            f"{self.status} {phrase}",
            [
                ("Content-Type", self.content_type),
                ("Content-Length", str(len(self.body))),
                *self.headers,
            ],
        )
        return [self.body]


_NO_QUERY: Mapping[str, str] = {}


def query(environ: Mapping[str, Any]) -> Mapping[str, str]:
    """The URL's query, each name's first value (as werkzeug's `request.args.get`);
    parsed only when there is one (FreeSWITCH's requests mostly have none)."""
    if not environ.get("QUERY_STRING"):
        return _NO_QUERY
    found: dict[str, str] = {}
    for name, value in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True):
        found.setdefault(name, value)
    return found


Handler = Callable[[dict[str, Any]], Answer]


class SwitchPaths:
    """WSGI: a POST to one of `handlers`' paths is answered by its handler, in the
    application's context (its settings, engine and logging); anything else goes on to
    Flask. What a handler lets escape is answered as Flask's error handlers would
    (centrex.app.json_errors): 503 while the database is unavailable, else 500, logged."""

    def __init__(self, app: Flask, wsgi_app: WsgiApp, handlers: Mapping[str, Handler]) -> None:
        self._app = app
        self._next = wsgi_app
        self._handlers = dict(handlers)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        handler = self._handlers.get(environ.get("PATH_INFO", ""))
        if handler is None or environ.get("REQUEST_METHOD") != "POST":
            return self._next(environ, start_response)
        with self._app.app_context():
            try:
                answer = handler(environ)
            except Exception as error:
                answer = _unexpected(environ, error)
        return answer(start_response)


def _unexpected(environ: Mapping[str, Any], error: Exception) -> Answer:
    path = environ.get("PATH_INFO", "")
    if database_unavailable(error):
        log.warning("POST %s: database unavailable (%s)", path, type(error).__name__)
        text = "Service unavailable: the database is unavailable; try again in a moment.\n"
        return Answer(503, text.encode(), "text/plain; charset=utf-8", (("Retry-After", "5"),))
    log.exception("unexpected error on %s", path)
    body = json.dumps({"error": "internal error; it has been logged"}).encode()
    return Answer(500, body + b"\n", "application/json")
