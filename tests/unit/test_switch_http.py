"""centrex.switch_http: the switch side's requests read from a real socket, and the
application's answers written as HTTP."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator
from http import HTTPStatus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from centrex import switch_http

SERVER = ("127.0.0.1", 8080)
CLIENT = ("127.0.0.1", 40000)
FETCH = (
    b"POST /xmlcurl?via=2 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
    b"Authorization: Basic Zm9vOmJhcg==\r\nAccept: */*\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 27\r\n\r\n"
    b"section=dialplan&tag_name=x"
)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    server, client = socket.socketpair()
    server.settimeout(5)
    client.settimeout(5)
    yield server, client
    server.close()
    client.close()


def sent_in_pieces(sock: socket.socket, data: bytes, size: int) -> threading.Thread:
    def send() -> None:
        for start in range(0, len(data), size):
            sock.sendall(data[start : start + size])

    thread = threading.Thread(target=send)
    thread.start()
    return thread


@pytest.mark.parametrize("piece", [1, 7, 100, len(FETCH)])
def test_a_fetch_read_in_any_pieces_gives_the_same_environ(pair, piece):
    server, client = pair
    sender = sent_in_pieces(client, FETCH, piece)
    environ, head_only = switch_http.read_request(server, SERVER, CLIENT)
    sender.join()
    assert not head_only
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["PATH_INFO"] == "/xmlcurl"
    assert environ["QUERY_STRING"] == "via=2"
    assert environ["HTTP_AUTHORIZATION"] == "Basic Zm9vOmJhcg=="
    assert environ["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert environ["CONTENT_LENGTH"] == "27"
    assert environ["wsgi.input"].read() == b"section=dialplan&tag_name=x"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("127.0.0.1", "8080")
    assert (environ["REMOTE_ADDR"], environ["SERVER_PROTOCOL"]) == ("127.0.0.1", "HTTP/1.1")


def test_the_path_is_decoded_and_repeated_headers_joined(pair):
    server, client = pair
    client.sendall(b"GET /a%20b HTTP/1.0\r\nX-Seen: 1\r\nX-Seen: 2\r\n\r\n")
    environ, _ = switch_http.read_request(server, SERVER, CLIENT)
    assert environ["PATH_INFO"] == "/a b"
    assert environ["HTTP_X_SEEN"] == "1,2"
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.0"
    assert environ["CONTENT_LENGTH"] == "0"


def test_a_chunked_body_arrives_whole(pair):
    server, client = pair
    client.sendall(
        b"POST /cdr HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    environ, _ = switch_http.read_request(server, SERVER, CLIENT)
    assert environ["wsgi.input"].read() == b"hello world"
    assert environ["CONTENT_LENGTH"] == "11"


def test_a_client_that_expects_100_continue_is_told_to_go_on(pair):
    server, client = pair
    head = b"POST /cdr HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"
    client.sendall(head)
    result: list[dict] = []
    reader = threading.Thread(
        target=lambda: result.append(switch_http.read_request(server, SERVER, CLIENT)[0])
    )
    reader.start()
    # The body is sent only once the server said so, as curl does.
    assert client.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
    client.sendall(b"data")
    reader.join(5)
    assert result[0]["wsgi.input"].read() == b"data"


def test_a_head_request_is_told_apart(pair):
    server, client = pair
    client.sendall(b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert switch_http.read_request(server, SERVER, CLIENT)[1] is True


@pytest.mark.parametrize(
    "data, status",
    [
        (b"GARBAGE\r\n\r\n", HTTPStatus.BAD_REQUEST),
        (b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", HTTPStatus.BAD_REQUEST),
        (b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n", HTTPStatus.BAD_REQUEST),
        (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 20000, HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE),
    ],
)
def test_bad_requests_are_refused_with_their_status(pair, data, status):
    server, client = pair
    client.sendall(data)
    with pytest.raises(switch_http.RequestRefused) as refused:
        switch_http.read_request(server, SERVER, CLIENT)
    assert refused.value.status == status


def test_a_body_past_the_limit_is_refused_before_it_is_all_read(pair, monkeypatch):
    server, client = pair
    monkeypatch.setattr(switch_http, "MAX_BODY", 1000)
    client.sendall(b"POST /cdr HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + b"x" * 1500)
    with pytest.raises(switch_http.RequestRefused) as refused:
        switch_http.read_request(server, SERVER, CLIENT)
    assert refused.value.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE


def test_a_client_gone_before_its_body_is_told_apart(pair):
    server, client = pair
    client.sendall(b"POST /xmlcurl HTTP/1.1\r\nContent-Length: 100\r\n\r\nsection=")
    client.shutdown(socket.SHUT_WR)
    with pytest.raises(switch_http.ClientGone):
        switch_http.read_request(server, SERVER, CLIENT)


def _app(status="200 OK", headers=(("Content-Type", "text/xml"),), body=(b"<a/>",)):
    closed = []

    class Result(list):
        def close(self) -> None:
            closed.append(True)

    def app(environ, start_response):
        start_response(status, list(headers))
        return Result(body)

    return app, closed


def test_an_answer_is_whole_with_its_length_and_the_connection_closed():
    app, closed = _app(body=(b"<doc", b"ument/>"))
    data = switch_http.answer(app, {}, head_only=False)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 200 OK"
    assert "Content-Type: text/xml" in lines
    assert "Content-Length: 11" in lines
    assert "Connection: close" in lines
    assert any(line.startswith("Date: ") for line in lines)
    assert body == b"<document/>"
    assert closed == [True]  # the application's result closed, as WSGI asks


def test_the_application_s_own_length_is_kept_and_its_connection_header_dropped():
    app, _ = _app(headers=(("Content-Length", "4"), ("Connection", "keep-alive")))
    head = switch_http.answer(app, {}, head_only=False).partition(b"\r\n\r\n")[0].decode()
    assert head.count("Content-Length") == 1
    assert "keep-alive" not in head and "Connection: close" in head


def test_a_head_answer_has_no_body():
    app, _ = _app()
    data = switch_http.answer(app, {}, head_only=True)
    assert data.endswith(b"\r\n\r\n") and b"<a/>" not in data
    assert b"Content-Length: 4" in data


def test_a_header_with_a_line_break_is_never_written():
    app, closed = _app(headers=(("Location", "/x\r\nSet-Cookie: a=b"),))
    with pytest.raises(ValueError):
        switch_http.answer(app, {}, head_only=False)
    assert closed == [True]


def test_an_error_answer_says_its_status():
    data = switch_http.error_answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    assert data.startswith(b"HTTP/1.1 413 Request Entity Too Large\r\n")
    assert data.endswith(b"\r\n\r\n413 Request Entity Too Large\n")


def test_a_length_past_the_limit_is_refused_before_any_body_comes(pair, monkeypatch):
    server, client = pair
    monkeypatch.setattr(switch_http, "MAX_BODY", 1000)
    client.sendall(b"POST /cdr HTTP/1.1\r\nContent-Length: 1001\r\n\r\n")
    with pytest.raises(switch_http.RequestRefused) as refused:
        switch_http.read_request(server, SERVER, CLIENT)
    assert refused.value.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE


@given(
    st.one_of(
        st.binary(max_size=300),
        st.builds(
            lambda head, body: head + b"\r\n\r\n" + body,
            st.sampled_from(
                [
                    b"POST /xmlcurl HTTP/1.1\r\nContent-Length: 5",
                    b"POST /cdr HTTP/1.1\r\nTransfer-Encoding: chunked",
                    b"GET / HTTP/1.0",
                    b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6",
                    b"GET /\x00 HTTP/1.1",
                ]
            ),
            st.binary(max_size=50),
        ),
    )
)
@settings(max_examples=300, deadline=None)
def test_whatever_a_client_sends_is_read_refused_or_seen_gone(data):
    server, client = socket.socketpair()
    try:
        client.sendall(data)
        client.shutdown(socket.SHUT_WR)
        try:
            environ, _ = switch_http.read_request(server, SERVER, CLIENT)
        except (switch_http.RequestRefused, switch_http.ClientGone):
            return
        assert environ["wsgi.input"].read() is not None
        assert environ["REQUEST_METHOD"] and environ["PATH_INFO"] is not None
    finally:
        server.close()
        client.close()


def test_an_error_page_given_after_a_first_start_replaces_it():
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise RuntimeError("late")
        except RuntimeError:
            start_response("500 Internal Server Error", [], sys.exc_info())
        return [b"failed"]

    data = switch_http.answer(app, {}, head_only=False)
    assert data.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert data.endswith(b"\r\n\r\nfailed")


def test_a_unix_socket_s_addresses_give_an_environ_too(pair):
    server, client = pair
    client.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    environ, _ = switch_http.read_request(server, "/run/centrex.sock", "")
    assert (environ["SERVER_NAME"], environ["REMOTE_ADDR"]) == ("localhost", "")
