"""FreeSWITCH's requests answered in front of Flask (centrex.switch_paths): the same
answers, none of Flask's request machinery, and what escapes a handler answered as
Flask's error handlers would."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy.exc import OperationalError

from tests.conftest import basic_auth
from tests.integration.test_xmlcurl import actions, dialplan
from tests.unit.test_cdr import CALL1_A, cdr_xml


@pytest.fixture
def flask_requests(app):  # type: ignore[no-untyped-def]
    """Paths that went through Flask's request handling."""
    seen: list[str] = []

    @app.before_request
    def count() -> None:
        from flask import request

        seen.append(request.path)

    return seen


def test_fetches_and_records_skip_flask_and_everything_else_goes_through_it(
    client, demo_tenant, flask_requests
):
    assert any(app == "bridge" for app, _ in actions(dialplan(client, "1000")))
    refused = client.post("/xmlcurl", data=b"section=dialplan")
    assert (refused.status_code, refused.headers["Content-Type"]) == (
        401,
        "text/xml; charset=utf-8",
    )
    assert refused.headers["WWW-Authenticate"] == 'Basic realm="centrex"'
    stored = client.post("/cdr?uuid=a", data=cdr_xml(CALL1_A), headers=basic_auth())
    assert (stored.status_code, stored.text) == (200, "stored\n")
    assert flask_requests == []
    assert client.get("/healthz").status_code == 200
    assert client.get("/xmlcurl").status_code == 405  # only a POST is FreeSWITCH's
    assert flask_requests == ["/healthz", "/xmlcurl"]


def test_a_handler_s_unexpected_error_is_a_logged_500(client, demo_tenant, monkeypatch, caplog):
    def broken(_body: bytes) -> bytes:
        raise RuntimeError("bug")

    monkeypatch.setattr("esl.cdr_http.xml_from_body", broken)
    with caplog.at_level(logging.ERROR):
        response = client.post("/cdr", data=cdr_xml(CALL1_A), headers=basic_auth())
    assert response.status_code == 500
    assert json.loads(response.data) == {"error": "internal error; it has been logged"}
    assert b"bug" not in response.data
    assert any("unexpected error on /cdr" in r.getMessage() for r in caplog.records)


def test_a_database_down_outside_a_handler_s_own_care_is_a_503(client, monkeypatch):
    def down(_environ: object) -> bool:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr("esl.cdr_http.switch_authorised", down)
    response = client.post("/cdr", data=b"x", headers=basic_auth())
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "database is unavailable" in response.text
