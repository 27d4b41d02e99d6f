"""REST API and CLI: a number's routing now, the directory, the configuration summary,
holidays from CSV; each seen only by tokens of its tenant."""

import pytest

from centrex.cli import main
from provisioning import service
from tests.conftest import apply_raw, demo_document
from tests.integration.test_tenant_routing_calls import DOMAIN, stored_document

OTHER = "pbx.other.example"
BASE = f"/api/v1/tenants/{DOMAIN}"


@pytest.fixture
def tokens(session, engine):
    apply_raw(engine, stored_document())
    apply_raw(engine, demo_document(OTHER, numbers=[], main_number=None, users=[]))
    tokens = {
        "tenant": service.create_token(session, "tenant", DOMAIN),
        "other": service.create_token(session, "other", OTHER),
    }
    session.commit()
    return {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}


def test_number_routing_shows_the_route_in_force_and_the_destination_now(client, tokens):
    got = client.get(f"{BASE}/numbers/0184800100/routing", headers=tokens["tenant"]).json
    assert got["number"] == "+33184800100" and got["timezone"] == "Europe/Paris"
    assert [r["schedule_in_force"] for r in got["routes"]] == [False, True]
    assert (got["in_force"], got["destination"]) == (1, {"group": "Sales"})
    assert got["otherwise"] == {"number": "+33612345678"}


def test_number_routing_outside_every_route_and_for_a_user_number(client, tokens):
    h = tokens["tenant"]
    otherwise = client.get(f"{BASE}/numbers/%2B33184800101/routing", headers=h).json
    assert (otherwise["in_force"], otherwise["destination"]) == ("otherwise", {"voicemail": "1001"})
    user = client.get(f"{BASE}/numbers/0184800103/routing", headers=h).json
    assert (user["routes"], user["in_force"], user["destination"]) == ([], None, {"user": "1000"})
    nowhere = client.get(f"{BASE}/numbers/0184800102/routing", headers=h).json
    assert nowhere["destination"] is None
    assert client.get(f"{BASE}/numbers/0199999999/routing", headers=h).status_code == 404


def test_directory_lists_users_and_external_contacts(client, tokens):
    got = client.get(f"{BASE}/directory", headers=tokens["tenant"]).json
    assert got["users"][1] == {
        "extension": "1001",
        "name": "Alice O'Hara",
        "public_number": "+33184800101",
    }
    assert got["external"] == [{"name": "Plumber & Sons", "number": "+33145454545", "code": "3435"}]


def test_summary_as_text_or_html(client, tokens):
    h = tokens["tenant"]
    text = client.get(f"{BASE}/summary", headers={**h, "Accept": "text/plain"})
    assert text.mimetype == "text/plain"
    assert "while Always: group Sales  ◀ now" in text.text
    assert "Plumber & Sons: +33145454545 (##3435)" in text.text
    page = client.get(f"{BASE}/summary?format=html", headers=h)
    assert page.mimetype == "text/html"
    assert "Plumber &amp; Sons" in page.text and "Alice O&#x27;Hara" in page.text
    assert "<script" not in page.text and "@media print" in page.text
    assert client.get(f"{BASE}/summary", headers=h).mimetype == "text/html"
    assert client.get(f"{BASE}/summary?format=pdf", headers=h).status_code == 422


GOOD_CSV = ("\ufeffdate;name\n2027-05-01;Fête du travail\n\n14/07/2027;Fête nationale\n").encode()
RANGES_CSV = b"from,to,name\n24/12/2027,2028-01-02,Winter closing\n"
BAD_CSV = b"date,name\n2027-05-01,Labour day\n31/02/2027,Nowhere\n2027-07-14\n2027-08-15,{bad}\n"


def holidays(client, headers) -> list:
    return client.get(f"{BASE}", headers=headers).json.get("holidays", [])


def post_csv(client, headers, body, domain=DOMAIN, content_type="text/csv"):
    return client.post(
        f"/api/v1/tenants/{domain}/holidays/csv",
        data=body,
        headers=headers,
        content_type=content_type,
    )


def test_csv_holidays_are_merged_into_the_tenants(client, tokens):
    h = tokens["tenant"]
    response = post_csv(client, h, GOOD_CSV)
    assert response.status_code == 200, response.json
    assert response.json["updated"] == [f"tenant {DOMAIN}"]
    assert post_csv(client, h, RANGES_CSV).status_code == 200
    assert holidays(client, h) == [
        {"name": "Fête du travail", "date": "2027-05-01"},
        {"name": "Fête nationale", "date": "2027-07-14"},
        {"name": "Winter closing", "from": "2027-12-24", "to": "2028-01-02"},
    ]
    again = post_csv(client, h, GOOD_CSV).json
    assert again["updated"] == []


def test_bad_csv_rows_are_reported_by_line_and_nothing_is_written(client, tokens):
    h = tokens["tenant"]
    response = post_csv(client, h, BAD_CSV)
    assert response.status_code == 422
    assert [p["path"] for p in response.json["problems"]] == ["line 3", "line 4", "line 5"]
    assert holidays(client, h) == []
    assert post_csv(client, h, b"day,label\n2027-05-01,x\n").json["problems"][0]["path"] == (
        "line 1"
    )
    assert post_csv(client, h, GOOD_CSV, content_type="application/json").status_code == 415


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/numbers/0184800100/routing"),
        ("get", "/directory"),
        ("get", "/summary"),
        ("post", "/holidays/csv"),
    ],
)
def test_other_tenants_token_sees_nothing(client, tokens, method, path):
    response = getattr(client, method)(
        f"{BASE}{path}", headers=tokens["other"], data=GOOD_CSV, content_type="text/csv"
    )
    assert response.status_code == 404
    assert "Sales" not in response.text


@pytest.fixture
def cli_env(monkeypatch, database_url, tokens):
    monkeypatch.setenv("CENTREX_DATABASE_URL", database_url)
    for name in ["CENTREX_CONFIG", "CENTREX_XMLCURL_CREDENTIALS"]:
        monkeypatch.delenv(name, raising=False)


def test_cli_summary_and_csv_import(cli_env, tmp_path, capsys):
    assert main(["summary", DOMAIN]) == 0
    assert "Hunt groups" in capsys.readouterr().out
    assert main(["summary", DOMAIN, "--html"]) == 0
    assert capsys.readouterr().out.startswith("<!DOCTYPE html>")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(BAD_CSV)
    assert main(["holidays", "import-csv", DOMAIN, str(bad)]) == 1
    assert "line 3:" in capsys.readouterr().err
    good = tmp_path / "good.csv"
    good.write_bytes(GOOD_CSV)
    assert main(["holidays", "import-csv", DOMAIN, str(good)]) == 0
    assert capsys.readouterr().out.strip() == f"updated: tenant {DOMAIN}"
