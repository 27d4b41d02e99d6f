"""The switch side's HTTP: one request a connection, as mod_xml_curl and mod_xml_cdr make
them. The request is parsed by httptools (llhttp, the C parser uvicorn uses), handed to
the WSGI application, answered in one send; the worker then closes the connection.

gunicorn's own request handling (its parser, request, environ and response objects, a
send for the headers and another for the body) costs a fetch 0.15 ms on a warm worker
and 0.3–0.6 ms on one that has slept between calls, where most fetches land: the
FreeSWITCH that waits for them holds the call meanwhile (README, Call setup).
gunicorn still runs the workers (forking, timeouts, signals, the read timeout of
centrex.server.SwitchWorker); only what happens on a connection is done here.
"""

from __future__ import annotations

import io
import socket
import sys
import time
from email.utils import formatdate
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote_to_bytes

import httptools

from centrex.switch_paths import WsgiApp

# FreeSWITCH's requests: headers well under 1 kB, a fetch's body ~10 kB, a call record's
# tens of kB. Past these the request is refused, never read into memory.
MAX_HEAD = 16 * 1024
MAX_BODY = 8 * 1024 * 1024
_READ = 64 * 1024

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class RequestRefused(Exception):
    """The request cannot be served as sent: answered with `status`, then closed."""

    def __init__(self, status: HTTPStatus, why: str):
        super().__init__(why)
        self.status = status


class ClientGone(Exception):
    """The client closed the connection before its request was whole."""


class _Request:
    """httptools' callbacks, collecting one request."""

    __slots__ = ("body", "body_size", "done", "head_done", "headers", "url", "wants_continue")

    def __init__(self) -> None:
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.body_size = 0
        self.head_done = False
        self.wants_continue = False  # sent `Expect: 100-continue`
        self.done = False

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.head_done = True
        for name, value in self.headers:
            name = name.lower()
            # Refused before any of it is read (a malformed length is httptools' to refuse).
            is_length = name == b"content-length" and value.strip().isdigit()
            if is_length and int(value) > MAX_BODY:
                raise RequestRefused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body too large")
            if name == b"expect" and value.lower() == b"100-continue":
                self.wants_continue = True

    def on_body(self, chunk: bytes) -> None:
        self.body_size += len(chunk)
        if self.body_size > MAX_BODY:
            raise RequestRefused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body too large")
        self.body.append(chunk)

    def on_message_complete(self) -> None:
        self.done = True


def read_request(sock: socket.socket, server: Any, client: Any) -> tuple[dict[str, Any], bool]:
    """The WSGI environ of the one request on `sock`, and whether it is a HEAD.
    Raises RequestRefused (bad or oversized request), ClientGone, or whatever the
    socket's reads raise (centrex.server's read timeout)."""
    request = _Request()
    parser = httptools.HttpRequestParser(request)
    received = 0
    continue_sent = False
    while not request.done:
        data = sock.recv(_READ)
        if not data:
            raise ClientGone()
        received += len(data)
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            raise RequestRefused(HTTPStatus.BAD_REQUEST, "upgrade not served") from None
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, RequestRefused):
                raise exc.__context__ from None
            raise RequestRefused(HTTPStatus.BAD_REQUEST, str(exc)) from None
        if not request.head_done and received > MAX_HEAD:
            raise RequestRefused(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "headers too large")
        if request.wants_continue and not request.done and not continue_sent:
            continue_sent = True
            sock.sendall(_CONTINUE)
    method = parser.get_method().decode("latin-1")
    return _environ(request, method, parser.get_http_version(), server, client), method == "HEAD"


def _environ(
    request: _Request, method: str, version: str, server: Any, client: Any
) -> dict[str, Any]:
    """`server` and `client` are the sockets' addresses: (host, port) on TCP, a path or
    nothing on a Unix socket."""
    url = request.url
    if url.startswith(b"/"):
        path, _, query = url.partition(b"?")
    else:  # absolute form (http://host/path?query)
        parsed = httptools.parse_url(url)
        path, query = parsed.path or b"/", parsed.query or b""
    body = b"".join(request.body)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": query.decode("latin-1"),
        "SERVER_NAME": str(server[0]) if isinstance(server, tuple) else "localhost",
        "SERVER_PORT": str(server[1]) if isinstance(server, tuple) else "",
        "SERVER_PROTOCOL": f"HTTP/{version}",
        "REMOTE_ADDR": client[0] if isinstance(client, tuple) else "",
        "REMOTE_PORT": str(client[1]) if isinstance(client, tuple) else "",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in request.headers:
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name == "CONTENT_LENGTH":
            continue  # the body as read (httptools has checked it against the header)
        if name != "CONTENT_TYPE":
            name = "HTTP_" + name
        environ[name] = f"{environ[name]},{value}" if name in environ else value
    return environ


def answer(app: WsgiApp, environ: dict[str, Any], head_only: bool) -> bytes:
    """The application's whole answer as bytes to send: status line, headers (with the
    body's length and `Connection: close`), body."""
    started: list[Any] = []
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        # Nothing is sent before the application returns: a later call (an error page
        # after all, with exc_info) simply replaces the answer.
        started[:] = [status, headers]
        return chunks.append  # WSGI's legacy write()

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not started:
        raise RuntimeError("the application gave no status")
    status, headers = started
    body = b"".join(chunks)
    lines = [f"HTTP/1.1 {status}"]
    length_given = False
    for name, value in headers:
        if _unsafe(name) or _unsafe(value):
            raise ValueError(f"header {name!r} holds a line break")
        lowered = name.lower()
        if lowered in ("connection", "transfer-encoding"):
            continue  # this server's to say: one request a connection
        length_given = length_given or lowered == "content-length"
        lines.append(f"{name}: {value}")
    if not length_given:
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"Date: {_date()}", "Connection: close", "", ""]
    head = "\r\n".join(lines).encode("latin-1")
    return head if head_only else head + body


def error_answer(status: HTTPStatus) -> bytes:
    text = f"{status.value} {status.phrase}\n".encode()
    return (
        f"HTTP/1.1 {status.value} {status.phrase}\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(text)}\r\nDate: {_date()}\r\nConnection: close\r\n\r\n"
    ).encode("latin-1") + text


def _unsafe(text: str) -> bool:
    return "\r" in text or "\n" in text


_dates: tuple[int, str] = (0, "")


def _date() -> str:
    """The Date header, formatted once a second."""
    global _dates
    now = int(time.time())
    if _dates[0] != now:
        _dates = (now, formatdate(now, usegmt=True))
    return _dates[1]
