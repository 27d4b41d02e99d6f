"""The database down, or silent past the deadline: FreeSWITCH gets its safe fallback or
a 503 at once, people a 503 saying so; never a 500 nor a traceback in the log.

(`tests/integration/test_serve.py` does the same against the real server stack and a
PostgreSQL server stopped dead.)
"""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from dataclasses import replace

import pytest

from centrex.app import create_app
from centrex.db import DeadlineExceeded, KeptConnections, deadline, make_engine
from tests.conftest import post_fetch
from tests.fsrequests import fixture_fields
from tests.integration.test_call_log import post_cdr, refusing_engine
from tests.integration.test_xmlcurl import actions, dialplan, is_not_found, xml
from tests.unit.test_cdr import CALL1_A, cdr_xml

UNAVAILABLE = [("hangup", "NORMAL_TEMPORARY_FAILURE")]


def silent(*_args, **_kwargs):
    """A read or a write that never gets its answer (a database stopped dead)."""
    time.sleep(30)


def test_a_fetch_the_database_does_not_answer_gets_the_fallback_by_its_deadline(
    settings, engine, demo_tenant, monkeypatch, caplog
):
    app = create_app(replace(settings, fetch_deadline=200), engine)
    client = app.test_client()
    assert ("bridge", "user/1000@127.0.0.1") in actions(dialplan(client, "1000"))
    monkeypatch.setattr("xmlcurl.endpoint.load_call", silent)
    monkeypatch.setattr("xmlcurl.loader.load_tenant", silent)
    started = time.monotonic()
    assert actions(dialplan(client, "1000")) == UNAVAILABLE
    assert is_not_found(xml(post_fetch(client, fixture_fields("directory-sip_auth"))))
    assert time.monotonic() - started < 1.5
    lines = [r for r in caplog.records if "not answered within 200 ms" in r.getMessage()]
    assert len(lines) == 2 and all(r.exc_info is None for r in lines)
    # The connection the silent read held was dropped, not given back.
    assert app.extensions["centrex"].kept._idle == []
    monkeypatch.undo()
    assert ("bridge", "user/1000@127.0.0.1") in actions(dialplan(client, "1000"))


def test_a_call_record_the_database_does_not_take_in_time_is_503(
    settings, engine, demo_tenant, monkeypatch
):
    client = create_app(replace(settings, fetch_deadline=200), engine).test_client()
    monkeypatch.setattr("esl.calllog.store_leg", silent)
    started = time.monotonic()
    response = post_cdr(client, cdr_xml(CALL1_A))
    assert (response.status_code, response.text) == (503, "database unavailable, try again\n")
    assert time.monotonic() - started < 1.5


def test_a_write_meeting_another_writer_s_lock_ends_by_the_deadline(
    settings, engine, demo_tenant, database_url
):
    """SQLite waits for a lock in C, out of the deadline's reach: a star code or a call
    record that met another writer's lock held its worker 5 s (FreeSWITCH gives up at
    1 s). It now waits no longer than its deadline leaves."""
    if not database_url.startswith("sqlite:///"):
        pytest.skip("SQLite's own wait for a lock")
    client = create_app(replace(settings, fetch_deadline=200), engine).test_client()
    other = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        assert actions(dialplan(client, "*78")) == UNAVAILABLE
        assert post_cdr(client, cdr_xml(CALL1_A)).status_code == 503
        assert time.monotonic() - started < 1.5
        # Reads go on meanwhile (WAL).
        assert ("bridge", "user/1000@127.0.0.1") in actions(dialplan(client, "1000"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert actions(dialplan(client, "*78"))[1] == ("playback", "ivr/ivr-dnd_activated.wav")
    assert post_cdr(client, cdr_xml(CALL1_A)).status_code == 200


DOWN = {
    "sqlite": refusing_engine,
    "postgresql": lambda: make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"),
}


@pytest.fixture(params=list(DOWN))
def down(request, settings):
    """The application with its database down (SQLite's file unreadable, PostgreSQL's
    port closed), the panel on."""
    app = create_app(replace(settings, secret_key="x" * 32), DOWN[request.param]())
    app.config["WTF_CSRF_ENABLED"] = False
    return app.test_client()


def test_the_rest_api_answers_503_while_the_database_is_down(down, caplog):
    for method, path in [("GET", "/api/v1/tenants"), ("PUT", "/api/v1/tenants/a.example")]:
        response = down.open(path, method=method, headers={"Authorization": "Bearer abc"}, json={})
        assert response.status_code == 503, (method, path)
        assert response.json == {"error": "the database is unavailable; try again in a moment"}
        assert response.headers["Retry-After"]
    assert all(r.exc_info is None for r in caplog.records if r.levelname != "DEBUG")


def test_the_panel_answers_503_while_the_database_is_down(down):
    response = down.post(
        "/panel/login",
        data={"number": "1000@127.0.0.1", "password": "x"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    # The panel's own page, in the user's language.
    assert response.mimetype == "text/html"
    assert "The service is unavailable for a moment" in response.text


def test_fetches_and_records_while_the_database_is_down(down):
    assert actions(dialplan(down, "1000")) == UNAVAILABLE
    assert post_cdr(down, cdr_xml(CALL1_A)).status_code == 503


# --- the deadline itself -----------------------------------------------------------------
def test_a_deadline_interrupts_the_block_and_nothing_after_it():
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded), deadline(100):
        time.sleep(5)
    assert time.monotonic() - started < 1
    time.sleep(0.3)  # neither the timer nor its repeats outlive the block
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_block_done_in_time_is_left_alone():
    with deadline(100):
        total = sum(range(1000))
    time.sleep(0.3)
    assert total == 499500


def test_outside_the_main_thread_there_is_no_deadline():
    finished = []

    def work():
        with deadline(50):
            time.sleep(0.2)
        finished.append(True)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert finished == [True]


def test_a_read_interrupted_by_its_deadline_is_not_run_again(engine):
    reads = KeptConnections(engine)
    runs = []

    def read(conn):
        runs.append(conn)
        time.sleep(5)

    reads.run(lambda conn: None)  # one connection kept
    with pytest.raises(DeadlineExceeded), deadline(100):
        reads.run(read)
    assert len(runs) == 1 and reads._idle == [] and runs[0].closed
    reads.close()


def test_an_api_token_check_is_not_mistaken_for_a_refusal_while_down(down):
    # 401 would tell a client its token is wrong: while the database is down it is 503.
    assert down.get("/api/v1/tenants", headers={"Authorization": "Bearer x"}).status_code == 503
