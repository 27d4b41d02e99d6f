"""A line's selective call handling and rule lists in a real browser (headless
Chromium, Playwright), in French: each kind changed through the pages, one refused
(message beside the field, input kept), and the next xml_curl dialplan fetch following
it. `CENTREX_SCREENSHOTS=DIR` keeps a screenshot of each page, at each width."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import update

from provisioning.models import User
from tests.browser import test_panel_browser as browser
from tests.integration.test_panel import stored_handling
from tests.integration.test_panel_selective import (
    MOBILE,
    REJECTED,
    RINGS_ALICE,
    TO_MOBILE,
    WEEK,
    call_to_alice,
)

# The browser, its French page and the server of the panel's other browser tests.
server, chromium, page = browser.server, browser.chromium, browser.page
log_in, playwright = browser.log_in, browser.playwright
pytestmark = pytest.mark.skipif(
    not browser.CHROMIUM, reason="no Chromium (apt-get install chromium)"
)

expect = playwright.expect
MUM = "+33611111111"
STRANGER = "0655555555"
OTHER = "0633333333"


@pytest.fixture
def mum(engine) -> None:
    """Alice keeps her mother among her contacts."""
    with engine.begin() as conn:
        conn.execute(
            update(User)
            .where(User.extension == "1001")
            .values(contacts=[{"name": "Maman", "numbers": [MUM]}])
        )


def section(page, title: str):
    return page.get_by_role("region", name=title)


def save(page) -> None:
    page.get_by_role("button", name="Enregistrer").click()


def test_selective_lists_are_set_refused_and_followed_by_the_next_call(page, client, engine, mum):
    log_in(page)
    page.get_by_role("link", name="Traitement sélectif").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Traitement sélectif — Alice Martin (1001)"
    )

    # Reject selected callers: a number the document refuses, then a good one.
    section(page, "Rejeter des appelants choisis").get_by_role(
        "link", name="Choisir les appelants"
    ).click()
    numbers = page.get_by_label("Numéros, séparés par des virgules", exact=True)
    numbers.fill("06;55")
    save(page)
    expect(page.get_by_role("alert")).to_have_text(
        "doit être un numéro de téléphone : des chiffres, précédés ou non de +"
    )
    expect(numbers).to_have_value("06;55")  # nothing typed is lost
    assert "selective" not in stored_handling(engine, "1001")
    numbers.fill("06 55 55 55 55")
    save(page)
    expect(page.get_by_role("status")).to_contain_text("Enregistré")
    expect(section(page, "Rejeter des appelants choisis")).to_contain_text("06 55 55 55 55")
    assert call_to_alice(client, STRANGER)[-1] == REJECTED

    # Forward selected callers: a contact ticked, to a mobile.
    section(page, "Renvoyer des appelants choisis").get_by_role("link", name="Ajouter").click()
    page.get_by_label("Maman").check()
    page.get_by_label("Les renvoyer vers").fill("06 12 34 56 78")
    save(page)
    expect(section(page, "Renvoyer des appelants choisis")).to_contain_text("vers 06 12 34 56 78")
    assert TO_MOBILE in call_to_alice(client, MUM)

    # Distinctive ring for a number.
    section(page, "Sonnerie distinctive").get_by_role("link", name="Ajouter").click()
    page.get_by_label("Numéros, séparés par des virgules", exact=True).fill("06 44 44 44 44")
    page.get_by_label("Sonnerie (un nom que vos téléphones connaissent").fill("Bellcore-dr3")
    save(page)
    ringing = call_to_alice(client, "0644444444")
    assert any("info=Bellcore-dr3" in (data or "") for _, data in ringing)

    # Screening of callers who withhold their number, then their rejection.
    section(page, "Filtrage des appels").get_by_role("link", name="Choisir les appelants").click()
    page.get_by_label("Appelants qui masquent leur numéro").check()
    save(page)
    assert any(app == "record" for app, _ in call_to_alice(client, "anonymous"))
    anonymous = section(page, "Appelants anonymes")
    anonymous.get_by_label("Rejeter les appels des appelants qui masquent leur numéro").check()
    anonymous.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_have_text("Les appels anonymes sont désormais rejetés.")
    assert call_to_alice(client, "anonymous")[-1] == REJECTED

    # Deleted, the rejection list no longer rejects.
    section(page, "Rejeter des appelants choisis").get_by_role("button", name="Supprimer").click()
    expect(page.get_by_role("status")).to_contain_text("Supprimé")
    assert RINGS_ALICE in call_to_alice(client, STRANGER)


def test_rule_lists_are_built_refused_and_followed_by_the_next_call(page, client, engine, mum):
    log_in(page)
    page.get_by_role("link", name="Listes de règles").click()
    page.get_by_role("link", name="Ajouter une liste de règles").click()
    page.get_by_label("Nom de la liste").fill("Travail")
    action = page.get_by_label("Action", exact=True)
    action.select_option(label="renvoyer vers ma messagerie vocale")
    save(page)
    expect(page.get_by_role("region", name="Travail")).to_contain_text("hors du planning")
    assert RINGS_ALICE in call_to_alice(client, OTHER)  # no planner period uses it yet

    # The weekly planner (its own page) puts the list in force all week.
    handling = stored_handling(engine, "1001")
    handling["planner"] = {"periods": [{"name": "Semaine", "rule_list": "Travail", **WEEK}]}
    with engine.begin() as conn:
        conn.execute(update(User).where(User.extension == "1001").values(call_handling=handling))
    page.reload()
    expect(page.get_by_role("region", name="Travail")).to_contain_text(
        "En vigueur pendant : Semaine."
    )
    assert ("voicemail", "default 127.0.0.1 1001") in call_to_alice(client, OTHER)

    # A rule: forward without a target is refused, then given one.
    page.get_by_role("link", name="Ajouter une règle").click()
    page.get_by_label("Numéros, séparés par des virgules", exact=True).fill(OTHER)
    page.get_by_label("Action", exact=True).select_option(label="renvoyer vers")
    save(page)
    target = page.get_by_label("Renvoyer vers (un poste, un numéro ou voicemail)")
    expect(page.get_by_role("alert")).to_have_text(
        "doit être la messagerie, un numéro interne de l'entreprise ou un numéro de téléphone"
    )
    expect(page.get_by_label("Numéros, séparés par des virgules", exact=True)).to_have_value(OTHER)
    target.fill("06 12 34 56 78")
    save(page)
    expect(page.get_by_role("status")).to_contain_text("Enregistré")
    assert TO_MOBILE in call_to_alice(client, OTHER)

    # A second rule for Maman, moved first.
    page.get_by_role("link", name="Ajouter une règle").click()
    page.get_by_label("Maman").check()
    page.get_by_label("Action", exact=True).select_option(label="refuser l'appel")
    save(page)
    assert call_to_alice(client, MUM)[-1] == REJECTED
    page.get_by_role("button", name="Monter la règle 2 de Travail").click()
    rules = stored_handling(engine, "1001")["rule_lists"][0]["rules"]
    assert [r["action"] for r in rules] == ["reject", "forward"]
    assert rules[1]["to"] == MOBILE


PAGES = {
    "selective": "/panel/lines/1001/selective",
    "selective-forward": "/panel/lines/1001/selective/forward/0",
    "rules": "/panel/lines/1001/rules",
    "rule": "/panel/lines/1001/rules/0/1",
}


@pytest.fixture
def settled(engine, mum) -> None:
    """Alice's selective lists and rule lists, as a user would have them."""
    handling = {
        "selective": {
            "forward": [{"callers": {"contacts": ["Maman"]}, "to": MOBILE, "confirm": True}],
            "reject": {"numbers": ["+33899123456", "+33655555555"], "anonymous": True},
            "distinctive_ring": [{"callers": {"extensions": ["1000"]}, "ring": "Bellcore-dr2"}],
        },
        "rule_lists": [
            {
                "name": "Travail",
                "rules": [
                    {"callers": {"contacts": ["Maman"]}, "action": "forward", "to": MOBILE},
                    {"callers": {"anonymous": True}, "action": "screen"},
                    {
                        "callers": {"numbers": ["+33633333333"]},
                        "action": "ring_sequence",
                        "numbers": [MOBILE],
                        "rings": 4,
                    },
                ],
                "default": {"action": "ring"},
            },
            {"name": "Soirée", "default": {"action": "voicemail"}},
        ],
        "planner": {
            "periods": [{"name": "Journée", "rule_list": "Travail", "mon": ["08:00-18:00"]}]
        },
    }
    with engine.begin() as conn:
        conn.execute(update(User).where(User.extension == "1001").values(call_handling=handling))


@pytest.mark.parametrize("width", [1280, 390])
def test_the_pages_fit_a_desktop_and_a_phone(chromium, server, settled, width):
    page = chromium.new_page(
        base_url=server, locale="fr-FR", viewport={"width": width, "height": 800}
    )
    log_in(page)
    shots = os.environ.get("CENTREX_SCREENSHOTS")
    for name, path in PAGES.items():
        page.goto(path)
        if name == "selective-forward":  # a refusal beside its field
            page.get_by_label("Les renvoyer vers").fill("06;12")
            save(page)
            expect(page.get_by_role("alert")).to_be_visible()
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{shots}/{name}-{width}.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name
