"""Reminders end to end: the REST API, and firing them through a recording Switch —
claimed once by concurrent listeners, retried after failures, moved on after each."""

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select

from centrex.db import make_session_factory
from esl.reminder_calls import (
    MAX_ATTEMPTS,
    RETRY_AFTER,
    fire_due_reminders,
    settle_reminder_call,
)
from provisioning import reminders, service
from provisioning.models import Media, Reminder, Tenant, User
from tests.conftest import apply_raw, demo_document
from tests.recording_switch import RecordingSwitch

DOMAIN = "127.0.0.1"
OTHER = "pbx.other.example"
URL = f"/api/v1/tenants/{DOMAIN}/users/1001/reminders"
PARIS = ZoneInfo("Europe/Paris")
DAILY = {"label": "Wake up", "kind": "every_day", "time": "07:00"}
PLANNED = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # Sunday noon
MONDAY_7 = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 07:00 in Paris
TUESDAY_7 = MONDAY_7 + timedelta(days=1)


@pytest.fixture
def headers(session, demo_tenant, engine):
    apply_raw(engine, demo_document(OTHER, numbers=[], main_number=None, users=[]))
    tokens = {
        "admin": service.create_token(session, "admin", None),
        "other": service.create_token(session, "other", OTHER),
    }
    session.commit()
    return {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}


def add(engine, raw, now=PLANNED, extension="1001") -> int:
    with make_session_factory(engine).begin() as session:
        return reminders.create_reminder(session, DOMAIN, extension, raw, now).id


def stored(engine, reminder_id) -> Reminder | None:
    with make_session_factory(engine).begin() as session:
        return session.get(Reminder, reminder_id)


def due_at(engine, reminder_id) -> datetime | None:
    return reminders.as_utc(stored(engine, reminder_id).next_due_at)


def user_id(engine, extension="1001") -> int:
    with make_session_factory(engine).begin() as session:
        return session.scalar(select(User.id).where(User.extension == extension))


# --- REST API -------------------------------------------------------------------------
def test_create_list_get_replace_delete(client, headers):
    h = headers["admin"]
    made = client.post(URL, headers=h, json=DAILY)
    assert made.status_code == 201, made.json
    body = made.json
    next_due = datetime.fromisoformat(body["next_due_at"])
    now = datetime.now(UTC)
    assert now < next_due <= now + timedelta(days=1)
    assert next_due.astimezone(PARIS).strftime("%H:%M") == "07:00"
    assert body | {"id": 0, "next_due_at": ""} == {
        "id": 0,
        "label": "Wake up",
        "kind": "every_day",
        "date": None,
        "time": "07:00",
        "message": None,
        "enabled": True,
        "next_due_at": "",
        "last_fired_at": None,
    }
    assert client.get(URL, headers=h).json == {"reminders": [body]}
    one = f"{URL}/{body['id']}"
    assert client.get(one, headers=h).json == body

    meeting = {"label": "Meeting", "kind": "once", "date": "2099-06-01", "time": "09:30"}
    replaced = client.put(one, headers=h, json=meeting)
    assert replaced.status_code == 200, replaced.json
    assert replaced.json["next_due_at"] == "2099-06-01T07:30:00+00:00"
    paused = client.put(one, headers=h, json={**meeting, "enabled": False}).json
    assert paused["enabled"] is False and paused["next_due_at"] is None

    assert client.delete(one, headers=h).status_code == 204
    assert client.get(one, headers=h).status_code == 404
    assert client.get(URL, headers=h).json == {"reminders": []}


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({**DAILY, "kind": "hourly"}, ["kind"]),
        ({**DAILY, "time": "7h"}, ["time"]),
        ({**DAILY, "time": "24:00"}, ["time"]),
        ({**DAILY, "kind": "once"}, ["date"]),
        ({**DAILY, "date": "2099-01-01"}, ["date"]),
        ({**DAILY, "kind": "once", "date": "2020-01-01"}, ["date"]),
        ({**DAILY, "date": "31/12/2099"}, ["date"]),
        ({**DAILY, "label": "${system(id)}"}, ["label"]),
        ({**DAILY, "label": " "}, ["label"]),
        ({**DAILY, "colour": "red"}, ["colour"]),
        ({**DAILY, "message": "no-such-recording"}, ["message"]),
        ({"kind": "every_day"}, ["label", "time"]),
        ([], [""]),
    ],
)
def test_invalid_reminders_are_422_with_the_field_at_fault(client, headers, body, paths):
    answer = client.post(URL, headers=headers["admin"], json=body)
    assert answer.status_code == 422, answer.json
    assert [p["path"] for p in answer.json["problems"]] == paths
    assert client.get(URL, headers=headers["admin"]).json == {"reminders": []}


def test_a_once_reminder_in_the_past_says_so(client, headers):
    past = {**DAILY, "kind": "once", "date": "2020-01-01"}
    answer = client.post(URL, headers=headers["admin"], json=past)
    assert answer.json["problems"] == [
        {"path": "date", "message": "2020-01-01 07:00 is in the past", "code": None, "params": {}}
    ]


def test_reminders_are_scoped_like_every_route(client, headers, engine):
    rid = add(engine, DAILY)
    other = headers["other"]
    assert client.get(URL, headers=other).status_code == 404
    assert client.post(URL, headers=other, json=DAILY).status_code == 404
    assert client.delete(f"{URL}/{rid}", headers=other).status_code == 404
    assert client.get(URL, headers={}).status_code == 401
    # A reminder is reached through its own line only.
    admin = headers["admin"]
    assert (
        client.get(
            f"/api/v1/tenants/{DOMAIN}/users/1002/reminders/{rid}", headers=admin
        ).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/tenants/{DOMAIN}/users/1999/reminders", headers=admin).status_code
        == 404
    )


def test_a_line_has_a_bounded_number_of_reminders(client, headers, engine):
    for _ in range(reminders.MAX_PER_LINE):
        add(engine, DAILY)
    answer = client.post(URL, headers=headers["admin"], json=DAILY)
    assert answer.status_code == 422
    assert "at most" in answer.json["problems"][0]["message"]


def test_removing_a_user_removes_their_reminders(client, headers, engine):
    add(engine, DAILY, extension="1002")
    assert (
        client.delete(f"/api/v1/tenants/{DOMAIN}/users/1002", headers=headers["admin"]).status_code
        == 200
    )
    with make_session_factory(engine).begin() as session:
        assert session.scalar(select(func.count()).select_from(Reminder)) == 0


def test_message_names_one_of_the_tenants_announcements(client, headers, engine):
    with make_session_factory(engine).begin() as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.domain == DOMAIN))
        session.add(announcement(tenant_id))
    answer = client.post(URL, headers=headers["admin"], json={**DAILY, "message": "wake"})
    assert answer.status_code == 201 and answer.json["message"] == "wake"


def announcement(tenant_id: int) -> Media:
    return Media(
        tenant_id=tenant_id,
        kind="announcement",
        name="wake",
        path=f"{DOMAIN}/announcement/wake/wake.wav",
        duration_ms=1500,
        size=48000,
    )


def test_command_line_lists_a_lines_reminders(engine, demo_tenant, settings, capsys, monkeypatch):
    from centrex.cli import main

    add(engine, DAILY)
    add(engine, {"label": "Dentist", "kind": "once", "date": "2099-03-02", "time": "08:15"})
    monkeypatch.setenv("CENTREX_DATABASE_URL", settings.database_url)
    assert main(["reminders", DOMAIN, "1001"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "every_day" in lines[0] and "next 2026-11-23 07:00" in lines[0] and "Wake up" in lines[0]
    assert "2099-03-02 08:15" in lines[1] and "next 2099-03-02 08:15" in lines[1]


# --- firing -----------------------------------------------------------------------------
def test_a_due_reminder_calls_the_line_and_moves_to_its_next_day(engine, demo_tenant):
    rid = add(engine, DAILY)
    switch, asked = RecordingSwitch(), []

    def switch_for_user(uid):
        asked.append(uid)
        return switch

    assert fire_due_reminders(engine, switch_for_user, MONDAY_7 - timedelta(seconds=1)) == []
    now = MONDAY_7 + timedelta(seconds=20)
    calls = fire_due_reminders(engine, switch_for_user, now)
    assert [(c.reminder_id, c.line, c.error) for c in calls] == [(rid, f"1001@{DOMAIN}", None)]
    assert asked == [user_id(engine)]
    [command] = switch.commands
    job = calls[0].job_uuid
    assert command.startswith(f"bgapi uuid:{job} originate {{")
    assert f"centrex_reminder={rid}}}user/1001@{DOMAIN} &playback(file_string://" in command
    assert "ivr/ivr-this_is_your_wakeup_call.wav" in command
    row = stored(engine, rid)
    assert reminders.as_utc(row.next_due_at) == TUESDAY_7
    assert reminders.as_utc(row.last_fired_at) == now
    assert row.job_uuid == job
    # Fired once: the same moment again finds nothing due.
    assert fire_due_reminders(engine, switch_for_user, now) == []
    assert len(switch.commands) == 1


def test_two_listeners_at_the_same_moment_fire_a_reminder_once(engine, demo_tenant):
    rid = add(engine, DAILY)
    switch = RecordingSwitch()
    # Both listeners have read the reminder as due before either claims it.
    both_read = threading.Barrier(2, timeout=10)
    waited = threading.local()

    def hold_claims(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE reminders") and not getattr(waited, "done", False):
            waited.done = True
            both_read.wait()

    event.listen(engine, "before_cursor_execute", hold_claims)
    results: list = []
    try:
        listeners = [
            threading.Thread(
                target=lambda: results.append(
                    fire_due_reminders(engine, lambda _uid: switch, MONDAY_7)
                )
            )
            for _ in range(2)
        ]
        for t in listeners:
            t.start()
        for t in listeners:
            t.join(timeout=30)
    finally:
        event.remove(engine, "before_cursor_execute", hold_claims)
    assert sorted(len(r) for r in results) == [0, 1]
    assert len(switch.commands) == 1
    assert due_at(engine, rid) == TUESDAY_7


def test_a_failed_call_is_tried_again_soon_then_moves_on(engine, demo_tenant):
    rid = add(engine, DAILY)
    switch = RecordingSwitch(failures=1)
    [failed] = fire_due_reminders(engine, lambda _uid: switch, MONDAY_7)
    assert failed.job_uuid is None and "not connected" in failed.error
    assert failed.retry_at == MONDAY_7 + RETRY_AFTER == due_at(engine, rid)
    assert stored(engine, rid).attempts == 1

    assert fire_due_reminders(engine, lambda _uid: switch, MONDAY_7 + timedelta(minutes=1)) == []
    [retried] = fire_due_reminders(engine, lambda _uid: switch, MONDAY_7 + RETRY_AFTER)
    assert retried.job_uuid is not None and retried.error is None
    assert len(switch.commands) == 2
    assert due_at(engine, rid) == TUESDAY_7
    assert settle_reminder_call(engine, retried.job_uuid, "+OK 1c2d\n", MONDAY_7)
    assert stored(engine, rid).attempts == 0


def test_a_call_that_keeps_failing_is_given_up_until_the_next_day(engine, demo_tenant):
    rid = add(engine, DAILY)
    switch = RecordingSwitch(failures=99)
    now = MONDAY_7
    for _ in range(MAX_ATTEMPTS):
        [call] = fire_due_reminders(engine, lambda _uid: switch, now)
        now += RETRY_AFTER
    assert call.retry_at is None
    assert len(switch.commands) == MAX_ATTEMPTS
    assert due_at(engine, rid) == TUESDAY_7 and stored(engine, rid).attempts == 0
    assert fire_due_reminders(engine, lambda _uid: switch, now + timedelta(hours=1)) == []


def test_no_connected_node_counts_as_a_failed_call(engine, demo_tenant):
    rid = add(engine, DAILY)
    [call] = fire_due_reminders(engine, lambda _uid: None, MONDAY_7)
    assert call.error == "no FreeSWITCH node is connected"
    assert due_at(engine, rid) == MONDAY_7 + RETRY_AFTER


def test_a_node_that_refuses_the_job_counts_as_a_failed_call(engine, demo_tenant):
    rid = add(engine, DAILY)
    switch = RecordingSwitch(reply="-ERR bgapi: command not found\n")
    [call] = fire_due_reminders(engine, lambda _uid: switch, MONDAY_7)
    assert "refused" in call.error and due_at(engine, rid) == MONDAY_7 + RETRY_AFTER


def test_an_unanswered_call_is_tried_again_and_reported_once(engine, demo_tenant):
    rid = add(engine, DAILY)
    [call] = fire_due_reminders(engine, lambda _uid: RecordingSwitch(), MONDAY_7)
    later = MONDAY_7 + timedelta(seconds=50)
    assert settle_reminder_call(engine, call.job_uuid, "-ERR NO_ANSWER\n", later)
    assert due_at(engine, rid) == later + RETRY_AFTER
    # A second listener hearing the same BACKGROUND_JOB changes nothing.
    assert not settle_reminder_call(engine, call.job_uuid, "-ERR NO_ANSWER\n", later)
    assert stored(engine, rid).attempts == 1


def test_a_declined_call_is_not_tried_again(engine, demo_tenant):
    rid = add(engine, DAILY)
    [call] = fire_due_reminders(engine, lambda _uid: RecordingSwitch(), MONDAY_7)
    assert settle_reminder_call(engine, call.job_uuid, "-ERR CALL_REJECTED\n", MONDAY_7)
    assert due_at(engine, rid) == TUESDAY_7


def test_an_answered_once_reminder_is_removed(engine, demo_tenant):
    rid = add(engine, {"label": "Dentist", "kind": "once", "date": "2026-11-23", "time": "07:00"})
    [call] = fire_due_reminders(engine, lambda _uid: RecordingSwitch(), MONDAY_7)
    assert due_at(engine, rid) is None
    assert settle_reminder_call(engine, call.job_uuid, "+OK 5e6f\n", MONDAY_7)
    assert stored(engine, rid) is None
    assert not settle_reminder_call(
        engine, "00000000-0000-4000-8000-000000000000", "+OK\n", MONDAY_7
    )


def test_a_day_that_became_a_holiday_is_skipped(engine, demo_tenant):
    rid = add(engine, {"label": "Standup", "kind": "working_days", "time": "07:00"})
    assert due_at(engine, rid) == MONDAY_7
    apply_raw(engine, {**demo_tenant, "holidays": [{"name": "Bridge", "date": "2026-11-23"}]})
    switch = RecordingSwitch()
    assert fire_due_reminders(engine, lambda _uid: switch, MONDAY_7) == []
    assert switch.commands == [] and due_at(engine, rid) == TUESDAY_7


def test_a_reminder_found_hours_late_is_skipped_not_played(engine, demo_tenant):
    rid = add(engine, DAILY)
    switch = RecordingSwitch()
    assert fire_due_reminders(engine, lambda _uid: switch, MONDAY_7 + timedelta(hours=3)) == []
    assert switch.commands == [] and due_at(engine, rid) == TUESDAY_7


def test_the_recorded_announcement_is_played_from_the_media_directory(engine, demo_tenant):
    with make_session_factory(engine).begin() as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.domain == DOMAIN))
        session.add(announcement(tenant_id))
    add(engine, {**DAILY, "message": "wake"})
    switch = RecordingSwitch()
    fire_due_reminders(engine, lambda _uid: switch, MONDAY_7, Path("/srv/centrex/media"))
    played = f"/srv/centrex/media/{DOMAIN}/announcement/wake/wake.wav"
    assert switch.commands[0].count(played) == 2
    assert "wakeup_call" not in switch.commands[0]


def test_a_deleted_announcement_falls_back_to_the_stock_prompt(engine, demo_tenant):
    with make_session_factory(engine).begin() as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.domain == DOMAIN))
        session.add(announcement(tenant_id))
    add(engine, {**DAILY, "message": "wake"})
    with make_session_factory(engine).begin() as session:
        session.execute(Media.__table__.delete())
    switch = RecordingSwitch()
    fire_due_reminders(engine, lambda _uid: switch, MONDAY_7, Path("/srv/centrex/media"))
    assert "ivr/ivr-this_is_your_wakeup_call.wav" in switch.commands[0]


def test_a_day_that_is_no_longer_a_holiday_is_planned_again(engine, demo_tenant):
    closed = {**demo_tenant, "holidays": [{"name": "Bridge", "date": "2026-11-23"}]}
    apply_raw(engine, closed)
    standup = add(engine, {"label": "Standup", "kind": "working_days", "time": "07:00"})
    assert due_at(engine, standup) == TUESDAY_7
    apply_raw(engine, demo_tenant)
    with make_session_factory(engine).begin() as session:
        assert reminders.reschedule_tenant(session, DOMAIN, PLANNED) == 1
    assert due_at(engine, standup) == MONDAY_7


def test_planning_again_leaves_due_and_retrying_reminders_alone(engine, demo_tenant):
    due_now = add(engine, DAILY)
    with make_session_factory(engine).begin() as session:
        assert reminders.reschedule_tenant(session, DOMAIN, MONDAY_7 + timedelta(seconds=10)) == 0
    assert due_at(engine, due_now) == MONDAY_7  # the firing loop has yet to play it

    fire_due_reminders(engine, lambda _uid: None, MONDAY_7 + timedelta(seconds=10))
    with make_session_factory(engine).begin() as session:
        assert reminders.reschedule_tenant(session, DOMAIN, MONDAY_7 + timedelta(minutes=1)) == 0
    assert due_at(engine, due_now) == MONDAY_7 + timedelta(seconds=10) + RETRY_AFTER
