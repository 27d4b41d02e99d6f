"""A line's reminders in the panel: added, refused beside the field with the input
kept, edited, switched off, deleted; one reminder written per save; nobody else's."""

from __future__ import annotations

import lxml.html
from sqlalchemy import select

from provisioning.models import Reminder
from tests.integration.test_panel import (
    PASSWORDS,
    errors_beside,
    form_values,
    log_in,
    panel,  # noqa: F401 (a fixture)
    shown,
    token,
)

PAGE = "/panel/lines/1001/reminders"


def _add(client, **fields):
    data = {
        "change": "add",
        "label": "Wake up",
        "kind": "every_day",
        "date": "",
        "time": "07:00",
        "message": "",
        "enabled": "y",
        "csrf_token": token(client, PAGE),
    }
    data.update(fields)
    return client.post(PAGE, data={k: v for k, v in data.items() if v is not None})


def _stored(engine) -> list[Reminder]:
    with engine.connect() as conn:
        return list(conn.execute(select(Reminder).order_by(Reminder.id)))


def test_a_user_adds_a_reminder_and_sees_its_next_call(panel, engine):  # noqa: F811
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    assert "No reminder yet." in shown(panel.get(PAGE).text)
    answer = _add(panel)
    assert answer.status_code == 302 and answer.location.endswith(PAGE)
    (row,) = _stored(engine)
    assert (row.label, row.kind, row.at_time.strftime("%H:%M"), row.enabled) == (
        "Wake up",
        "every_day",
        "07:00",
        True,
    )
    assert row.next_due_at is not None
    page = shown(panel.get(PAGE).text)
    assert "Reminder added." in page
    assert "Wake up" in page and "Every day, 07:00" in page


def test_a_reminder_in_the_past_is_refused_beside_its_field_and_kept(panel, engine):  # noqa: F811
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    answer = _add(panel, kind="once", date="2020-01-02", label="Dentist")
    assert answer.status_code == 400
    assert errors_beside(answer.text, "date") == ["2020-01-02 07:00 is in the past"]
    page = lxml.html.fromstring(answer.text)
    assert page.xpath('//input[@name="label"]/@value') == ["Dentist"]
    assert _stored(engine) == []

    missing = _add(panel, kind="once", date="")
    assert errors_beside(missing.text, "date") == ["a reminder that fires once needs a date"]
    bad_time = _add(panel, time="25:00")
    assert bad_time.status_code == 400 and errors_beside(bad_time.text, "time")


def test_a_reminder_is_edited_switched_off_and_deleted(panel, engine):  # noqa: F811
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    _add(panel)
    _add(panel, label="Meeting", kind="working_days", time="13:45")
    first, second = _stored(engine)
    edit = f"{PAGE}/{first.id}"
    values = form_values(panel, edit)
    assert values["label"] == "Wake up" and values["time"] == "07:00"
    values.update(time="06:30")
    values.pop("enabled")
    assert panel.post(edit, data=values).status_code == 302
    first_now, second_now = _stored(engine)
    assert first_now.at_time.strftime("%H:%M") == "06:30"
    assert not first_now.enabled and first_now.next_due_at is None
    assert second_now == second  # one reminder written per save
    assert "(off)" in shown(panel.get(PAGE).text)

    odd = panel.post(
        PAGE, data={"change": "delete", "id": "\u00b2", "csrf_token": token(panel, PAGE)}
    )
    assert odd.status_code == 400  # "²" passes isdigit(), not int(): it was a 500
    assert len(_stored(engine)) == 2
    deleted = panel.post(
        PAGE, data={"change": "delete", "id": str(first.id), "csrf_token": token(panel, PAGE)}
    )
    assert deleted.status_code == 302
    assert [r.id for r in _stored(engine)] == [second.id]


def test_nobody_reaches_another_user_s_reminders(panel, engine):  # noqa: F811
    log_in(panel, "1000@127.0.0.1", PASSWORDS["1000"])  # the tenant's admin, for Alice
    assert _add(panel, label="For Alice").status_code == 302
    own = "/panel/lines/1000/reminders"
    data = {"label": "Reception's", "kind": "every_day", "time": "08:00", "message": ""}
    added = panel.post(own, data={"change": "add", **data, "csrf_token": token(panel, own)})
    assert added.status_code == 302
    _, receptions = _stored(engine)
    panel.post("/panel/logout", data={"csrf_token": token(panel, own)})

    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    assert "For Alice" in shown(panel.get(PAGE).text)
    assert panel.get(own).status_code == 403
    assert panel.get(f"{own}/{receptions.id}").status_code == 403
    # Her own page does not open another line's reminder either.
    assert panel.get(f"{PAGE}/{receptions.id}").status_code == 404
    gone = panel.post(
        PAGE, data={"change": "delete", "id": str(receptions.id), "csrf_token": token(panel, PAGE)}
    )
    assert gone.status_code == 404
    assert len(_stored(engine)) == 2
