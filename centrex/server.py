"""Serving the Flask application with gunicorn: two servers, one for FreeSWITCH and one
for people, so that neither can make the other wait.

- The switch side (`CENTREX_PORT`): xml_curl fetches and call records. Each fetch
  blocks a FreeSWITCH thread until answered, so fetches are served by several
  pre-forked processes in parallel, each serving one request at a time (gunicorn's sync
  workers: the cheapest per fetch), each connection read and answered by
  centrex.switch_http rather than gunicorn's request machinery. A client that stops
  sending frees its worker after `CENTREX_READ_TIMEOUT`, and connections on which
  nothing has been sent yet are not even handed to a worker (TCP_DEFER_ACCEPT).
- The people side (`CENTREX_PANEL_PORT`): the panel and the REST API, in gevent
  workers (centrex.people_worker): an idle or slow browser, or hundreds of them, holds
  a greenlet, never a process, and costs the switch side nothing.

`centrex serve` starts both as child processes (`python -m centrex.server SIDE`), passes
them Ctrl-C, SIGTERM and SIGHUP, and stops the other when one ends. The database engine
is created in each worker after the fork (connections must not be shared across
processes).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import select
import signal
import socket
import subprocess
import sys
from http import HTTPStatus
from typing import Any

from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.http.errors import NoMoreData
from gunicorn.workers.sync import SyncWorker

from centrex import metrics, switch_http
from centrex.app import PEOPLE, SWITCH
from centrex.config import Settings, environment, load_settings, require
from centrex.logs import configure_logging, gunicorn_options

# A fetch takes milliseconds; a worker stuck for 30 s is broken, not busy.
WORKER_TIMEOUT = 30
GRACEFUL_TIMEOUT = 10
# People's side: how long a browser may keep a connection idle between requests, and
# take to send a request's headers (gunicorn's keepalive, with gevent workers); and how
# long it may send nothing while a request's body comes (slow links upload media).
PEOPLE_KEEPALIVE = 5
PEOPLE_READ_TIMEOUT = 10.0


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings, side: str, options: dict[str, Any]):
        self.settings = settings
        self.side = side
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from centrex.app import create_app

        return ready_to_serve(create_app(self.settings, side=self.side))


def ready_to_serve(app: Any) -> Any:
    """Leave what the worker loaded (modules, the schema, compiled statements: some
    120,000 objects) out of the garbage collector's full passes, which otherwise take
    60 ms, a stall felt by every fetch waiting on that worker."""
    gc.collect()
    gc.freeze()
    return app


class SwitchWorker(SyncWorker):
    """gunicorn's sync worker, whose reads give up on a client that has sent nothing for
    `CENTREX_READ_TIMEOUT` (partial headers, a body that never comes, no FIN after the
    answer): the worker is free again at once, where a plain sync worker waits until
    gunicorn kills it (or 2 s for the FIN)."""

    def init_process(self) -> None:
        _ReadTimeoutSocket.limit = self.app.settings.read_timeout / 1000
        # TLS is a proxy's job in front; were gunicorn given a certificate, its own path.
        self._own_http = not self.cfg.is_ssl
        super().init_process()

    def run(self) -> None:
        # Idle workers wait for connections through an epoll of their own, each listening
        # socket registered exclusively: a connection wakes one of them. gunicorn's
        # select() wakes every idle worker for each connection, and all but one find
        # nothing to accept: with 5 workers some 4 wake-ups a fetch, spent for nothing.
        self._poller = select.epoll()
        self._listening = {s.fileno(): s for s in self.sockets}
        for fd in self._listening:
            self._poller.register(fd, select.EPOLLIN | select.EPOLLEXCLUSIVE)
        self._poller.register(self.PIPE[0], select.EPOLLIN)  # signals wake it too
        try:
            super().run()
        finally:
            self._poller.close()

    def wait(self, timeout: float) -> list[Any]:
        """SyncWorker.wait through the worker's epoll: the listening sockets that have a
        connection to accept (another worker may take it first: accept then says so)."""
        self.notify()
        ready = [fd for fd, _ in self._poller.poll(timeout)]
        if self.PIPE[0] in ready:
            os.read(self.PIPE[0], 1)
        return [self._listening[fd] for fd in ready if fd in self._listening]

    def accept(self, listener: Any) -> None:
        client, addr = listener.accept()
        # The same socket, read through the subclass (same layout: no copy, no syscall).
        client.__class__ = _ReadTimeoutSocket
        client.settimeout(_ReadTimeoutSocket.limit)
        self.handle(listener, client, addr)

    def handle(self, listener: Any, client: socket.socket, addr: Any) -> None:
        """One request, read and answered by centrex.switch_http instead of gunicorn's
        request machinery."""
        if not self._own_http:
            super().handle(listener, client, addr)
            return
        try:
            environ, head_only = switch_http.read_request(client, listener.getsockname(), addr)
            self.nr += 1
            if self.nr >= self.max_requests:
                self.log.info("Autorestarting worker after current request.")
                self.alive = False
            try:
                reply = switch_http.answer(self.wsgi, environ, head_only)
            except Exception:
                self.log.exception("Error handling request %s", environ.get("PATH_INFO"))
                reply = switch_http.error_answer(HTTPStatus.INTERNAL_SERVER_ERROR)
            client.sendall(reply)
        except switch_http.RequestRefused as refused:
            self.log.debug("Request from %s refused: %s", addr, refused)
            _send_quietly(client, switch_http.error_answer(refused.status))
        except (switch_http.ClientGone, NoMoreData):
            self.log.debug("Ignored premature client disconnection.")
        except OSError as exc:  # reset, broken pipe: the client left
            self.log.debug("Ignoring socket error: %s", exc)
        except Exception:  # a fault here, not the client's: logged, the worker goes on
            self.log.exception("Error reading request from %s", addr)
            _send_quietly(client, switch_http.error_answer(HTTPStatus.INTERNAL_SERVER_ERROR))
        finally:
            util.close_graceful(client)


def _send_quietly(client: socket.socket, data: bytes) -> None:
    with contextlib.suppress(OSError):
        client.sendall(data)


class _ReadTimeoutSocket(socket.socket):
    """A client's socket that never waits longer than `limit` (whatever timeout gunicorn
    sets later), and whose silence past it reads as the client giving up (gunicorn's
    NoMoreData): the request is dropped with a debug line, not a traceback, and an
    unfinished body never reaches the application as a complete one."""

    __slots__ = ()
    limit = 1.0  # seconds: CENTREX_READ_TIMEOUT, set in each worker

    def settimeout(self, value: float | None) -> None:
        super().settimeout(self.limit if value is None else min(value, self.limit))

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        try:
            return super().recv(bufsize, flags)
        except TimeoutError:
            raise NoMoreData() from None


def _defer_accept(arbiter: Any) -> None:
    """The kernel hands a connection to a worker only once its first bytes are in: a
    client that connects and says nothing costs no worker (Linux)."""
    for listener in arbiter.LISTENERS:
        listener.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 5)


def switch_options(settings: Settings) -> dict[str, Any]:
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        "worker_class": SwitchWorker,
        "timeout": WORKER_TIMEOUT,
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "when_ready": _defer_accept,
        "loglevel": settings.log_level.lower(),
        "accesslog": None,
        # Two servers (and the bench's ceiling) would share its one default path.
        "control_socket_disable": True,
        "proc_name": "centrex-switch",
        "child_exit": metrics.worker_exited,
        **gunicorn_options(settings),
    }


def people_options(settings: Settings) -> dict[str, Any]:
    return {
        "bind": f"{settings.host}:{settings.panel_port}",
        "workers": settings.panel_workers,
        "worker_class": "centrex.people_worker.PeopleWorker",
        "worker_connections": 1000,
        "keepalive": PEOPLE_KEEPALIVE,
        "timeout": WORKER_TIMEOUT,
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "loglevel": settings.log_level.lower(),
        "accesslog": None,
        "control_socket_disable": True,
        "worker_exit": _exit_quietly,
        "proc_name": "centrex-people",
        **gunicorn_options(settings),
    }


def _exit_quietly(_arbiter: Any, worker: Any) -> None:
    """A gevent worker stopped as asked ends here, its output flushed: at interpreter
    exit gevent's patched threading is gone before logging's clean-up, which then
    prints a TypeError traceback per worker."""
    if worker.booted and not worker.alive:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


OPTIONS = {SWITCH: switch_options, PEOPLE: people_options}


def serve_side(settings: Settings, side: str) -> None:
    """One side's gunicorn, in this process, until it is stopped."""
    _Gunicorn(settings, side, OPTIONS[side](settings)).run()


def serve(settings: Settings) -> int:
    """Both sides, each a gunicorn in a child process of its own; returns the exit
    status of the first that ended (both are stopped by then)."""
    configure_logging(settings)
    exporter = metrics.start_server_exporter(settings)
    env = {
        **os.environ,
        **environment(settings),
        "CENTREX_DATABASE_URL": settings.effective_database_url,
        **exporter.environment,
    }
    command = [sys.executable, "-m", "centrex.server"]
    children = [subprocess.Popen([*command, side], env=env) for side in OPTIONS]

    def forward(signum: int, _frame: Any) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {signum: signal.signal(signum, forward) for signum in handled}
    try:
        ended = _first_to_end(children)
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=GRACEFUL_TIMEOUT + 5)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        exporter.stop()
    return ended.returncode


def _first_to_end(children: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    pidfds = {os.pidfd_open(child.pid): child for child in children}
    try:
        ready, _, _ = select.select(list(pidfds), [], [])
        ended = pidfds[ready[0]]
        ended.wait()
        return ended
    finally:
        for fd in pidfds:
            os.close(fd)


def main(side: str) -> None:
    settings = load_settings()
    require(settings, "xmlcurl_credentials")
    serve_side(settings, side)


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in OPTIONS:
        sys.exit(f"usage: python -m centrex.server {'|'.join(OPTIONS)}")
    main(sys.argv[1])
