"""A tenant's activity, as the operator view reads it (snapshot and event stream)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import gevent
import pytest

from centrex.config import Settings
from centrex.db import make_session_factory
from esl.handlers import ChannelSeen, LineRef, Registered
from esl.listener import Listener
from esl.live import create_live_app
from provisioning import service
from tests.conftest import apply_raw, demo_document

# Monday 30 November 2026, 10:00 in Paris: office hours.
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
NODE = "127.0.0.1:1"


@pytest.fixture
def listener(settings: Settings, engine) -> Listener:
    settings = Settings(
        database_url=settings.database_url, esl_nodes=(NODE,), esl_password="secret"
    )
    return Listener(settings, engine, clock=lambda: NOW)


@pytest.fixture
def live(settings, engine, listener):
    return create_live_app(settings, engine, listener).test_client()


def make_token(engine, tenant: str | None = None) -> str:
    with make_session_factory(engine).begin() as session:
        return service.create_token(session, f"operator of {tenant or 'all'}", tenant)


@pytest.fixture
def token(engine) -> str:
    return make_token(engine)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_snapshot_shows_lines_phones_calls_and_the_schedule(engine, listener, live, token):
    raw = demo_document()
    raw["users"][2]["call_handling"] = {"do_not_disturb": {}}
    raw["groups"] = [{"name": "Sales", "extension": "5000", "members": ["1000", "1001"]}]
    apply_raw(engine, raw)
    line = LineRef("1000", "127.0.0.1")
    listener.store.apply(
        [
            Registered(
                NODE,
                "c1",
                line,
                "<sip:1000@192.0.2.9>",
                "Yealink T54W",
                "192.0.2.9",
                5060,
                NOW + timedelta(minutes=5),
            ),
            ChannelSeen(NODE, "u1", line, "outbound", True, False, "0612345678", "Alice", NOW),
        ],
        NOW,
    )
    answer = live.get("/api/v1/tenants/127.0.0.1/activity", headers=auth(token))
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["schedules_in_force"] == ["office hours"]
    lines = {line["extension"]: line for line in body["lines"]}
    assert lines["1000"]["state"] == "busy"
    assert lines["1000"]["phones"][0]["user_agent"] == "Yealink T54W"
    assert lines["1000"]["calls"] == [
        {
            "direction": "incoming",
            "peer_number": "0612345678",
            "peer_name": "Alice",
            "answered": True,
            "held": False,
            "since": "2026-11-30T09:00:00Z",
        }
    ]
    assert body["absent"] == [raw["users"][2]["extension"]]
    assert "1000" not in body["unavailable"] and "1001" in body["unavailable"]
    assert body["nodes"] == [{"node": NODE, "connected": False}]
    (sales,) = body["groups"]
    assert (sales["name"], sales["number"], sales["logged_in"]) == ("Sales", "5000", 2)
    # 1000 is on a call, 1001 has no phone registered: nobody can take a call now.
    assert sales["available"] == 0
    assert [m["state"] for m in sales["members"]] == ["busy", "idle"]


def test_tokens_see_their_own_tenant_only(engine, live):
    apply_raw(engine, demo_document())
    apply_raw(
        engine, {"domain": "other.example", "name": "Other", "timezone": "UTC", "country": "FR"}
    )
    other = make_token(engine, "other.example")
    assert live.get("/api/v1/tenants/127.0.0.1/activity", headers=auth(other)).status_code == 404
    assert live.get("/api/v1/tenants/127.0.0.1/activity").status_code == 401
    assert (
        live.get("/api/v1/tenants/other.example/activity", headers=auth(other)).status_code == 200
    )


def test_the_stream_pushes_a_new_snapshot_when_a_line_changes(engine, listener, live, token):
    apply_raw(engine, demo_document())
    answer = live.get("/api/v1/tenants/127.0.0.1/activity/stream", headers=auth(token))
    assert answer.mimetype == "text/event-stream"
    chunks = iter(answer.response)
    first = next(chunks)
    assert first.startswith(b"event: activity\n")

    def ring() -> None:
        line = LineRef("1001", "127.0.0.1")
        statuses = listener.store.apply(
            [ChannelSeen(NODE, "u2", line, "outbound", False, False, "1000", "", NOW)], NOW
        )
        listener.watch.touch({s.tenant_id for s in statuses})

    gevent.spawn(ring)
    second = next(chunks)
    data = json.loads(second.decode().split("data: ", 1)[1])
    assert {x["extension"]: x["state"] for x in data["lines"]}["1001"] == "ringing"
    answer.close()
