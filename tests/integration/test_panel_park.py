"""Call park in the panel: a tenant admin turns it on, sets the slots and timeout (in
English or French), a clash is explained and nothing is lost; other users cannot."""

from admin.languages import COOKIE
from centrex.db import make_session_factory
from provisioning import service
from tests.integration.test_panel import DOMAIN, PASSWORDS, log_in, token
from tests.integration.test_panel import panel as panel
from tests.integration.test_xmlcurl import actions, dialplan


def save(client, **fields):
    data = {"csrf_token": token(client, "/panel/park"), **fields}
    return client.post("/panel/park", data=data)


def stored_park(engine):
    with make_session_factory(engine)() as session:
        return service.export_document(session, DOMAIN).park


def test_an_admin_turns_parking_on_and_the_next_call_to_a_slot_is_parked(panel, engine, client):
    log_in(panel, "1000@127.0.0.1", PASSWORDS["1000"])
    page = panel.get("/panel/park")
    assert page.status_code == 200 and "Call park" in page.text
    answer = save(panel, enabled="y", first_slot="801", last_slot="803", timeout="30")
    assert answer.status_code == 302
    park = stored_park(engine)
    assert (park.first_slot, park.last_slot, park.timeout) == ("801", "803", 30)
    found = actions(dialplan(client, "802"))
    assert ("valet_park", f"park@{DOMAIN} auto out 802 802") in found
    # Off again: the slot is no number any more.
    assert save(panel, first_slot="801", last_slot="803", timeout="30").status_code == 302
    assert stored_park(engine) is None


def test_a_slot_clashing_with_a_user_is_explained_and_nothing_changes(panel, engine):
    log_in(panel, "1000@127.0.0.1", PASSWORDS["1000"])
    answer = save(panel, enabled="y", first_slot="1000", last_slot="1002", timeout="60")
    assert answer.status_code == 400
    assert "slot 1000 (slots 1000–1002) is already used by users[0]" in answer.text
    assert stored_park(engine) is None


def test_the_page_speaks_french(panel):
    log_in(panel, "1000@127.0.0.1", PASSWORDS["1000"])
    panel.set_cookie(COOKIE, "fr")
    page = panel.get("/panel/park")
    assert "Parcage d&#39;appels" in page.text or "Parcage d'appels" in page.text
    assert "Première place" in page.text


def test_users_who_are_not_admins_cannot_see_it(panel):
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    assert panel.get("/panel/park").status_code == 403
