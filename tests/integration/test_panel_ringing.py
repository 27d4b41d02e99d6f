"""The line's ringing page through the Flask test client: simultaneous ring, sequential
ring and do-not-disturb's priority callers set, refused with the document's messages
beside the row typed (nothing lost, nothing saved), followed by the next dialplan fetch;
tenant admins acting for their users and nobody else's."""

import lxml.html
import pytest
from sqlalchemy import update
from werkzeug.datastructures import MultiDict

from admin.languages import COOKIE
from provisioning.models import User
from tests.integration.test_panel import (
    PASSWORDS,
    apply_other_tenant,
    errors_beside,
    log_in,
    shown,
    stored_handling,
)
from tests.integration.test_panel import panel as panel
from tests.integration.test_xmlcurl import actions, dialplan

PAGE = "/panel/lines/{}/ringing"


def as_sent(client, extension: str) -> MultiDict:
    """What a browser sends of the page's form as it stands (no button pressed)."""
    path = PAGE.format(extension)
    page = lxml.html.fromstring(client.get(path).text)
    (form,) = [f for f in page.forms if f.method.upper() == "POST" and f.action == path]
    return MultiDict(form.form_values())


def ringing(client, extension: str, button: tuple[str, str] | None = None, **fields):
    """The page's form as shown with `fields` changed (True/False: tick/untick, a list:
    every value of a name), sent with `button` pressed (its name and value) or Save."""
    data = as_sent(client, extension)
    for name, value in fields.items():
        if value is False:
            data.pop(name, None)
        elif isinstance(value, list):
            data.setlist(name, value)
        else:
            data[name] = "y" if value is True else value
    if button is not None:
        data[button[0]] = button[1]
    return client.post(PAGE.format(extension), data=data)


def set_handling(engine, extension: str, handling: dict) -> None:
    with engine.begin() as conn:
        conn.execute(update(User).where(User.extension == extension).values(call_handling=handling))


def bridges(root) -> list[str]:
    return [data for app, data in actions(root) if app == "bridge"]


def test_simultaneous_ring_set_in_the_panel_reaches_the_next_call(panel, client, engine):
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    saved = ringing(
        panel,
        "1001",
        simultaneous=True,
        **{"simultaneous_numbers-0": "06 12 34 56 78", "simultaneous_numbers-2": "1002"},
        simultaneous_skip_when_on_call=True,
    )
    assert saved.status_code == 302
    assert stored_handling(engine, "1001")["simultaneous_ring"] == {
        "numbers": ["+33612345678", "1002"],
        "skip_when_on_call": True,
    }
    (ring,) = bridges(dialplan(client, "1001"))
    assert "sofia/gateway/127.0.0.1/+33612345678" in ring and "user/1002@127.0.0.1" in ring
    assert ring.startswith("user/1001@127.0.0.1,")  # together, not one after the other
    page = panel.get(PAGE.format("1001")).text
    assert 'value="06 12 34 56 78"' in page and "Saved" in page  # as the tenant writes it

    assert ringing(panel, "1001", simultaneous=False).status_code == 302
    assert stored_handling(engine, "1001")["simultaneous_ring"]["enabled"] is False
    assert bridges(dialplan(client, "1001")) == ["user/1001@127.0.0.1"]


def test_a_ring_s_criteria_its_schedule_and_callers(panel, client, engine):
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    saved = ringing(
        panel,
        "1001",
        simultaneous=True,
        **{
            "simultaneous_numbers-0": "0612345678",
            "simultaneous_callers-extensions-0": "1000",
            "simultaneous_callers-numbers-0": "01 23 45 67 89",
        },
        simultaneous_schedule="office hours",
        simultaneous_confirm=True,
    )
    assert saved.status_code == 302
    assert stored_handling(engine, "1001")["simultaneous_ring"] == {
        "numbers": ["+33612345678"],
        "schedule": "office hours",
        "callers": {"numbers": ["+33123456789"], "extensions": ["1000"]},
        "confirm": True,
    }
    page = lxml.html.fromstring(panel.get(PAGE.format("1001")).text)
    assert page.xpath('//details[@open]//select[@name="simultaneous_schedule"]')  # unfolded
    (chosen,) = page.xpath('//select[@name="simultaneous_schedule"]/option[@selected]')
    assert chosen.text_content() == "while “office hours” is in force"

    # Every caller, at all times: the caller from 1001 (the fixture's) rings it too.
    cleared = {
        "simultaneous_callers-extensions-0": "",
        "simultaneous_callers-numbers-0": "",
        "simultaneous_schedule": "",
    }
    assert ringing(panel, "1001", **cleared).status_code == 302
    assert stored_handling(engine, "1001")["simultaneous_ring"] == {
        "numbers": ["+33612345678"],
        "confirm": True,
    }
    (ring,) = bridges(dialplan(client, "1001"))
    assert "+33612345678" in ring

    # Only for 1000: the fixture's caller (1001) rings the line alone.
    only = {"simultaneous_callers-extensions-0": "1000"}
    assert ringing(panel, "1001", **only).status_code == 302
    assert bridges(dialplan(client, "1001")) == ["user/1001@127.0.0.1"]


def test_sequential_ring_its_steps_their_rings_and_order(panel, client, engine):
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    typed = {
        "sequential_own_rings": "2",
        "sequential_steps-0-number": "06 12 34 56 78",
        "sequential_steps-0-rings": "4",
        "sequential_steps-1-number": "1002",
        "sequential_steps-1-rings": "1",
    }
    odd = ringing(panel, "1001", ("move", "up-\u00b2"), sequential=True, **typed)
    assert odd.status_code == 200  # "²" passes isdigit(), not int(): it was a 500
    moved = ringing(panel, "1001", ("move", "up-1"), sequential=True, **typed)
    assert moved.status_code == 200  # rearranged, not saved
    assert "Not saved yet" in shown(moved.text)
    assert stored_handling(engine, "1001") in (None, {})
    page = lxml.html.fromstring(moved.text)
    assert page.get_element_by_id("sequential_steps-0-number").value == "1002"
    assert page.get_element_by_id("sequential_steps-1-number").value == "06 12 34 56 78"
    (rings,) = page.xpath('//select[@name="sequential_steps-1-rings"]/option[@selected]')
    assert rings.get("value") == "4"  # a step moves with its rings

    # Saved from the rearranged page, as the browser sends it.
    (form,) = [f for f in page.forms if f.action == PAGE.format("1001")]
    assert panel.post(PAGE.format("1001"), data=MultiDict(form.form_values())).status_code == 302
    assert stored_handling(engine, "1001")["sequential_ring"] == {
        "own_rings": 2,
        "steps": [{"number": "1002", "rings": 1}, {"number": "+33612345678", "rings": 4}],
    }
    (ring,) = bridges(dialplan(client, "1001"))
    legs = ring.split("|")  # one after the other, each for its own rings
    assert legs[0].startswith("[leg_timeout=10]user/1001@127.0.0.1")
    assert legs[1].startswith("[leg_timeout=5]user/1002@127.0.0.1")
    assert legs[2].startswith("[leg_timeout=20]") and legs[2].endswith("/+33612345678")

    assert ringing(panel, "1001", sequential=False).status_code == 302
    assert stored_handling(engine, "1001")["sequential_ring"]["enabled"] is False


def test_more_rows_for_a_caller_list(panel, engine):
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    before = as_sent(panel, "1001")
    rows = len(before.getlist("priority_callers-numbers-1"))
    assert rows == 1 and "priority_callers-numbers-2" not in before
    more = ringing(panel, "1001", ("more", "priority_callers-numbers"))
    assert more.status_code == 200
    page = lxml.html.fromstring(more.text)
    assert len(page.xpath('//input[starts-with(@name, "priority_callers-numbers-")]')) == 5


def test_priority_callers_ring_through_do_not_disturb(panel, client, engine):
    set_handling(engine, "1001", {"do_not_disturb": {}})
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    assert "Do not disturb is on." in shown(panel.get(PAGE.format("1001")).text)
    assert bridges(dialplan(client, "1001")) == []  # do not disturb: voicemail
    saved = ringing(panel, "1001", **{"priority_callers-extensions-0": "1001"})
    assert saved.status_code == 302
    assert stored_handling(engine, "1001")["do_not_disturb"] == {
        "priority_callers": {"extensions": ["1001"]}
    }
    # The fixture's caller is 1001: a priority caller rings through.
    assert bridges(dialplan(client, "1001")) == ["user/1001@127.0.0.1"]

    cleared = ringing(panel, "1001", **{"priority_callers-extensions-0": ""})
    assert cleared.status_code == 302
    assert stored_handling(engine, "1001")["do_not_disturb"] == {}  # still on
    assert bridges(dialplan(client, "1001")) == []


def test_priority_callers_alone_do_not_turn_do_not_disturb_on(panel, client, engine):
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    assert "Do not disturb is off." in shown(panel.get(PAGE.format("1001")).text)
    saved = ringing(panel, "1001", **{"priority_callers-anonymous": True})
    assert saved.status_code == 302
    assert stored_handling(engine, "1001")["do_not_disturb"] == {
        "enabled": False,
        "priority_callers": {"anonymous": True},
    }
    assert bridges(dialplan(client, "1001")) == ["user/1001@127.0.0.1"]


def test_contacts_are_offered_as_choices(panel, engine):
    with engine.begin() as conn:
        conn.execute(
            update(User)
            .where(User.extension == "1001")
            .values(contacts=[{"name": "Mum", "numbers": ["+33611111111"]}])
        )
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    saved = ringing(panel, "1001", **{"priority_callers-contacts": ["Mum"]})
    assert saved.status_code == 302
    assert stored_handling(engine, "1001")["do_not_disturb"]["priority_callers"] == {
        "contacts": ["Mum"]
    }
    page = lxml.html.fromstring(panel.get(PAGE.format("1001")).text)
    (mum,) = page.xpath('//input[@name="priority_callers-contacts" and @value="Mum"]')
    assert mum.checked
    refused = ringing(panel, "1001", **{"priority_callers-contacts": ["Mum", "Nobody"]})
    assert refused.status_code == 400
    assert "no contact named 'Nobody'" in shown(refused.text)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"simultaneous": True, "simultaneous_numbers-1": "06;12,34"},
            "simultaneous_numbers-1",
            "must be voicemail, a company extension or a phone number",
        ),
        (
            {"simultaneous": True, "simultaneous_numbers-0": "voicemail"},
            "simultaneous_numbers-0",
            "must be a number here, not voicemail",
        ),
        (
            {"simultaneous": True, "simultaneous_numbers-0": "0899123456"},
            "simultaneous_numbers-0",
            "premium numbers are not among the user's allowed destinations",
        ),
        (
            {"simultaneous": True},
            "simultaneous_numbers-0",
            "Give at least one number.",
        ),
        (
            {"sequential": True, "sequential_steps-2-number": "1001"},
            "sequential_steps-2-number",
            "must not be the user's own extension",
        ),
        (
            {"sequential": True, "sequential_steps-0-number": "3615"},
            "sequential_steps-0-number",
            "must be a full phone number, not a short or emergency number",
        ),
        (
            {"sequential": True, "sequential_steps-0-number": "1002", "sequential_own_rings": "15"},
            "sequential_own_rings",
            "must be at most 12",
        ),
        (
            {
                "sequential": True,
                "sequential_steps-0-number": "1002",
                "sequential_schedule": "Nights",
            },
            "sequential_schedule",
            "no schedule named 'Nights'",
        ),
        (
            {"sequential": True, "sequential_steps-0-number": "1002"},
            "sequential_callers-numbers-0",
            "must be a phone number: digits, an optional leading +",
        ),
        (
            {"priority_callers-extensions-1": "4242"},
            "priority_callers-extensions-1",
            "no user has extension 4242",
        ),
    ],
)
def test_a_refusal_is_said_beside_its_row_and_nothing_is_lost(
    panel, engine, fields, field, message
):
    if field == "sequential_callers-numbers-0":
        fields = {**fields, field: "06 12 <34>"}
    set_handling(engine, "1001", {"forward_busy": {"to": "1002"}})  # premium: barred by default
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    answer = ringing(panel, "1001", **fields)
    assert answer.status_code == 400
    assert errors_beside(answer.text, field) == [message]
    page = lxml.html.fromstring(answer.text)
    for name, value in fields.items():
        if isinstance(value, str):  # what was typed stays in the form
            (element,) = page.xpath(f'//*[@name="{name}"]')
            assert element.value == value
    assert stored_handling(engine, "1001") == {"forward_busy": {"to": "1002"}}


def test_a_refusal_is_said_in_french(panel, engine):
    panel.set_cookie(COOKIE, "fr")
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    answer = ringing(panel, "1001", simultaneous=True, **{"simultaneous_numbers-0": "06;12"})
    assert answer.status_code == 400
    (message,) = errors_beside(answer.text, "simultaneous_numbers-0")
    assert message.startswith("doit être")


def test_a_save_from_a_stale_page_is_refused_and_the_typed_rows_kept(panel, engine):
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    data = as_sent(panel, "1001")
    set_handling(engine, "1001", {"forward_busy": {"to": "1002"}})
    with engine.begin() as conn:
        conn.execute(update(User).where(User.extension == "1001").values(version=User.version + 1))
    data["simultaneous"] = "y"
    data["simultaneous_numbers-0"] = "0612345678"
    answer = panel.post(PAGE.format("1001"), data=data)
    assert answer.status_code == 400
    assert "changed meanwhile" in shown(answer.text)
    assert 'value="0612345678"' in answer.text
    assert stored_handling(engine, "1001") == {"forward_busy": {"to": "1002"}}
    # Saving again replaces them knowingly.
    again = lxml.html.fromstring(answer.text)
    (form,) = [f for f in again.forms if f.action == PAGE.format("1001")]
    assert panel.post(PAGE.format("1001"), data=MultiDict(form.form_values())).status_code == 302
    assert stored_handling(engine, "1001")["simultaneous_ring"] == {"numbers": ["+33612345678"]}


def test_a_tenant_admin_acts_for_its_users_and_no_one_else(panel, client, engine):
    apply_other_tenant(engine)
    log_in(panel, "1000@127.0.0.1", PASSWORDS["1000"])
    assert "acting for this user" in panel.get(PAGE.format("1001")).text
    saved = ringing(panel, "1001", sequential=True, **{"sequential_steps-0-number": "0612345678"})
    assert saved.status_code == 302
    assert stored_handling(engine, "1001")["sequential_ring"] == {
        "steps": [{"number": "+33612345678"}]  # 3 rings each: the default
    }
    assert "|" in bridges(dialplan(client, "1001"))[0]
    assert panel.get(PAGE.format("4242")).status_code == 404
    assert panel.post(PAGE.format("4242"), data={}).status_code == 404


def test_users_reach_only_their_own_line_s_ringing(panel, engine):
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    assert panel.get(PAGE.format("1000")).status_code == 403
    data = as_sent(panel, "1001")
    data["simultaneous"] = "y"
    data["simultaneous_numbers-0"] = "0612345678"
    assert panel.post(PAGE.format("1000"), data=data).status_code == 403
    assert "simultaneous_ring" not in (stored_handling(engine, "1000") or {})


def test_forms_without_their_csrf_token_are_refused(panel, engine):
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    data = as_sent(panel, "1001")
    data.pop("csrf_token")
    data["simultaneous"] = "y"
    data["simultaneous_numbers-0"] = "0612345678"
    assert panel.post(PAGE.format("1001"), data=data).status_code == 400
    assert "simultaneous_ring" not in (stored_handling(engine, "1001") or {})


def test_the_line_page_links_here_and_sums_these_up_read_only(panel, engine):
    set_handling(
        engine,
        "1001",
        {
            "simultaneous_ring": {"numbers": ["+33699887766"]},
            "sequential_ring": {"steps": [{"number": "1002"}]},
            "do_not_disturb": {"enabled": False, "priority_callers": {"extensions": ["1000"]}},
            "selective": {"reject_anonymous": True},
        },
    )
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    line = lxml.html.fromstring(panel.get("/panel/lines/1001").text)
    assert line.xpath(f'//a[@href="{PAGE.format("1001")}" and text()="Ringing"]')
    said = shown(panel.get("/panel/lines/1001").text)
    assert "Some callers are rejected (selective rejection)." in said
    assert "Simultaneous ring: +33699887766 ring with my phones." in said
    assert "Sequential ring: my phones first, then 1002." in said
    assert "priority callers" not in said  # do-not-disturb is off
    values = as_sent(panel, "1001")
    assert values["simultaneous_numbers-0"] == "06 99 88 77 66"
    assert values["sequential_steps-0-number"] == "1002"
    assert values["priority_callers-extensions-0"] == "1000"
