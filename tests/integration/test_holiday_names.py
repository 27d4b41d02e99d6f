"""National holidays are named in the tenant's language (French for a tenant in France),
whatever the server's environment says, by the CLI's import and the REST API's alike."""

from datetime import date

import pytest

from provisioning import service
from tests.conftest import apply_raw, demo_document


@pytest.fixture(autouse=True)
def english_environment(monkeypatch):
    """The `holidays` library would otherwise name them in the environment's language."""
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")


def names(session, domain: str) -> dict[str, str]:
    doc = service.export_document(session, domain)
    return {str(h.date): h.name for h in doc.holidays}


def test_a_french_tenant_gets_french_names(engine, session):
    apply_raw(engine, demo_document())
    service.import_holidays(session, "127.0.0.1", None, 2027)
    found = names(session, "127.0.0.1")
    assert found["2027-12-25"] == "Noël"
    assert found["2027-07-14"] == "Fête nationale"
    assert found["2027-03-29"] == "Lundi de Pâques"


def test_a_french_tenant_gets_another_country_s_holidays_in_french(engine, session):
    apply_raw(engine, demo_document())
    service.import_holidays(session, "127.0.0.1", "BE", 2027)
    assert names(session, "127.0.0.1")["2027-07-21"] == "Fête nationale"


def test_a_tenant_elsewhere_gets_english_names(engine, session, monkeypatch):
    monkeypatch.setenv("LANGUAGE", "fr")  # the environment does not decide
    raw = demo_document("uk.example", country="GB", timezone="Europe/London")
    raw["numbers"], raw["users"] = [], raw["users"][:1]
    for key in ("main_number", "groups", "queues", "speed_dials", "directory"):
        raw.pop(key, None)
    raw["users"][0].pop("public_number", None)
    raw["users"][0]["call_handling"] = {}
    apply_raw(engine, raw)
    service.import_holidays(session, "uk.example", None, 2027)
    assert names(session, "uk.example")["2027-12-25"] == "Christmas Day"


@pytest.mark.parametrize(("language", "christmas"), [("fr", "Noël"), ("en", "Christmas Day")])
def test_names_in_a_language_the_library_has(language, christmas):
    assert dict(service.national_holidays("FR", 2027, language))[date(2027, 12, 25)] == christmas


def test_a_language_the_library_lacks_gives_the_country_s_own_names():
    found = dict(service.national_holidays("DE", 2027, "fr"))
    assert found[date(2027, 12, 25)] == "Erster Weihnachtstag"


def test_the_rest_api_imports_them_in_the_tenant_s_language(engine, client, session):
    apply_raw(engine, demo_document())
    token = service.create_token(session, "holidays", "127.0.0.1")
    session.commit()
    answer = client.post(
        "/api/v1/tenants/127.0.0.1/holidays/import",
        json={"year": 2028},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.json
    document = client.get(
        "/api/v1/tenants/127.0.0.1", headers={"Authorization": f"Bearer {token}"}
    ).json
    shown = {h["date"]: h["name"] for h in document["holidays"]}
    assert shown["2028-12-25"] == "Noël" and shown["2028-05-01"] == "Fête du Travail"
