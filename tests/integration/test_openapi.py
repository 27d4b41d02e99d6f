"""The OpenAPI document against the API it describes: the document is valid, documents
exactly the routes Flask serves, and every answer it documents is what the route really
returns.

Each documented success (path, method, status, media type) is requested on a tenant
holding data of every kind (users, numbers routed by schedule, a hunt group, a queue,
directory contacts, a reminder, media, a call-log entry), and the body is validated
against the schema the document gives it, formats included; so are some documented
errors. A documented success no case requests fails the test: a new route needs a case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from centrex.config import Settings
from provisioning import media, reminders, service
from provisioning.openapi import openapi_document
from tests.conftest import XMLCURL_CREDENTIALS, apply_raw, demo_document
from tests.integration.test_call_log import call, store
from tests.integration.test_tenant_routing_calls import DOMAIN, stored_document
from tests.unit.test_media import tone, wav

SPEC_URI = "urn:centrex:openapi"
METHODS = {"get", "put", "post", "patch", "delete"}
JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
WAV = wav(tone(8000, 0.5), 8000)

# What fills each path parameter unless a case says otherwise (`reminder_id`: the
# seeded reminder's).
VALUES = {
    "domain": DOMAIN,
    "extension": "1001",
    "number": "0184800100",
    "name": "Sales",
    "queue": "Support",
    "kind": "music",
}


def tenant_document(**changes: Any) -> dict[str, Any]:
    """Numbers routed by schedule, the group Sales, the queue Support, a directory
    contact; and Bob (1002), whom nothing points at."""
    raw = stored_document()
    raw["users"].append(
        {
            "extension": "1002",
            "name": "Bob Durand",
            "sip_password": "Bob-Demo-Pass-2026",
            "voicemail": {"enabled": False},
        }
    )
    raw["conferences"] = [{"name": "Weekly", "extension": "800", "pin": "4321"}]
    return raw | changes


@dataclass(frozen=True)
class Case:
    """A request, and the documented answer it must get."""

    method: str
    path: str  # as the document writes it
    status: int
    media_type: str | None = JSON  # None: an answer without a body
    query: str = ""
    values: dict[str, str] = field(default_factory=dict)
    json: Any = None
    data: bytes | str | None = None
    content_type: str | None = None
    token: bool = True

    @property
    def answer(self) -> tuple[str, str, int, str | None]:
        return (self.method, self.path, self.status, self.media_type)

    def __str__(self) -> str:
        return " ".join(str(part) for part in self.answer if part is not None) + self.query


T = "/tenants/{domain}"
REMINDERS = T + "/users/{extension}/reminders"
MEDIA = T + "/media/{kind}/{name}"
AGENT = T + "/queues/{queue}/agents/{extension}"
MEMBER = T + "/groups/{name}/members/{extension}"
CAROL = {"name": "Carol", "sip_password": "Carol-Pass-2026x", "voicemail": {"pin": "480519"}}
DAILY = {"label": "Wake up", "kind": "every_day", "time": "07:00"}

SUCCESSES = [
    Case("get", "/tenants", 200),
    Case("post", T + "/explain", 200, json={"from": "0612345678", "to": "0184800100"}),
    Case("get", T, 200),
    Case("put", T, 200, query="?dry_run=true", json=tenant_document(name="Renamed")),
    Case("delete", T, 204, None),
    Case("get", T + "/users", 200),
    Case("get", T + "/users/{extension}", 200),
    Case("put", T + "/users/{extension}", 200, values={"extension": "1003"}, json=CAROL),
    Case(
        "patch",
        T + "/users/{extension}",
        200,
        json={"name": "Alice Patched", "voicemail": {"emails": ["alice@example.com"]}},
        content_type=MERGE_PATCH,
    ),
    Case("delete", T + "/users/{extension}", 200, values={"extension": "1002"}),
    Case("get", T + "/numbers", 200),
    Case("get", T + "/numbers/{number}", 200),
    Case(
        "put",
        T + "/numbers/{number}",
        200,
        values={"number": "0184800199"},
        json={"label": "Fax", "user": "1002"},
    ),
    Case("delete", T + "/numbers/{number}", 200, values={"number": "0184800102"}),
    Case("get", T + "/numbers/{number}/routing", 200),
    Case("get", T + "/conferences", 200),
    Case("get", T + "/conferences/{name}", 200, values={"name": "weekly"}),
    Case(
        "put",
        T + "/conferences/{name}",
        200,
        values={"name": "Daily"},
        json={"extension": "801", "max_members": 4},
    ),
    Case("delete", T + "/conferences/{name}", 200, values={"name": "Weekly"}),
    Case("get", T + "/directory", 200),
    Case("get", T + "/summary", 200, "text/html", query="?format=html"),
    Case("get", T + "/summary", 200, "text/plain", query="?format=text"),
    Case("post", T + "/holidays/import", 200, json={"year": 2027}),
    Case(
        "post",
        T + "/holidays/csv",
        200,
        data="date,name\n2027-07-14,Fête nationale\n",
        content_type="text/csv",
    ),
    Case("get", T + "/users/{extension}/call-handling", 200),
    Case(
        "put",
        T + "/users/{extension}/call-handling",
        200,
        json={"call_handling": {"do_not_disturb": {}, "forward_busy": {"to": "voicemail"}}},
    ),
    Case("get", REMINDERS, 200),
    Case("post", REMINDERS, 201, json=DAILY),
    Case("get", REMINDERS + "/{reminder_id}", 200),
    Case("put", REMINDERS + "/{reminder_id}", 200, json=DAILY),
    Case("delete", REMINDERS + "/{reminder_id}", 204, None),
    Case("get", T + "/media", 200),
    Case(
        "post",
        MEDIA,
        201,
        values={"kind": "announcement", "name": "closed"},
        data=WAV,
        content_type="audio/wav",
    ),
    Case("post", MEDIA, 200, values={"name": "jazz"}, data=WAV, content_type="audio/wav"),
    Case("delete", MEDIA, 204, None, values={"name": "jazz"}),
    Case("get", T + "/calls", 200),
    Case("get", T + "/calls", 200, "text/csv", query="?format=csv"),
    Case("get", T + "/queues", 200),
    Case("post", AGENT + "/login", 200),
    Case("post", AGENT + "/logout", 200),
    Case("get", T + "/groups", 200),
    Case("post", MEMBER + "/login", 200, values={"extension": "1000"}),
    Case("post", MEMBER + "/logout", 200, values={"extension": "1000"}),
    Case("post", T + "/groups/{name}/logout-all", 200),
    Case("get", "/schema/tenant.json", 200),
    Case("get", "/openapi.json", 200),
]
ERRORS = [
    Case("get", T + "/users", 401, token=False),
    Case("post", T + "/explain", 422, json={"from": "1001", "to": "1000", "assume": "x"}),
    Case("get", T, 404, values={"domain": "nowhere.example"}),
    Case("get", T + "/users/{extension}", 404, values={"extension": "1999"}),
    Case("put", T + "/users/{extension}", 422, values={"extension": "1003"}, json={"name": "C"}),
    Case("put", T + "/users/{extension}", 409, json={**CAROL, "version": 999}),
    Case(
        "patch",
        T + "/users/{extension}",
        409,
        json={"name": "Alice", "version": 999},
        content_type=MERGE_PATCH,
    ),
    Case("patch", T + "/users/{extension}", 415, json={"name": "Alice"}),
    Case(
        "patch",
        T + "/users/{extension}",
        422,
        json={"voicemail": {"pin": "1234"}},
        content_type=MERGE_PATCH,
    ),
    Case("post", REMINDERS, 422, json={**DAILY, "kind": "sometimes"}),
    Case(
        "put",
        T + "/users/{extension}/call-handling",
        409,
        json={"call_handling": {}, "version": 999},
    ),
    Case(
        "put",
        T + "/users/{extension}/call-handling",
        422,
        json={"call_handling": {"forward_always": {"to": "4242"}}},
    ),
    Case("post", MEDIA, 422, values={"name": "noise"}, data=b"not audio", content_type="audio/wav"),
    Case("get", T + "/calls", 400, query="?month=2026-13"),
    Case("get", T + "/conferences/{name}", 404, values={"name": "Monthly"}),
    Case(
        "put",
        T + "/conferences/{name}",
        422,
        values={"name": "Weekly"},
        json={"extension": "800", "pin": "12"},
    ),
]


@pytest.fixture
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url,
        xmlcurl_credentials=XMLCURL_CREDENTIALS,
        media_dir=str(tmp_path_factory.mktemp("media")),
    )


@pytest.fixture
def seeded(engine: Engine, session: Session, settings: Settings) -> dict[str, str]:
    """The tenant, another one beside it, an all-tenants token, music and an
    announcement, a reminder playing it, and the call-log entries of a call."""
    apply_raw(engine, tenant_document())
    apply_raw(engine, demo_document("pbx.other.example", numbers=[], main_number=None, users=[]))
    store(engine, call(1, "2026-11-02T09:00:00"))
    files = media.MediaStore(settings.effective_media_dir)
    service.upload_media(session, files, DOMAIN, media.MUSIC, "jazz", WAV)
    service.upload_media(session, files, DOMAIN, media.ANNOUNCEMENT, "welcome", WAV)
    once = {**DAILY, "kind": "once", "date": f"{date.today().year + 1}-01-15", "message": "welcome"}
    reminder = reminders.create_reminder(session, DOMAIN, "1001", once, datetime.now(UTC))
    token = service.create_token(session, "admin", None)
    session.commit()
    return {"token": token, "reminder_id": str(reminder.id)}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return openapi_document()


def request(client: FlaskClient, seeded: dict[str, str], case: Case) -> TestResponse:
    values = {**VALUES, "reminder_id": seeded["reminder_id"], **case.values}
    headers = {"Authorization": f"Bearer {seeded['token']}"} if case.token else {}
    return client.open(
        "/api/v1" + case.path.format(**values) + case.query,
        method=case.method.upper(),
        headers=headers,
        json=case.json,
        data=case.data,
        content_type=case.content_type,
    )


def _pointer(*parts: str) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def documented_schema(spec: dict[str, Any], case: Case) -> dict[str, Any] | None:
    """The schema of the case's answer, as a reference into the document (None for an
    answer without a body); fails if the document has no such answer."""
    answer = spec["paths"][case.path][case.method]["responses"][str(case.status)]
    if case.media_type is None:
        assert "content" not in answer
        return None
    assert case.media_type in answer["content"], f"{case}: {list(answer['content'])}"
    at = _pointer("paths", case.path, case.method, "responses", str(case.status))
    return {"$ref": f"{SPEC_URI}#{at}{_pointer('content', case.media_type, 'schema')}"}


def documented_successes(spec: dict[str, Any]) -> set[tuple[str, str, int, str | None]]:
    return {
        (method, path, int(status), media_type)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
        for status, answer in operation["responses"].items()
        if status.startswith("2")
        for media_type in answer.get("content") or [None]
    }


def test_every_documented_success_has_a_case_and_every_case_is_documented(spec):
    assert {case.answer for case in SUCCESSES} == documented_successes(spec)


@pytest.mark.parametrize("case", SUCCESSES + ERRORS, ids=str)
def test_every_documented_answer_is_what_the_route_returns(client, seeded, spec, case):
    response = request(client, seeded, case)
    assert response.status_code == case.status, response.get_data(as_text=True)[:500]
    schema = documented_schema(spec, case)
    if schema is None:
        assert response.get_data() == b""
        return
    assert response.mimetype == case.media_type
    body = response.json if case.media_type == JSON else response.get_data(as_text=True)
    registry: Registry = Registry().with_resource(
        SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT202012)
    )
    validator = Draft202012Validator(
        schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    problems = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)
    ]
    assert problems == []
    if case.method == "get" and isinstance(body, dict):
        # Validated on data, not on empty lists.
        assert [key for key, value in body.items() if value == []] == []


def test_the_document_is_valid_and_matches_the_routes(app, client, spec):
    served = client.get("/api/v1/openapi.json").json
    validate(served)
    assert served == spec
    documented = {
        (path, method)
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    }
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1") :])
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routes
