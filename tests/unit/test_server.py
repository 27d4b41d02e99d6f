import gc
import logging
import socket

from centrex import switch_http
from centrex.config import Settings
from centrex.server import SwitchWorker, people_options, ready_to_serve, switch_options


def test_workers_leave_what_they_loaded_out_of_full_collections():
    gc.unfreeze()
    app = object()
    try:
        assert ready_to_serve(app) is app
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_freeswitch_side_runs_sync_workers_with_a_read_timeout_on_its_port():
    options = switch_options(Settings(host="127.0.0.2", port=9090, workers=3))
    assert options["bind"] == "127.0.0.2:9090"
    assert options["workers"] == 3 and options["worker_class"] is SwitchWorker


def test_people_side_runs_gevent_workers_on_a_port_of_its_own():
    options = people_options(
        Settings(host="127.0.0.2", port=9090, panel_port=9092, panel_workers=2)
    )
    assert options["bind"] == "127.0.0.2:9092"
    assert options["workers"] == 2
    assert options["worker_class"] == "centrex.people_worker.PeopleWorker"
    assert options["keepalive"] > 0  # bounds the time a client takes to send its headers


class _Listener:
    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", 8080)


def _worker(app) -> SwitchWorker:
    """A switch-side worker as gunicorn leaves it after init_process, without forking."""
    worker = SwitchWorker.__new__(SwitchWorker)
    worker._own_http = True
    worker.log = logging.getLogger("centrex.test.worker")
    worker.nr, worker.max_requests, worker.alive = 0, 1000, True
    worker.wsgi = app
    return worker


def _served(worker: SwitchWorker, request: bytes) -> bytes:
    """What the worker answers `request` on a connection of its own."""
    server, client = socket.socketpair()
    client.sendall(request)
    client.shutdown(socket.SHUT_WR)  # the client's FIN: close_graceful does not wait
    worker.handle(_Listener(), server, ("127.0.0.1", 40000))
    answer = b""
    while chunk := client.recv(65536):
        answer += chunk
    client.close()
    return answer


def _ok(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["PATH_INFO"].encode()]


def test_a_switch_worker_answers_a_request_whole_and_counts_it():
    worker = _worker(_ok)
    answer = _served(worker, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(b"\r\n\r\n/healthz")
    assert worker.nr == 1 and worker.alive


def test_an_application_fault_is_a_500_and_the_worker_goes_on(caplog):
    def failing(environ, start_response):
        raise RuntimeError("bug")

    worker = _worker(failing)
    answer = _served(worker, b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 500 ")
    assert "Error handling request /x" in caplog.text and worker.alive


def test_a_fault_while_reading_is_a_500_not_a_dead_worker(monkeypatch, caplog):
    def broken(*args):
        raise RuntimeError("bug")

    monkeypatch.setattr(switch_http, "read_request", broken)
    answer = _served(_worker(_ok), b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 500 ")
    assert "Error reading request" in caplog.text


def test_a_refused_request_gets_its_status_and_no_application_call():
    called = []
    worker = _worker(lambda environ, start_response: called.append(1))
    assert _served(worker, b"NOT HTTP\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert called == [] and worker.nr == 0


def test_a_switch_worker_stops_after_its_last_request():
    worker = _worker(_ok)
    worker.max_requests = 1
    assert _served(worker, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 200")
    assert not worker.alive
