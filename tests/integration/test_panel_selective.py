"""A line's selective call handling and rule lists in the panel, through the Flask test
client: each kind set, refused (message beside its field, input kept, nothing saved),
and followed by the next xml_curl dialplan fetch; a tenant admin acting for a user;
nobody else's line."""

from dataclasses import replace

import lxml.html
import pytest
from sqlalchemy import update

from admin.languages import COOKIE
from centrex.app import create_app
from provisioning.models import User
from tests.conftest import post_fetch
from tests.fsrequests import fixture_fields, with_fields
from tests.integration.test_panel import (
    PASSWORDS,
    SECRET,
    apply_other_tenant,
    english,
    errors_beside,
    log_in,
    panel,  # noqa: F401 (fixture)
    shown,
    stored_handling,
)
from tests.integration.test_xmlcurl import actions, xml

CALLER = "0655555555"
OTHER_CALLER = "0644444444"
MOBILE = "+33612345678"
REJECTED = ("hangup", "CALL_REJECTED")
RINGS_ALICE = ("bridge", "user/1001@127.0.0.1")
TO_MOBILE = ("bridge", f"sofia/gateway/127.0.0.1/{MOBILE}")
WEEK = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def call_to_alice(client, caller: str = CALLER) -> list[tuple[str, str | None]]:
    """The dialplan FreeSWITCH is given for a call from outside (`caller`) to Alice's
    public number: the captured request, made a carrier's call."""
    fields = [
        (k, v)
        for k, v in fixture_fields("dialplan-1000")
        if k not in ("variable_user_name", "variable_requested_user_name")
    ]
    values = {
        "Hunt-Destination-Number": "0184800101",
        "Caller-Destination-Number": "0184800101",
        "Hunt-Context": "public",
        "Caller-Context": "public",
        "Hunt-Caller-ID-Number": caller,
        "Caller-Caller-ID-Number": caller,
    }
    return actions(xml(post_fetch(client, with_fields(fields, values))))


def set_stored(engine, extension: str, **columns) -> None:
    with engine.begin() as conn:
        conn.execute(update(User).where(User.extension == extension).values(**columns))


def page_form(client, path: str, action: str | None = None, change: str | None = None) -> dict:
    """What a browser sends of a form of the page at `path` (posting to `action`, or to
    the page itself; with its hidden `change` when given)."""
    page = lxml.html.fromstring(client.get(path).text)
    forms = [
        f
        for f in page.forms
        if f.action == (action or path) and (change is None or f.fields.get("change") == change)
    ]
    form = forms[0]
    values: dict = {}
    for element in form.inputs:
        if element.name is None:
            continue
        kind = getattr(element, "type", "")
        if kind in ("checkbox", "radio"):
            if element.checked:
                values.setdefault(element.name, []).append(element.value or "y")
        elif element.tag == "select":
            values[element.name] = element.value or ""
        else:
            values[element.name] = element.value or ""
    return values


def post(client, path: str, **fields):
    """The page's form as shown, with `fields` changed (True/False: tick/untick; a list:
    the boxes ticked)."""
    data = page_form(client, path)
    for name, value in fields.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = "y" if value is True else value
    return client.post(path, data=data)


def overview_button(client, path: str, change: str, **keys):
    """A button of an overview page (delete, move), found by its hidden fields."""
    page = lxml.html.fromstring(client.get(path).text)
    for form in page.forms:
        fields = dict(form.fields)
        if fields.get("change") == change and all(fields.get(k) == str(v) for k, v in keys.items()):
            return client.post(path, data=fields)
    raise AssertionError(f"no {change} button with {keys}")


SELECTIVE = "/panel/lines/1001/selective"
RULES = "/panel/lines/1001/rules"


@pytest.fixture
def alice(panel):  # noqa: F811
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    return panel


def test_selected_callers_are_rejected_from_the_next_call(alice, client, engine):
    assert call_to_alice(client)[-1] != REJECTED
    saved = post(alice, f"{SELECTIVE}/reject", numbers="06 55 55 55 55, +44 20 7946 0958")
    assert saved.status_code == 302
    assert stored_handling(engine, "1001")["selective"] == {
        "reject": {"numbers": ["+33655555555", "+442079460958"]}
    }
    assert call_to_alice(client)[-1] == REJECTED
    assert RINGS_ALICE in call_to_alice(client, OTHER_CALLER)
    page = shown(alice.get(SELECTIVE).text)
    assert "06 55 55 55 55, +44 20 7946 0958" in page  # as the tenant writes them
    assert 'value="06 55 55 55 55, +44 20 7946 0958"' in alice.get(f"{SELECTIVE}/reject").text

    assert overview_button(alice, SELECTIVE, "delete", kind="reject").status_code == 302
    assert "selective" not in stored_handling(engine, "1001")
    assert RINGS_ALICE in call_to_alice(client)


def test_a_bad_caller_is_explained_beside_its_field_and_nothing_is_saved(alice, engine):
    before = stored_handling(engine, "1001")
    refused = post(alice, f"{SELECTIVE}/reject", numbers="06;55 55")
    assert refused.status_code == 400
    assert errors_beside(refused.text, "numbers") == [
        "must be a phone number: digits, an optional leading +"
    ]
    assert 'value="06;55 55"' in refused.text  # what was typed stays
    nobody = post(alice, f"{SELECTIVE}/screening", extensions="")
    assert errors_beside(nobody.text, "numbers") == ["must name at least one caller"]
    stranger = post(alice, f"{SELECTIVE}/screening", extensions="1999")
    assert errors_beside(stranger.text, "extensions") == ["no user has extension 1999"]
    assert stored_handling(engine, "1001") == before


def test_selected_callers_are_forwarded_to_the_target(alice, client, engine):
    refused = post(alice, f"{SELECTIVE}/forward/new", numbers=CALLER, to="1001")
    assert refused.status_code == 400
    assert errors_beside(refused.text, "to") == ["must not be the user's own extension"]
    assert "selective" not in stored_handling(engine, "1001")

    saved = post(alice, f"{SELECTIVE}/forward/new", numbers=CALLER, to="06 12 34 56 78")
    assert saved.status_code == 302
    assert stored_handling(engine, "1001")["selective"]["forward"] == [
        {"callers": {"numbers": ["+33655555555"]}, "to": MOBILE}
    ]
    assert TO_MOBILE in call_to_alice(client)
    assert RINGS_ALICE in call_to_alice(client, OTHER_CALLER)

    edited = post(alice, f"{SELECTIVE}/forward/0", to="voicemail", confirm=True)
    assert edited.status_code == 302
    assert stored_handling(engine, "1001")["selective"]["forward"] == [
        {"callers": {"numbers": ["+33655555555"]}, "to": "voicemail", "confirm": True}
    ]
    assert ("voicemail", "default 127.0.0.1 1001") in call_to_alice(client)
    assert alice.get(f"{SELECTIVE}/forward/7").status_code == 404


def test_contacts_ring_distinctively_and_anonymous_callers_are_screened(alice, client, engine):
    set_stored(engine, "1001", contacts=[{"name": "Mum", "numbers": ["+33655555555"]}])
    refused = post(alice, f"{SELECTIVE}/distinctive_ring/new", contacts=["Mum"], ring="dr 3")
    assert errors_beside(refused.text, "ring") == ["must be letters, digits or -"]
    assert 'value="dr 3"' in refused.text
    assert 'checked id="contacts-0" name="contacts" type="checkbox" value="Mum"' in refused.text
    saved = post(alice, f"{SELECTIVE}/distinctive_ring/new", contacts=["Mum"], ring="Bellcore-dr3")
    assert saved.status_code == 302
    assert any("info=Bellcore-dr3" in (data or "") for _, data in call_to_alice(client))
    assert not any("Bellcore" in (data or "") for _, data in call_to_alice(client, OTHER_CALLER))

    assert post(alice, f"{SELECTIVE}/screening", anonymous=True).status_code == 302
    assert stored_handling(engine, "1001")["selective"]["screening"] == {"anonymous": True}
    screened = call_to_alice(client, "anonymous")
    assert any(app == "record" for app, _ in screened) and screened[-1] != REJECTED
    assert not any(app == "record" for app, _ in call_to_alice(client))


def test_anonymous_calls_are_rejected_while_switched_on(alice, client, engine):
    data = page_form(alice, SELECTIVE, change="anonymous")
    assert alice.post(SELECTIVE, data={**data, "reject_anonymous": "y"}).status_code == 302
    assert stored_handling(engine, "1001")["selective"] == {"reject_anonymous": True}
    assert call_to_alice(client, "anonymous")[-1] == REJECTED
    assert RINGS_ALICE in call_to_alice(client)
    data = page_form(alice, SELECTIVE, change="anonymous")
    data.pop("reject_anonymous", None)
    assert alice.post(SELECTIVE, data=data).status_code == 302
    assert RINGS_ALICE in call_to_alice(client, "anonymous")


def test_selective_settings_are_summed_up_on_the_line_page_with_the_tabs(alice, engine):
    set_stored(engine, "1001", call_handling={"selective": {"reject_anonymous": True}})
    page = alice.get("/panel/lines/1001").text
    assert "Some callers are rejected (selective rejection)." in shown(page)
    set_stored(
        engine,
        "1001",
        call_handling={"selective": {"reject": {"numbers": ["0612345678"], "enabled": False}}},
    )
    assert "Also in force" not in shown(alice.get("/panel/lines/1001").text)  # switched off
    assert f'href="{SELECTIVE}"' in page and f'href="{RULES}"' in page  # the line's tabs


def planned(engine, *rule_lists) -> None:
    """Alice's rule lists, the first in force all week long."""
    set_stored(
        engine,
        "1001",
        call_handling={
            "rule_lists": list(rule_lists),
            "planner": {
                "periods": [{"name": "Always", "rule_list": rule_lists[0]["name"], **WEEK}]
            },
        },
    )


def test_rules_are_added_reordered_edited_and_deleted_and_calls_follow(alice, client, engine):
    planned(engine, {"name": "Work", "default": {"action": "ring"}})
    assert "In force during: Always." in shown(alice.get(RULES).text)

    assert post(alice, f"{RULES}/0/new", numbers=CALLER, action="reject").status_code == 302
    assert call_to_alice(client)[-1] == REJECTED
    forward = post(alice, f"{RULES}/0/new", numbers=CALLER, action="forward", to="0612345678")
    assert forward.status_code == 302
    assert call_to_alice(client)[-1] == REJECTED  # the first rule that matches decides

    assert overview_button(alice, RULES, "up", rule_list=0, rule=1).status_code == 302
    rules = stored_handling(engine, "1001")["rule_lists"][0]["rules"]
    assert [r["action"] for r in rules] == ["forward", "reject"]
    assert TO_MOBILE in call_to_alice(client)

    edited = post(alice, f"{RULES}/0/0", action="ring_all", ring_numbers="06 12 34 56 78")
    assert edited.status_code == 302
    assert stored_handling(engine, "1001")["rule_lists"][0]["rules"][0] == {
        "callers": {"numbers": ["+33655555555"]},
        "action": "ring_all",
        "numbers": [MOBILE],
    }
    both = call_to_alice(client)
    assert any(MOBILE in (data or "") for _, data in both) and any(
        "user/1001@127.0.0.1" in (data or "") for _, data in both
    )

    assert overview_button(alice, RULES, "delete_rule", rule_list=0, rule=0).status_code == 302
    assert call_to_alice(client)[-1] == REJECTED
    assert overview_button(alice, RULES, "delete_rule", rule_list=0, rule=0).status_code == 302
    assert RINGS_ALICE in call_to_alice(client)


def test_a_list_is_renamed_in_the_planner_and_its_default_followed(alice, client, engine):
    planned(engine, {"name": "Work", "default": {"action": "ring"}})
    saved = post(alice, f"{RULES}/0", name="Office", action="voicemail")
    assert saved.status_code == 302
    handling = stored_handling(engine, "1001")
    assert handling["rule_lists"] == [{"name": "Office", "default": {"action": "voicemail"}}]
    assert handling["planner"]["periods"][0]["rule_list"] == "Office"
    assert ("voicemail", "default 127.0.0.1 1001") in call_to_alice(client)

    added = post(alice, f"{RULES}/new", name="Evening", action="reject")
    assert added.status_code == 302
    assert [rl["name"] for rl in stored_handling(engine, "1001")["rule_lists"]] == [
        "Office",
        "Evening",
    ]
    # The list in force cannot go while the planner uses it: the document says why.
    refused = overview_button(alice, RULES, "delete_list", rule_list=0)
    assert refused.status_code == 400
    assert "Weekly planner: no rule list named 'Office'" in shown(refused.text)
    assert overview_button(alice, RULES, "delete_list", rule_list=1).status_code == 302
    assert [rl["name"] for rl in stored_handling(engine, "1001")["rule_lists"]] == ["Office"]


def test_bad_rules_are_explained_beside_their_fields_and_nothing_is_saved(alice, engine):
    planned(engine, {"name": "Work", "default": {"action": "ring"}})
    before = stored_handling(engine, "1001")
    no_target = post(alice, f"{RULES}/0/new", numbers=CALLER, action="forward", to="")
    assert no_target.status_code == 400
    assert errors_beside(no_target.text, "to") == [
        "must be voicemail, a company extension or a phone number"
    ]
    no_numbers = post(alice, f"{RULES}/0/new", numbers=CALLER, action="ring_all")
    assert errors_beside(no_numbers.text, "ring_numbers") == ["ring_all needs at least one number"]
    nobody = post(alice, f"{RULES}/0/new", action="reject")
    assert errors_beside(nobody.text, "numbers") == ["must name at least one caller"]
    taken = post(alice, f"{RULES}/new", name="work", action="ring")
    assert errors_beside(taken.text, "name") == ["'work' is already rule_lists[0]"]
    assert 'value="work"' in taken.text
    barred = post(alice, f"{RULES}/0", name="Work", action="forward", to="0899123456")
    assert errors_beside(barred.text, "to") == [
        "premium numbers are not among the user's allowed destinations"
    ]
    assert stored_handling(engine, "1001") == before


def test_refusals_are_in_french_for_a_french_user(alice, engine):
    alice.set_cookie(COOKIE, "fr")
    refused = post(alice, f"{SELECTIVE}/reject", anonymous=False)
    assert errors_beside(refused.text, "numbers") == ["doit désigner au moins un appelant"]
    assert "Rejeter des appelants choisis" in shown(refused.text)


def test_a_stale_entry_is_refused_and_kept_as_typed(settings, engine, alice):
    admin = english(create_app(replace(settings, secret_key=SECRET), engine).test_client())
    log_in(admin, "1000@127.0.0.1", PASSWORDS["1000"])
    admins_form = page_form(admin, f"{SELECTIVE}/reject")
    assert post(alice, f"{SELECTIVE}/reject", numbers=OTHER_CALLER).status_code == 302
    refused = admin.post(f"{SELECTIVE}/reject", data={**admins_form, "numbers": CALLER})
    assert refused.status_code == 400
    assert "changed meanwhile" in shown(refused.text)
    assert f'value="{CALLER}"' in refused.text
    assert stored_handling(engine, "1001")["selective"]["reject"] == {"numbers": ["+33644444444"]}
    (form,) = [f for f in lxml.html.fromstring(refused.text).forms if f.action.endswith("reject")]
    again = {**admins_form, "numbers": CALLER, "version": form.fields["version"]}
    assert admin.post(f"{SELECTIVE}/reject", data=again).status_code == 302
    assert stored_handling(engine, "1001")["selective"]["reject"] == {"numbers": ["+33655555555"]}


def test_a_tenant_admin_acts_for_its_user_and_never_another_tenant_s(panel, client, engine):  # noqa: F811
    apply_other_tenant(engine)
    log_in(panel, "1000@127.0.0.1", PASSWORDS["1000"])
    assert "acting for this user" in panel.get(SELECTIVE).text
    assert post(panel, f"{SELECTIVE}/reject", numbers=CALLER).status_code == 302
    assert call_to_alice(client)[-1] == REJECTED
    assert post(panel, f"{RULES}/new", name="Work", action="voicemail").status_code == 302
    assert stored_handling(engine, "1001")["rule_lists"] == [
        {"name": "Work", "default": {"action": "voicemail"}}
    ]
    for path in ("selective", "selective/reject", "rules", "rules/new"):
        assert panel.get(f"/panel/lines/4242/{path}").status_code == 404
        assert panel.post(f"/panel/lines/4242/{path}", data={}).status_code == 404


def test_users_reach_only_their_own_line_s_pages(alice):
    for path in ("selective", "selective/forward/new", "rules", "rules/new"):
        assert alice.get(f"/panel/lines/1000/{path}").status_code == 403
        assert alice.post(f"/panel/lines/1000/{path}", data={}).status_code == 403


def test_the_pages_speak_french_only(alice, engine):
    """No English of the catalogue left on the French pages (labels, buttons, hints,
    the lists' sentences)."""
    from babel.messages.pofile import read_po

    from admin.languages import TRANSLATIONS
    from tests.integration.test_panel import _texts

    with (TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        english = {m.id for m in read_po(po) if m.id and m.id != m.string}
    planned(
        engine,
        {
            "name": "Work",
            "rules": [
                {"callers": {"anonymous": True}, "action": "forward", "to": "voicemail"},
                {"callers": {"numbers": [MOBILE]}, "action": "ring_all", "numbers": [MOBILE]},
            ],
            "default": {"action": "ring_sequence", "numbers": [MOBILE]},
        },
    )
    set_stored(engine, "1001", contacts=[{"name": "Mum", "numbers": [MOBILE]}])
    alice.set_cookie(COOKIE, "fr")
    for kind in ("forward/new", "distinctive_ring/new"):
        assert (
            post(alice, f"{SELECTIVE}/{kind}", contacts=["Mum"], to="voicemail").status_code == 302
        )
    assert post(alice, f"{SELECTIVE}/reject", anonymous=True).status_code == 302
    for path in (
        SELECTIVE,
        f"{SELECTIVE}/forward/0",
        f"{SELECTIVE}/reject",
        RULES,
        f"{RULES}/0",
        f"{RULES}/0/1",
        f"{RULES}/new",
    ):
        answer = alice.get(path)
        assert answer.status_code == 200, path
        assert _texts(answer.text) & english == set(), path
    assert 'value="voicemail"' in alice.get(f"{SELECTIVE}/forward/0").text


def test_a_list_or_a_rule_switched_off_is_kept_and_applies_to_no_call(alice, client, engine):
    assert post(alice, f"{SELECTIVE}/reject", numbers=CALLER).status_code == 302
    assert post(alice, f"{SELECTIVE}/reject", enabled=False).status_code == 302
    assert stored_handling(engine, "1001")["selective"]["reject"] == {
        "numbers": ["+33655555555"],
        "enabled": False,
    }
    assert RINGS_ALICE in call_to_alice(client)
    overview = lxml.html.fromstring(alice.get(SELECTIVE).text)
    (section,) = overview.xpath('//section[@aria-labelledby="kind-reject"]')
    assert "off" in section.xpath("string(.//h2)") and "06 55 55 55 55" in shown(
        lxml.html.tostring(section, encoding="unicode")
    )
    assert 'name="enabled"' in alice.get(f"{SELECTIVE}/reject").text
    assert post(alice, f"{SELECTIVE}/reject", enabled=True).status_code == 302
    assert call_to_alice(client)[-1] == REJECTED

    planned(
        engine,
        {
            "name": "Work",
            "rules": [{"callers": {"numbers": ["+33655555555"]}, "action": "voicemail"}],
            "default": {"action": "ring"},
        },
    )
    assert ("voicemail", "default 127.0.0.1 1001") in call_to_alice(client)
    assert post(alice, f"{RULES}/0/0", enabled=False).status_code == 302
    rule = stored_handling(engine, "1001")["rule_lists"][0]["rules"][0]
    assert rule["callers"] == {"numbers": ["+33655555555"], "enabled": False}
    assert RINGS_ALICE in call_to_alice(client)


def test_forged_buttons_are_refused_and_nothing_changes(alice, engine):
    from tests.integration.test_panel import token

    planned(engine, {"name": "Work", "default": {"action": "ring"}})
    before = stored_handling(engine, "1001")
    csrf = token(alice, RULES)
    forged = [
        {"change": "up", "rule_list": "0", "rule": "0", "version": "v1"},
        {"change": "down", "rule_list": "0", "rule": "x", "version": "1"},
        {"change": "rename", "rule_list": "0", "rule": "0", "version": "1"},
        # Digits int() refuses: "²" passes isdigit() (they were 500s).
        {"change": "up", "rule_list": "\u00b2", "rule": "0", "version": "1"},
        {"change": "up", "rule_list": "0", "rule": "0", "version": "\u00b2"},
    ]
    for data in forged:
        assert alice.post(RULES, data={**data, "csrf_token": csrf}).status_code == 400
    assert alice.post(RULES, data=forged[0]).status_code == 400  # no CSRF token
    gone = {"change": "down", "rule_list": "0", "rule": "0", "csrf_token": csrf}
    version = str(lxml.html.fromstring(alice.get(f"{RULES}/0").text).forms[-1].fields["version"])
    answer = alice.post(RULES, data={**gone, "version": version})
    assert answer.status_code == 400 and "removed meanwhile" in shown(answer.text)
    for data in (
        {"change": "delete", "kind": "nothing"},
        {"change": "delete", "kind": "forward"},
        {"change": "delete", "kind": "forward", "index": "\u00b2"},
    ):
        assert alice.post(
            SELECTIVE, data={**data, "csrf_token": csrf, "version": version}
        ).status_code in (400, 404)
    assert stored_handling(engine, "1001") == before
