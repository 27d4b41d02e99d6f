"""POST /xmlcurl with requests exactly as FreeSWITCH 1.10.12 sent them (fixtures)."""

import pytest
from lxml import etree
from sqlalchemy import event

from centrex.app import create_app
from centrex.config import Settings
from centrex.db import make_engine
from tests.conftest import XMLCURL_CREDENTIALS, apply_raw, basic_auth, demo_document, post_fetch
from tests.dial_strings import read_as_user_endpoints
from tests.fsrequests import fixture_fields, fixtures_dir, with_fields
from xmlcurl import fsnames as fs
from xmlcurl.directory import a1_hash

ALL_FIXTURES = sorted(p.stem for p in (fixtures_dir() / "xml_curl").glob("*.json"))

ROUTE_MARK = f"{fs.V_ROUTE}="


def xml(response) -> etree._Element:
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    return etree.fromstring(response.data)


def is_not_found(root: etree._Element) -> bool:
    return root.find("section").get("name") == "result"


def actions(root: etree._Element) -> list[tuple[str, str | None]]:
    """The route's actions, without the call log's mark of the decision
    (`xmlcurl.route_trail`, tested in test_route_trail), a line dialled itself read as
    its `user/` endpoint (tests.dial_strings)."""
    return read_as_user_endpoints(
        [
            (a.get("application"), a.get("data"))
            for a in root.iter("action")
            if not (a.get("data") or "").startswith(ROUTE_MARK)
        ]
    )


def route_mark(root: etree._Element) -> str | None:
    """The trail of decisions the answer sets for the call log."""
    for a in root.iter("action"):
        if (a.get("data") or "").startswith(ROUTE_MARK):
            return a.get("data", "")[len(ROUTE_MARK) :]
    return None


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_every_captured_request_gets_a_well_formed_answer(client, demo_tenant, name):
    root = xml(post_fetch(client, fixture_fields(name)))
    assert root.tag == "document" and root.get("type") == "freeswitch/xml"


@pytest.mark.parametrize(
    "name", ["directory-sip_auth", "directory-sip_auth-2", "directory-sip_auth-3"]
)
def test_sip_auth_answers_the_digest_hash_and_the_tenant_context(client, demo_tenant, name):
    fields = fixture_fields(name)
    user = dict(fields)["user"]
    root = xml(post_fetch(client, fields))
    element = root.find(f"section/domain/groups/group/users/user[@id='{user}']")
    params = {p.get("name"): p.get("value") for p in element.find("params")}
    password = next(u["sip_password"] for u in demo_tenant["users"] if u["extension"] == user)
    assert params["a1-hash"] == a1_hash(user, "127.0.0.1", password)
    assert "password" not in params
    assert password.encode() not in xml_bytes(client, fields)
    variables = {v.get("name"): v.get("value") for v in element.find("variables")}
    assert variables["user_context"] == "127.0.0.1"


def xml_bytes(client, fields) -> bytes:
    return post_fetch(client, fields).data


def test_unknown_user_or_domain_is_not_found(client, demo_tenant):
    assert is_not_found(
        xml(post_fetch(client, with_fields(fixture_fields("directory-sip_auth"), {"user": "4242"})))
    )
    other = with_fields(
        fixture_fields("directory-sip_auth"),
        {"domain": "other.example", "key_value": "other.example"},
    )
    assert is_not_found(xml(post_fetch(client, other)))


def test_register_for_another_tenants_domain_is_refused(client, demo_tenant):
    # Credentials of 1000@127.0.0.1, To: 1000@other domain: sofia would register it there.
    fields = with_fields(
        fixture_fields("directory-sip_auth"), {"sip_to_host": "pbx.victim.example"}
    )
    assert dict(fields)["sip_auth_method"] == "REGISTER"
    assert is_not_found(xml(post_fetch(client, fields)))
    # An INVITE's To is the callee, anywhere: not checked.
    invite = with_fields(
        fixture_fields("directory-sip_auth-2"), {"sip_to_host": "elsewhere.example"}
    )
    assert not is_not_found(xml(post_fetch(client, invite)))


def test_domains_refuse_users_without_password(client, demo_tenant):
    root = xml(post_fetch(client, fixture_fields("directory-sip_auth")))
    params = {p.get("name"): p.get("value") for p in root.find("section/domain/params")}
    assert params["allow-empty-password"] == "false"


def test_user_call_carries_the_dial_string_to_registered_contacts(client, demo_tenant):
    root = xml(post_fetch(client, fixture_fields("directory-user_call")))
    dial = root.find("section/domain/params/param[@name='dial-string']").get("value")
    assert "sofia_contact(*/${dialed_user}@${dialed_domain})" in dial
    assert "presence_id=${dialed_user}@${dialed_domain}" in dial
    assert root.find("section/domain/groups/group/users/user").get("id") == "1000"


def test_voicemail_lookup_carries_box_settings(client, demo_tenant):
    root = xml(post_fetch(client, fixture_fields("directory-voicemail-lookup")))
    params = {p.get("name"): p.get("value") for p in root.iter("param")}
    assert params["vm-enabled"] == "true"
    # The PIN travels hashed, so that the SIP a1-hash is not taken for it either.
    assert params["vm-a1-hash"] == a1_hash("1000", "127.0.0.1", "190872")
    assert (
        "vm-password" not in params
        and b"190872" not in post_fetch(client, fixture_fields("directory-voicemail-lookup")).data
    )
    assert params["vm-mailto"] == "reception@demo.example"
    off = xml(post_fetch(client, fixture_fields("directory-voicemail-lookup-3")))  # user 1002
    assert {p.get("name"): p.get("value") for p in off.iter("param")}["vm-enabled"] == "false"


def test_message_count_and_user_exists_find_the_user(client, demo_tenant):
    for name in ["directory-message-count", "directory-user_exists", "directory-domain"]:
        root = xml(post_fetch(client, fixture_fields(name)))
        assert root.find("section/domain/groups/group/users/user").get("id") == "1000", name


def test_gateways_lookup_lists_every_tenants_trunk(client, demo_tenant, engine):
    apply_raw(engine, demo_document("pbx.other.example", numbers=[], main_number=None, users=[]))
    root = xml(post_fetch(client, fixture_fields("directory-gateways")))
    # The only places sofia's parse_domain_tag reads gateways from.
    gateways = root.findall("section/domain/groups/group/users/user/gateways/gateway")
    assert [g.get("name") for g in gateways] == ["127.0.0.1", "pbx.other.example"]
    params = {p.get("name"): p.get("value") for p in root.find(".//gateway")}
    assert params["proxy"] == "sip.carrier.example" and params["context"] == "public"


@pytest.mark.parametrize(
    "name",
    [
        "directory-network-list",
        "directory-group_call",
        "configuration-sofia.conf",
    ],
)
def test_lookups_left_to_static_xml_are_not_found(client, demo_tenant, name):
    assert is_not_found(xml(post_fetch(client, fixture_fields(name))))


def dialplan(client, destination, context="127.0.0.1", **variables):
    values = {
        "Hunt-Destination-Number": destination,
        "Caller-Destination-Number": destination,
        "Hunt-Context": context,
        "Caller-Context": context,
    }
    values.update({f"variable_{k}": v for k, v in variables.items()})
    return xml(post_fetch(client, with_fields(fixture_fields("dialplan-1000"), values)))


def test_dialplan_fixture_call_rings_the_extension(client, demo_tenant):
    assert ("bridge", "user/1000@127.0.0.1") in actions(dialplan(client, "1000"))


def test_dialplan_after_busy_goes_to_voicemail_or_tone(client, demo_tenant):
    vm = dialplan(client, "1000", centrex_failover_for="1000", originate_disposition="USER_BUSY")
    assert ("voicemail", "default 127.0.0.1 1000") in actions(vm)
    tone = dialplan(client, "1002", centrex_failover_for="1002", originate_disposition="USER_BUSY")
    assert actions(tone)[-1] == ("hangup", "USER_BUSY")


def test_dialplan_public_number_in_national_form_reaches_its_user(client, demo_tenant):
    root = dialplan(client, "0184800101", context="public")
    assert ("bridge", "user/1001@127.0.0.1") in actions(root)


def test_dialplan_outbound_uses_the_tenant_gateway(client, demo_tenant):
    root = dialplan(client, "0612345678")
    assert ("bridge", "sofia/gateway/127.0.0.1/+33612345678") in actions(root)
    assert ("set", "effective_caller_id_number=+33184800101") in actions(root)


def test_dialplan_unknown_context_or_number_is_rejected(client, demo_tenant):
    assert actions(dialplan(client, "1000", context="nobody.example")) == [
        ("hangup", "NO_ROUTE_DESTINATION")
    ]
    assert actions(dialplan(client, "0999999999", context="public")) == [
        ("hangup", "UNALLOCATED_NUMBER")
    ]


@pytest.mark.parametrize("credentials", [None, "freeswitch:wrong", "other:test-secret"])
def test_bad_credentials_are_refused_and_still_answered_in_xml(client, demo_tenant, credentials):
    headers = {} if credentials is None else basic_auth(credentials)
    response = post_fetch(client, fixture_fields("directory-sip_auth"), headers=headers)
    assert response.status_code == 401
    assert b"a1-hash" not in response.data
    etree.fromstring(response.data)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"garbage",
        b"section=dialplan",
        b"section=directory&domain=%FF%FE&user=%00",
        b"section=dialplan&Hunt-Destination-Number=" + b"1" * 100_000,
        b"section=dialplan&Hunt-Context=%3C%2F&Hunt-Destination-Number=1000",
        # Characters XML cannot hold, in a value the answer would echo.
        b"section=dialplan&Hunt-Context=%01&Hunt-Destination-Number=1000",
        b"section=dialplan&Hunt-Context=a%00b&Hunt-Destination-Number=1000",
        b"section=dialplan&Hunt-Context=%EF%BF%BE&Hunt-Destination-Number=1000",
        b"section=dialplan&Hunt-Context=default&Hunt-Destination-Number=%01",
        b"section=dialplan&Hunt-Context=default&Caller-Caller-ID-Name=%0B&Hunt-Destination-Number=1000",
        b"section=directory&domain=127.0.0.1&user=%EF%BF%BF",
        b"section=directory&purpose=gateways&" + b"&".join([b"x=y"] * 5000),
        bytes(range(256)),
    ],
)
def test_odd_requests_get_well_formed_xml(client, demo_tenant, body):
    response = client.post(
        "/xmlcurl",
        data=body,
        headers=basic_auth(),
        content_type="application/x-www-form-urlencoded",
    )
    xml(response)


def test_database_down_then_safe_fallback_not_a_500(database_url):
    dead = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    app = create_app(Settings(xmlcurl_credentials=XMLCURL_CREDENTIALS), dead)
    client = app.test_client()
    call = xml(post_fetch(client, fixture_fields("dialplan-1000")))
    assert actions(call) == [("hangup", "NORMAL_TEMPORARY_FAILURE")]
    assert is_not_found(xml(post_fetch(client, fixture_fields("directory-sip_auth"))))
    assert is_not_found(xml(post_fetch(client, fixture_fields("directory-gateways"))))


def count_queries(engine, action, warm: bool = True) -> int:
    """Statements sent to the database by `action` (through SQLAlchemy or prepared,
    centrex.db.Prepared: both are seen by `before_cursor_execute`). `warm`: counted on a
    second run, once the tenant's settings are kept (xmlcurl.loader._KeptSettings)."""
    if warm:
        action()

    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(statements)


def test_a_fetch_costs_one_query_whatever_the_tenant_size(client, engine, demo_tenant):
    def fetches():
        dialplan(client, "1000")
        dialplan(client, "0612345678")
        dialplan(client, "0184800101", context="public")
        xml(post_fetch(client, fixture_fields("directory-sip_auth")))

    small = count_queries(engine, fetches)
    big = demo_document()
    big["users"] += [
        {
            "extension": str(2000 + i),
            "name": f"User {i}",
            "sip_password": f"Pass-{i:04d}-Word-xY",
            "voicemail": {"enabled": "false"},
        }
        for i in range(300)
    ]
    apply_raw(engine, big)
    assert count_queries(engine, fetches) == small == 4


def test_a_user_without_password_is_never_answered(client, demo_tenant, engine):
    from sqlalchemy import update

    from provisioning.models import User

    with engine.begin() as conn:
        conn.execute(update(User).where(User.extension == "1000").values(sip_password=""))
    assert is_not_found(xml(post_fetch(client, fixture_fields("directory-sip_auth"))))


def pin_change(pin: str) -> list[tuple[str, str]]:
    """What mod_voicemail sends when a caller changes their PIN from the menu."""
    return with_fields(
        fixture_fields("directory-voicemail-lookup"),
        {
            "Event-Name": "CUSTOM",
            "Event-Subclass": "vm::maintenance",
            "VM-Action": "change-password",
            "VM-User-Password": pin,
            "VM-User": "1000",
            "VM-Domain": "127.0.0.1",
        },
    )


def test_pin_changed_from_the_phone_is_stored_when_it_meets_the_rules(client, demo_tenant):
    root = xml(post_fetch(client, pin_change("480519")))
    assert root.find(".//user/result").get("success") == "true"
    params = {p.get("name"): p.get("value") for p in root.iter("param")}
    assert params["vm-a1-hash"] == a1_hash("1000", "127.0.0.1", "480519")
    lookup = xml(post_fetch(client, fixture_fields("directory-voicemail-lookup")))
    stored = {p.get("name"): p.get("value") for p in lookup.iter("param")}["vm-a1-hash"]
    assert stored == a1_hash("1000", "127.0.0.1", "480519")
    assert lookup.find(".//user/result") is None


# 901849 holds 0184, of the line's number in national form (01 84 80 01 00): refused by
# the document, so from the phone too.
@pytest.mark.parametrize("pin", ["1234", "111222", "123456", "981000", "901849"])
def test_weak_pin_from_the_phone_is_refused_so_the_menu_asks_again(client, demo_tenant, pin):
    root = xml(post_fetch(client, pin_change(pin)))
    assert root.find(".//user/result").get("success") == "false"
    params = {p.get("name"): p.get("value") for p in root.iter("param")}
    assert params["vm-a1-hash"] == a1_hash("1000", "127.0.0.1", "190872")


def test_call_handling_from_the_document_reaches_the_dialplan(client, engine):
    raw = demo_document()
    raw["users"][1]["call_handling"] = {
        "forward_busy": {"to": "0622222222"},
        "simultaneous_ring": {"numbers": ["06 12 34 56 78"]},
    }
    apply_raw(engine, raw)
    ring = actions(dialplan(client, "1001"))
    assert ("bridge", "user/1001@127.0.0.1,sofia/gateway/127.0.0.1/+33612345678") in ring
    after = actions(
        dialplan(
            client,
            "1001",
            centrex_failover_for="1001",
            centrex_stage="ring",
            originate_disposition="USER_BUSY",
        )
    )
    assert ("bridge", "sofia/gateway/127.0.0.1/+33622222222") in after


def test_line_state_makes_a_line_busy(client, engine, demo_tenant):
    from sqlalchemy import insert, select

    from provisioning.models import LineState, Tenant, User

    raw = demo_document()
    raw["users"][1]["call_waiting"] = "false"
    apply_raw(engine, raw)
    with engine.begin() as conn:
        user_id = conn.scalar(
            select(User.id)
            .join(Tenant)
            .where(Tenant.domain == "127.0.0.1", User.extension == "1001")
        )
        conn.execute(insert(LineState).values(user_id=user_id, active_calls=1, registered=True))
    assert actions(dialplan(client, "1001"))[-1] == ("voicemail", "default 127.0.0.1 1001")


def test_refused_calls_are_logged_at_info_and_other_decisions_at_debug(client, demo_tenant, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="xmlcurl.endpoint")
    dialplan(client, "1000")
    dialplan(client, "4242")
    lines = [r.getMessage() for r in caplog.records if r.name == "xmlcurl.endpoint"]
    assert len(lines) == 1 and "→4242: reject" in lines[0]


@pytest.mark.parametrize("context", ["public", "127.0.0.1"])
def test_a_dialled_preprocessor_word_is_refused_as_a_number(client, demo_tenant, context, caplog):
    for dialled in ("x-pre-process", "X-PRE-PROCESS"):
        assert actions(dialplan(client, dialled, context=context)) == [
            ("hangup", "INVALID_NUMBER_FORMAT")
        ]
    assert not [r for r in caplog.records if r.exc_info]
