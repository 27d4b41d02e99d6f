"""REST API /api/v1: token scopes, the document, items one by one (the OpenAPI document:
test_openapi)."""

import json

import pytest

from provisioning import service
from tests.conftest import demo_document


@pytest.fixture
def tokens(session, demo_tenant, engine):
    from tests.conftest import apply_raw

    apply_raw(engine, demo_document("pbx.other.example", numbers=[], main_number=None, users=[]))
    admin = service.create_token(session, "admin", None)
    tenant = service.create_token(session, "tenant", "127.0.0.1")
    session.commit()
    return {"admin": admin, "tenant": tenant}


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_no_or_bad_token_is_401(client, tokens):
    assert client.get("/api/v1/tenants").status_code == 401
    assert client.get("/api/v1/tenants", headers=auth("nope")).status_code == 401


def test_tenant_token_sees_only_its_tenant(client, tokens):
    t = auth(tokens["tenant"])
    assert client.get("/api/v1/tenants", headers=t).json == {"tenants": ["127.0.0.1"]}
    assert client.get("/api/v1/tenants/pbx.other.example", headers=t).status_code == 404
    assert (
        client.put(
            "/api/v1/tenants/pbx.other.example", headers=t, json=demo_document("pbx.other.example")
        ).status_code
        == 404
    )
    assert client.get("/api/v1/tenants/pbx.other.example/users", headers=t).status_code == 404
    assert client.delete("/api/v1/tenants/127.0.0.1", headers=t).status_code == 403
    admin = client.get("/api/v1/tenants", headers=auth(tokens["admin"])).json
    assert admin == {"tenants": ["127.0.0.1", "pbx.other.example"]}


def test_put_document_then_get_it_back(client, tokens):
    h = auth(tokens["admin"])
    raw = demo_document("new.example", numbers=[], main_number=None)
    for u in raw["users"]:
        u.pop("public_number", None)
    response = client.put("/api/v1/tenants/new.example", headers=h, json=raw)
    assert response.status_code == 200, response.json
    assert "tenant new.example" in response.json["created"]
    got = client.get("/api/v1/tenants/new.example", headers=h).json
    assert [u["extension"] for u in got["users"]] == ["1000", "1001", "1002"]
    again = client.put("/api/v1/tenants/new.example", headers=h, json=got).json
    assert again == {"dry_run": False, "created": [], "updated": [], "deleted": []}


def test_invalid_document_is_422_with_paths(client, tokens):
    raw = demo_document()
    raw["users"][0]["extension"] = "1x"
    response = client.put("/api/v1/tenants/127.0.0.1", headers=auth(tokens["tenant"]), json=raw)
    assert response.status_code == 422
    assert {
        "path": "users[0].extension",
        "message": "must be 2 to 8 digits",
        "code": "extension_digits",
        "params": {},
    } in response.json["problems"]
    bad = client.put(
        "/api/v1/tenants/127.0.0.1",
        headers=auth(tokens["tenant"]),
        data="{not json",
        content_type="application/json",
    )
    assert bad.status_code == 422


def test_dry_run_writes_nothing(client, tokens):
    h = auth(tokens["admin"])
    raw = demo_document()
    raw["name"] = "Renamed"
    response = client.put("/api/v1/tenants/127.0.0.1?dry_run=true", headers=h, json=raw)
    assert response.json["updated"] == ["tenant 127.0.0.1"] and response.json["dry_run"]
    assert client.get("/api/v1/tenants/127.0.0.1", headers=h).json["name"] == "Demo Company"


def test_users_one_by_one(client, tokens):
    h = auth(tokens["tenant"])
    base = "/api/v1/tenants/127.0.0.1/users"
    new = {"name": "Carol", "sip_password": "Carol-Pass-2026x", "voicemail": {"pin": "480519"}}
    assert client.put(f"{base}/1003", headers=h, json=new).json["created"] == ["user 1003"]
    assert client.get(f"{base}/1003", headers=h).json["name"] == "Carol"
    new["name"] = "Carol B."
    assert client.put(f"{base}/1003", headers=h, json=new).json["updated"] == ["user 1003"]
    assert client.delete(f"{base}/1003", headers=h).json["deleted"] == ["user 1003"]
    assert client.get(f"{base}/1003", headers=h).status_code == 404
    # Removing a user a number still points at is refused, with the reason.
    refused = client.delete(f"{base}/1001", headers=h)
    assert refused.status_code == 422
    assert refused.json["problems"][0]["path"].startswith("numbers[")


def test_numbers_one_by_one_accept_national_form(client, tokens):
    h = auth(tokens["tenant"])
    base = "/api/v1/tenants/127.0.0.1/numbers"
    put = client.put(f"{base}/0184800102", headers=h, json={"label": "Fax", "user": "1002"})
    assert put.json["created"] == ["number +33184800102"]
    assert client.get(f"{base}/%2B33184800102", headers=h).json["label"] == "Fax"
    assert client.delete(f"{base}/0184800102", headers=h).status_code == 200
    assert client.get(f"{base}/0184800102", headers=h).status_code == 404


def test_a_string_that_is_not_unicode_text_is_refused_with_its_path(client, tokens):
    """JSON's escapes spell a lone surrogate, which no database stores: refused with
    where it is (it once ended in a 500 at the write), and nothing written."""
    h = auth(tokens["admin"])
    base = "/api/v1/tenants/127.0.0.1"
    before = client.get(f"{base}/users/1001", headers=h).json
    document = demo_document()
    document["users"][0]["name"] = "\ud800"
    sent = {
        ("PUT", base, "application/json"): json.dumps(document),
        ("PUT", f"{base}/users/1001", "application/json"): json.dumps(
            {**before, "name": "Al\udc80ce"}
        ),
        ("PATCH", f"{base}/users/1001", "application/merge-patch+json"): json.dumps(
            {"public_number": "\ud800"}
        ),
        ("PUT", f"{base}/users/1001/call-handling", "application/json"): json.dumps(
            {"call_handling": {"forward_always": {"to": "\ud800"}}}
        ),
    }
    paths = []
    for (method, url, kind), body in sent.items():
        answer = client.open(url, method=method, headers=h, data=body, content_type=kind)
        assert answer.status_code == 422, (method, url, answer.json)
        (problem,) = answer.json["problems"]
        assert problem["code"] == "not_unicode"
        paths.append(problem["path"])
    assert paths == [
        "users[0].name",
        "name",
        "public_number",
        "call_handling.forward_always.to",
    ]
    assert client.get(f"{base}/users/1001", headers=h).json == before


def test_a_key_given_twice_in_a_body_is_refused_not_read_as_the_last(client, tokens):
    """A second "users" would have replaced the first: every user deleted."""
    h = auth(tokens["admin"])
    base = "/api/v1/tenants/127.0.0.1"
    document = json.dumps(demo_document())
    twice = document[:-1] + ', "users": []}'
    answer = client.put(base, headers=h, data=twice, content_type="application/json")
    assert answer.status_code == 422
    (problem,) = answer.json["problems"]
    assert problem["code"] == "key_twice"
    assert problem["message"] == 'the key "users" is given twice in one object'
    assert client.get(f"{base}/users/1001", headers=h).status_code == 200
    nested = client.put(
        f"{base}/users/1001/call-handling",
        headers=h,
        data='{"call_handling": {"dnd": true, "dnd": false}}',
        content_type="application/json",
    )
    assert nested.status_code == 422 and nested.json["problems"][0]["code"] == "key_twice"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_body_holding_what_json_does_not_have_is_refused(client, tokens, constant):
    """Python's reader takes NaN and Infinity: a user was named "nan"."""
    h = auth(tokens["admin"])
    url = "/api/v1/tenants/127.0.0.1/users/1001"
    before = client.get(url, headers=h).json
    body = json.dumps({**before, "name": "x"}).replace('"x"', constant)
    answer = client.put(url, headers=h, data=body, content_type="application/json")
    assert answer.status_code == 422
    assert answer.json["problems"][0]["message"] == "the request body must be a JSON document"
    assert client.get(url, headers=h).json == before


def test_holidays_import_refuses_what_is_not_a_year_a_country_or_a_user(client, tokens):
    h = auth(tokens["tenant"])
    url = "/api/v1/tenants/127.0.0.1/holidays/import"
    for body, path in [
        ({"year": 2027, "country": 1}, "country"),
        ({"year": 2027, "country": True}, "country"),
        ({"year": 2027, "user": ["1000"]}, "user"),
        ({"year": "99999999999999999999"}, "year"),
        ({"year": 1066}, "year"),
        (["2027"], "year"),
    ]:
        answer = client.post(url, headers=h, json=body)
        assert answer.status_code == 422, body
        assert [p["path"] for p in answer.json["problems"]] == [path], body
    assert client.get("/api/v1/tenants/127.0.0.1", headers=h).json.get("holidays", []) == []


def test_api_errors_are_json(client, tokens):
    h = auth(tokens["admin"])
    missing = client.get("/api/v1/nothing-here", headers=h)
    assert missing.status_code == 404 and "error" in missing.json
    wrong = client.post("/api/v1/tenants/127.0.0.1", headers=h, json={})
    assert wrong.status_code == 405 and "error" in wrong.json


@pytest.mark.parametrize("depth", [900, 5_000, 200_000])
@pytest.mark.parametrize(
    "method, path",
    [
        ("put", "/api/v1/tenants/127.0.0.1"),
        ("put", "/api/v1/tenants/127.0.0.1/users/1001"),
        ("put", "/api/v1/tenants/127.0.0.1/numbers/0184800199"),
        ("post", "/api/v1/tenants/127.0.0.1/users/1001/reminders"),
    ],
)
def test_a_deeply_nested_body_is_refused_with_a_message_never_a_500(
    client, tokens, method, path, depth
):
    body = '{"users": ' + "[" * depth + "]" * depth + "}"
    response = getattr(client, method)(
        path, headers=auth(tokens["admin"]), data=body, content_type="application/json"
    )
    assert response.status_code in (400, 422), response.data[:200]
    assert response.json["error"]
    if depth > 1_000:  # past what Python's parser can read at all
        assert response.status_code == 400
        assert response.json["error"] == "the request body is nested too deeply"


def test_a_race_with_another_change_is_409_and_writes_nothing(client, tokens, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    def racing(session, doc):
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    monkeypatch.setattr(service, "apply_document", racing)
    raw = demo_document()
    response = client.put("/api/v1/tenants/127.0.0.1", headers=auth(tokens["admin"]), json=raw)
    assert response.status_code == 409 and "retry" in response.json["error"]


def test_holidays_import_through_the_api(client, tokens):
    h = auth(tokens["tenant"])
    response = client.post(
        "/api/v1/tenants/127.0.0.1/holidays/import", headers=h, json={"year": 2027}
    )
    assert response.status_code == 200 and response.json["updated"] == ["tenant 127.0.0.1"]
    assert (
        client.post("/api/v1/tenants/127.0.0.1/holidays/import", headers=h, json={}).status_code
        == 422
    )
    other = client.post(
        "/api/v1/tenants/pbx.other.example/holidays/import", headers=h, json={"year": 2027}
    )
    assert other.status_code == 404
