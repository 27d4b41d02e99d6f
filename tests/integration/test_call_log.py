"""The call log end to end: POST /cdr as mod_xml_cdr sends it, the err-log-dir import,
storage (idempotent, order-independent, race-safe), the query, CSV, the REST API and
the command line. Records are the captured ones (tests/unit/test_cdr.py) and variations."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from itertools import permutations
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from centrex.app import create_app
from centrex.cli import main
from esl import calllog
from esl.calllog import InvalidQuery, calls_csv, import_error_dir, query_calls, record_cdr
from provisioning import service
from provisioning.models import CallRecord
from tests.conftest import apply_raw, basic_auth, demo_document
from tests.unit.test_cdr import (
    ANSWERED,
    CALL1_A,
    CALL1_A_UUID,
    CALL1_B,
    CALL1_B_UUID,
    CALL1_LOOPBACK,
    CALL2_A,
    bodies,
    cdr_xml,
    edited,
    micros,
)

CONTENT_TYPES = {
    "true": "application/x-www-form-urlencoded",
    "unset": "application/x-www-form-plaintext",
    "base64": "application/x-www-form-base64-encoded",
    "textxml": "text/xml",
}
CONF = Path(__file__).resolve().parents[2] / "freeswitch-conf"


def post_cdr(client, xml: bytes, encode: str = "true", headers=None):  # type: ignore[no-untyped-def]
    return client.post(
        "/cdr?uuid=a_" + CALL1_A_UUID,
        data=bodies(xml)[encode],
        content_type=CONTENT_TYPES[encode],
        headers=basic_auth() if headers is None else headers,
    )


def entries(engine) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    """extension → (kind, leg the entry was taken from), for the only call stored."""
    with Session(engine) as s:
        rows = s.execute(select(CallRecord.extension, CallRecord.kind, CallRecord.leg_uuid)).all()
    found = {r.extension: (r.kind, r.leg_uuid) for r in rows}
    assert len(found) == len(rows), "one entry per call and user"
    return found


def store(engine, xml: bytes) -> calllog.Recorded:  # type: ignore[no-untyped-def]
    with engine.begin() as connection:
        return record_cdr(connection, xml)


def refusing_engine():  # type: ignore[no-untyped-def]
    """An engine whose database is down."""

    def connect() -> sqlite3.Connection:
        raise sqlite3.OperationalError("unable to open database file")

    return create_engine("sqlite://", creator=connect)


# --- POST /cdr ---------------------------------------------------------------------------
@pytest.mark.parametrize("encode", list(CONTENT_TYPES))
def test_every_encoding_is_stored(client, engine, demo_tenant, encode):
    response = post_cdr(client, cdr_xml(CALL1_A), encode)
    assert (response.status_code, response.text) == (200, "stored\n")
    assert entries(engine) == {
        "1001": ("placed", CALL1_A_UUID),
        "1000": ("missed", CALL1_A_UUID),
    }


@pytest.mark.parametrize(
    "headers", [{}, basic_auth("freeswitch:wrong"), {"Authorization": "Bearer x"}]
)
def test_without_freeswitch_s_credentials_nothing_is_stored(client, engine, demo_tenant, headers):
    response = post_cdr(client, cdr_xml(CALL1_A), headers=headers)
    assert response.status_code == 401 and "Basic" in response.headers["WWW-Authenticate"]
    assert entries(engine) == {}


def test_a_body_that_is_no_record_is_400(client, engine, demo_tenant):
    response = client.post("/cdr", data=b"cdr=%3Chello", headers=basic_auth())
    assert response.status_code == 400 and "not a call record" in response.text


@pytest.mark.parametrize(
    ("field", "value", "status"),
    [
        # Past any date, or a digit int() refuses ("²" passes isdigit()): 500s before.
        ("start_uepoch", "99999999999999999999", 400),
        ("end_uepoch", "%C2%B2", 400),
        ("answer_uepoch", "99999999999999999999", 200),
        ("bridge_uepoch", "%C2%B2", 200),
        ("duration", "%C2%B2", 200),
        ("billsec", "99999999999999999999", 200),
    ],
)
def test_a_record_with_numbers_no_switch_writes_is_refused_or_read_not_a_500(
    client, engine, demo_tenant, field, value, status
):
    import re

    xml = re.sub(
        rf"<{field}>[^<]*</{field}>".encode(),
        f"<{field}>{value}</{field}>".encode(),
        cdr_xml(CALL1_A),
        count=1,
    )
    response = post_cdr(client, xml)
    assert response.status_code == status, response.text


def test_a_record_concerning_no_user_is_acknowledged(client, engine, demo_tenant):
    for name in CALL1_LOOPBACK:
        assert post_cdr(client, cdr_xml(name)).status_code == 200
    assert entries(engine) == {}


def test_posting_a_leg_twice_stores_it_once(client, engine, demo_tenant):
    for _ in range(2):
        assert post_cdr(client, cdr_xml(CALL1_A)).status_code == 200
    assert len(entries(engine)) == 2


def test_database_down_answers_503_then_the_left_file_is_imported(
    settings, engine, demo_tenant, tmp_path, caplog
):
    xml = cdr_xml(CALL1_A)
    down = create_app(settings, refusing_engine()).test_client()
    response = post_cdr(down, xml)
    assert response.status_code == 503 and response.text == "database unavailable, try again\n"
    (line,) = [r for r in caplog.records if "not stored" in r.getMessage()]
    assert line.exc_info is None  # one short line, no traceback
    # After its last try FreeSWITCH writes the record into its err-log-dir.
    left = tmp_path / f"a_{CALL1_A_UUID}.cdr.xml"
    left.write_bytes(xml)
    report = import_error_dir(engine, tmp_path)
    assert (report.imported, report.rejected, report.left) == ([left.name], [], [])
    assert not left.exists()
    assert entries(engine)["1001"] == ("placed", CALL1_A_UUID)


# --- one entry per call and user -----------------------------------------------------------
CALL1_LEGS = [CALL1_A, CALL1_B, *CALL1_LOOPBACK]


@pytest.mark.parametrize("order", list(permutations(range(4)))[::5])
def test_the_legs_of_a_call_give_one_entry_per_user_in_any_order(engine, demo_tenant, order):
    for index in order:
        store(engine, cdr_xml(CALL1_LEGS[index]))
    # The caller's placed call from their leg; the callee's miss from their phone's leg.
    assert entries(engine) == {"1001": ("placed", CALL1_A_UUID), "1000": ("missed", CALL1_B_UUID)}


@pytest.mark.parametrize("phone_first", [True, False])
def test_the_more_telling_report_wins_whichever_arrives_first(engine, demo_tenant, phone_first):
    phone = edited(cdr_xml(CALL1_B), ANSWERED)
    legs = [phone, cdr_xml(CALL1_A)] if phone_first else [cdr_xml(CALL1_A), phone]
    for xml in legs:
        store(engine, xml)
    assert entries(engine)["1000"] == ("received", CALL1_B_UUID)


def test_concurrent_stores_of_the_same_record_do_not_raise(engine, demo_tenant):
    xml, errors = cdr_xml(CALL1_A), []
    start = threading.Barrier(4)

    def post() -> None:
        start.wait()
        try:
            store(engine, xml)
        except Exception as exc:  # the test reports it below
            errors.append(exc)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(entries(engine)) == 2


def test_a_removed_user_s_entries_stay_in_the_tenant_s_log(engine, demo_tenant, session):
    store(engine, cdr_xml(CALL2_A))
    raw = demo_document()
    raw["users"] = [u for u in raw["users"] if u["extension"] != "1002"]
    apply_raw(engine, raw)
    page = query_calls(session, "127.0.0.1")
    assert {(c.extension, c.kind) for c in page.calls} == {("1001", "placed"), ("1002", "missed")}
    with pytest.raises(service.NotFound):
        query_calls(session, "127.0.0.1", user="1002")


# --- FreeSWITCH's err-log-dir ---------------------------------------------------------------
def test_import_takes_every_record_moves_junk_aside_and_waits_for_young_files(
    engine, demo_tenant, tmp_path
):
    (tmp_path / f"a_{CALL1_A_UUID}.cdr.xml").write_bytes(cdr_xml(CALL1_A))
    (tmp_path / f"{CALL1_B_UUID}.cdr.xml").write_bytes(cdr_xml(CALL1_B))
    old_junk, young_junk = tmp_path / "old.cdr.xml", tmp_path / "young.cdr.xml"
    old_junk.write_bytes(b"<cdr><variables>")
    young_junk.write_bytes(b"<cdr><vari")  # FreeSWITCH may still be writing it
    hour_ago = time.time() - 3600
    os.utime(old_junk, (hour_ago, hour_ago))
    (tmp_path / "notes.txt").write_text("not a record")

    report = import_error_dir(engine, tmp_path)
    assert sorted(report.imported) == sorted(
        [f"a_{CALL1_A_UUID}.cdr.xml", f"{CALL1_B_UUID}.cdr.xml"]
    )
    assert (report.rejected, report.left, report.error) == (
        ["old.cdr.xml"],
        ["young.cdr.xml"],
        None,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "rejected", "young.cdr.xml"]
    assert (tmp_path / "rejected" / "old.cdr.xml").read_bytes() == b"<cdr><variables>"
    assert entries(engine) == {"1001": ("placed", CALL1_A_UUID), "1000": ("missed", CALL1_B_UUID)}
    # The same file again (FreeSWITCH gave up on a record already posted) changes nothing.
    (tmp_path / f"{CALL1_B_UUID}.cdr.xml").write_bytes(cdr_xml(CALL1_B))
    assert len(import_error_dir(engine, tmp_path).imported) == 1
    assert len(entries(engine)) == 2


def test_import_stops_at_a_database_failure_and_keeps_the_files(tmp_path):
    for name in (CALL1_A, CALL1_B):
        (tmp_path / f"{name}.cdr.xml").write_bytes(cdr_xml(name))
    report = import_error_dir(refusing_engine(), tmp_path)
    assert report.imported == [] and len(report.left) == 2 and report.error
    assert len(list(tmp_path.glob("*.cdr.xml"))) == 2


# --- reading the log ------------------------------------------------------------------------------
def call(number: int, start: str, **variables: str | None) -> bytes:
    """Call 2 again (1001 calls 1002, who misses it) as a new call starting at `start` UTC."""
    at = micros(start)
    times = {"start_uepoch": at, "answer_uepoch": at, "end_uepoch": str(int(at) + 30_000_000)}
    uuid = f"00000000-0000-4000-8000-{number:012d}"
    return edited(cdr_xml(CALL2_A), {"uuid": uuid, "call_uuid": uuid, **times, **variables})


# Paris: CET (UTC+1) in November and late October 2026, CEST (UTC+2) from 29 March.
MONTHS = [
    ("2026-10-31T22:59:59", "2026-10"),  # 23:59:59 local
    ("2026-10-31T23:00:00", "2026-11"),  # midnight local, 1 November
    ("2026-11-30T22:59:59", "2026-11"),
    ("2026-11-30T23:00:00", "2026-12"),
    ("2026-03-31T21:59:59", "2026-03"),  # summer time: UTC+2
    ("2026-03-31T22:00:00", "2026-04"),
    ("2026-12-31T22:59:59", "2026-12"),  # year end
    ("2026-12-31T23:00:00", "2027-01"),
]


@pytest.mark.parametrize(("start", "month"), MONTHS)
def test_a_call_belongs_to_the_month_of_the_tenant_s_timezone(
    session, engine, demo_tenant, start, month
):
    store(engine, call(1, start))
    assert query_calls(session, "127.0.0.1", month=month).total == 2
    for other in {m for _, m in MONTHS} - {month}:
        assert query_calls(session, "127.0.0.1", month=other).total == 0


@pytest.fixture
def log_of_calls(engine):  # type: ignore[no-untyped-def]
    """Three calls in November 2026: 1001 → 1002 twice, 1001 → a contact's mobile."""
    raw = demo_document()
    raw["users"][1]["contacts"] = [{"name": "Mum", "numbers": ["06 11 11 11 11"]}]
    apply_raw(engine, raw)
    store(engine, call(1, "2026-11-02T09:00:00"))
    store(engine, call(2, "2026-11-03T09:00:00"))
    mobile = edited(call(3, "2026-11-04T09:00:00"), hops=[("127.0.0.1", "0611111111")])
    store(engine, mobile)


def test_filters_by_user_kind_month_and_search(session, log_of_calls):
    def found(**filters) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
        page = query_calls(session, "127.0.0.1", **filters)
        return [(c.extension, c.kind, c.peer_number) for c in page.calls]

    assert found(user="1001") == [
        ("1001", "placed", "+33611111111"),
        ("1001", "placed", "1002"),
        ("1001", "placed", "1002"),
    ]
    assert found(kind="missed") == [("1002", "missed", "1001")] * 2
    assert found(month="2026-12") == []
    assert found(user="1001", search="mum") == [("1001", "placed", "+33611111111")]
    assert found(search="06 11 11") == [("1001", "placed", "+33611111111")]
    assert found(search="bob") == [("1001", "placed", "1002")] * 2  # a colleague's name
    assert found(user="1002", search="alice") == [("1002", "missed", "1001")] * 2


def test_names_come_from_contacts_then_colleagues(session, log_of_calls):
    names = {
        (c.extension, c.peer_number): c.peer_name for c in query_calls(session, "127.0.0.1").calls
    }
    assert names == {
        ("1001", "+33611111111"): "Mum",
        ("1001", "1002"): "Bob Durand",
        ("1002", "1001"): "Alice Martin",
    }


def test_paging_and_times_in_the_tenant_s_timezone(session, log_of_calls):
    page = query_calls(session, "127.0.0.1", user="1001", limit=1, offset=1)
    assert (page.total, len(page.calls)) == (3, 1)
    (view,) = page.calls
    assert view.as_dict()["started_at"] == "2026-11-03T10:00:00+01:00"
    assert (view.duration, view.billsec, view.direction) == (30, 30, "outgoing")


@pytest.mark.parametrize(
    "filters", [{"month": "2026-13"}, {"month": "11-2026"}, {"kind": "lost"}, {"limit": 0}]
)
def test_malformed_filters_are_refused(session, demo_tenant, filters):
    with pytest.raises(InvalidQuery):
        query_calls(session, "127.0.0.1", **filters)


def test_csv_holds_the_same_entries_and_no_formula(session, engine, demo_tenant):
    from_carrier = edited(
        call(4, "2026-11-05T09:00:00", user_name=None, domain_name=None, dialed_user=None),
        hops=[("public", "0184800100")],
        caller=("0612345678", '=HYPERLINK("http://evil.example")'),
    )
    store(engine, from_carrier)
    lines = calls_csv(session, "127.0.0.1", month="2026-11").splitlines()
    assert lines[0] == ",".join(calllog.CSV_COLUMNS)
    assert lines[1].startswith("2026-11-05T10:00:00+01:00,1000,missed,incoming,+33612345678,")
    assert "'=HYPERLINK" in lines[1]
    assert len(lines) == 2


# --- REST API ----------------------------------------------------------------------------------
@pytest.fixture
def tokens(session, log_of_calls, engine):  # type: ignore[no-untyped-def]
    apply_raw(engine, demo_document("pbx.other.example", numbers=[], main_number=None, users=[]))
    made = {
        "admin": service.create_token(session, "admin", None),
        "tenant": service.create_token(session, "tenant", "127.0.0.1"),
        "other": service.create_token(session, "other", "pbx.other.example"),
    }
    session.commit()
    return {k: {"Authorization": f"Bearer {v}"} for k, v in made.items()}


def test_api_lists_filters_and_pages(client, tokens):
    url = "/api/v1/tenants/127.0.0.1/calls"
    page = client.get(url + "?user=1001&limit=2", headers=tokens["tenant"]).json
    assert (page["total"], page["limit"], page["offset"], len(page["calls"])) == (3, 2, 0, 2)
    first = page["calls"][0]
    assert (first["user"], first["kind"], first["peer_name"]) == ("1001", "placed", "Mum")
    missed = client.get(url + "?kind=missed&q=alice", headers=tokens["admin"]).json
    assert missed["total"] == 2


def test_api_csv_is_an_attachment(client, tokens):
    response = client.get(
        "/api/v1/tenants/127.0.0.1/calls?format=csv&user=1001&month=2026-11",
        headers=tokens["tenant"],
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="calls-127.0.0.1-1001-2026-11.csv"'
    )
    assert len(response.text.splitlines()) == 4


def test_a_tenant_token_never_sees_another_tenant_s_calls(client, tokens):
    assert client.get("/api/v1/tenants/127.0.0.1/calls", headers=tokens["other"]).status_code == 404
    csv = client.get("/api/v1/tenants/127.0.0.1/calls?format=csv", headers=tokens["other"])
    assert csv.status_code == 404
    own = client.get("/api/v1/tenants/pbx.other.example/calls", headers=tokens["other"]).json
    assert own["total"] == 0


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("month=2026-13", 400),
        ("limit=x", 400),
        ("limit=%C2%B2", 400),
        ("offset=" + "9" * 30, 400),
        ("format=xml", 400),
        ("user=1099", 404),
    ],
)
def test_api_errors(client, tokens, query, status):
    response = client.get(f"/api/v1/tenants/127.0.0.1/calls?{query}", headers=tokens["admin"])
    assert response.status_code == status and "error" in response.json


# --- command line and FreeSWITCH's configuration ------------------------------------------------
@pytest.fixture
def env(monkeypatch, database_url, engine):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CENTREX_DATABASE_URL", database_url)
    for name in ["CENTREX_CONFIG", "CENTREX_XMLCURL_CREDENTIALS"]:
        monkeypatch.delenv(name, raising=False)


def test_cli_imports_and_lists(env, demo_tenant, tmp_path, capsys):
    (tmp_path / f"a_{CALL1_A_UUID}.cdr.xml").write_bytes(cdr_xml(CALL1_A))
    assert main(["cdr", "import", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "imported 1, rejected 0 (moved to rejected/), left 0\n"
    assert main(["calls", "127.0.0.1", "--user", "1001"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2026-11-22 12:57      1001  placed     1000 Reception")
    assert main(["calls", "127.0.0.1", "--kind", "missed", "--csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split(",")[1:4] == ["1000", "missed", "incoming"]
    assert main(["calls", "127.0.0.1", "--month", "2026-13"]) == 1
    assert "month must be YYYY-MM" in capsys.readouterr().err
    assert main(["cdr", "import", str(tmp_path / "missing")]) == 1


def test_freeswitch_posts_every_leg_where_and_as_centrex_takes_it(app):
    found = etree.parse(str(CONF / "autoload_configs" / "xml_cdr.conf.xml")).iter("param")
    found = [(p.get("name"), p.get("value")) for p in found]
    params = dict(found)
    assert [v for k, v in found if k == "url"] == [
        "$${centrex_url}/cdr",
        "$${centrex_url_2}/cdr",
        "$${centrex_url_3}/cdr",
    ]
    assert params["cred"] == "$${centrex_xmlcurl_credentials}" and params["auth-scheme"] == "basic"
    assert params["encode"] in CONTENT_TYPES
    assert params["log-b-leg"] == "true" and params["err-log-dir"]
    assert int(params["retries"]) >= 1 and 0 < int(params["timeout"]) <= 30
    assert any(r.rule == "/cdr" and "POST" in r.methods for r in app.url_map.iter_rules())


def test_the_listener_imports_the_error_dir_on_its_timer(engine, demo_tenant, tmp_path):
    from centrex.config import Settings
    from esl.listener import Listener
    from esl.service import CALL_RECORDS_EVERY, periodic_tasks

    settings = Settings(esl_nodes=("127.0.0.1:1",), esl_password="x", cdr_error_dir=str(tmp_path))
    left = tmp_path / f"a_{CALL1_A_UUID}.cdr.xml"
    left.write_bytes(cdr_xml(CALL1_A))
    (task,) = [task for every, task in periodic_tasks(settings) if every == CALL_RECORDS_EVERY]
    task(Listener(settings, engine))
    assert not left.exists()
    assert entries(engine)["1001"] == ("placed", CALL1_A_UUID)
    without = Settings(esl_nodes=("127.0.0.1:1",), esl_password="x")
    assert CALL_RECORDS_EVERY not in [every for every, _ in periodic_tasks(without)]
