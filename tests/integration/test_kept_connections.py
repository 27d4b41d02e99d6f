"""FreeSWITCH's requests — xml_curl fetches and call records — run on connections kept
between them (centrex.db.KeptConnections)."""

import threading

from sqlalchemy import event

from centrex.db import KeptConnections
from tests.conftest import post_fetch
from tests.fsrequests import fixture_fields
from tests.integration.test_call_log import entries, post_cdr
from tests.integration.test_xmlcurl import actions, dialplan, is_not_found, xml
from tests.unit.test_cdr import CALL1_A, CALL1_A_UUID, cdr_xml


def checkouts(engine, action) -> int:
    counted = []

    def checkout(*_args):
        counted.append(1)

    event.listen(engine, "checkout", checkout)
    try:
        action()
    finally:
        event.remove(engine, "checkout", checkout)
    return len(counted)


def held(app):
    kept: KeptConnections = app.extensions["centrex"].kept
    (conn,) = kept._idle
    return conn


def in_transaction(dbapi_connection) -> bool:
    if hasattr(dbapi_connection, "in_transaction"):  # sqlite3
        return dbapi_connection.in_transaction
    return dbapi_connection.info.transaction_status != 0  # psycopg: IDLE


def test_fetches_share_one_connection_left_outside_any_transaction(app, client, demo_tenant):
    def fetches():
        xml(post_fetch(client, fixture_fields("directory-gateways")))  # SQLAlchemy Core
        xml(post_fetch(client, fixture_fields("directory-sip_auth")))
        for _ in range(3):  # statements on the DBAPI cursor, last
            assert ("bridge", "user/1000@127.0.0.1") in actions(dialplan(client, "1000"))

    assert checkouts(app.extensions["centrex"].engine, fetches) == 1
    # Neither a snapshot nor a lock held between fetches (PostgreSQL would otherwise sit
    # "idle in transaction", blocking migrations and vacuum).
    assert not in_transaction(held(app).connection.dbapi_connection)


def test_a_kept_connection_that_died_is_replaced_without_failing_the_call(app, client, demo_tenant):
    dialplan(client, "1000")
    # As after a database server restart: the kept connection's socket is gone.
    held(app).connection.dbapi_connection.close()
    assert ("bridge", "user/1000@127.0.0.1") in actions(dialplan(client, "1000"))
    assert ("bridge", "user/1000@127.0.0.1") in actions(dialplan(client, "1000"))


def test_closing_releases_the_kept_connections(app, client, demo_tenant):
    dialplan(client, "1000")
    conn = held(app)
    app.extensions["centrex"].kept.close()
    assert conn.closed
    # The next fetch takes a fresh connection.
    assert ("bridge", "user/1000@127.0.0.1") in actions(dialplan(client, "1000"))
    assert not is_not_found(xml(post_fetch(client, fixture_fields("directory-sip_auth"))))


def test_fetches_each_in_a_thread_of_its_own_share_the_kept_connection(app, client, demo_tenant):
    # As a server running each request in a new thread (werkzeug's, FreeSWITCH's tests).
    answers = []

    def fetch():
        answers.append(actions(dialplan(app.test_client(), "1000")))

    def fetches():
        for _ in range(20):
            thread = threading.Thread(target=fetch)
            thread.start()
            thread.join()

    pool = app.extensions["centrex"].engine.pool
    # (The suite's engine is shared: what other tests' apps still hold is not ours.)
    held_before = pool.checkedout()
    assert checkouts(app.extensions["centrex"].engine, fetches) <= 1
    assert all(("bridge", "user/1000@127.0.0.1") in a for a in answers) and len(answers) == 20
    assert pool.checkedout() <= held_before + 1


def test_call_records_are_stored_on_the_kept_connection_committed(app, client, engine, demo_tenant):
    """A record takes no connection from the pool either (on PostgreSQL a ping, BEGIN
    and COMMIT more), and what it stored is committed when the answer goes."""
    dialplan(client, "1000")

    def records():
        assert post_cdr(client, cdr_xml(CALL1_A), "textxml").status_code == 200

    assert checkouts(app.extensions["centrex"].engine, records) == 0
    assert not in_transaction(held(app).connection.dbapi_connection)
    assert entries(engine) == {
        "1001": ("placed", CALL1_A_UUID),
        "1000": ("missed", CALL1_A_UUID),
    }


def test_a_record_on_a_kept_connection_that_died_is_stored_once(app, client, engine, demo_tenant):
    dialplan(client, "1000")
    held(app).connection.dbapi_connection.close()
    assert post_cdr(client, cdr_xml(CALL1_A), "textxml").status_code == 200
    assert post_cdr(client, cdr_xml(CALL1_A), "textxml").status_code == 200  # retried
    assert set(entries(engine)) == {"1001", "1000"}
