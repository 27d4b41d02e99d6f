"""The renderer: structure FreeSWITCH reads, golden files, and the last safety nets.

Golden files are compared after XML canonicalisation (C14N 2.0). To regenerate them
on purpose: CENTREX_REGENERATE_GOLDEN=1 pytest tests/unit/test_render.py
"""

import os
from pathlib import Path

import pytest
from lxml import etree

from tests.unit.test_dialplan_compile import DOMAIN, NOW, TENANT, data, line, request
from xmlcurl import render
from xmlcurl.decisions import (
    DirectoryDomain,
    GatewayDefinition,
    GatewayDirectory,
    GatewayEndpoint,
    Hangup,
    NotFound,
    Ring,
    Route,
    SetVariable,
    UserEndpoint,
)
from xmlcurl.dialplan import compile_call
from xmlcurl.directory import a1_hash, directory_user

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def assert_golden(name: str, xml: bytes) -> None:
    canonical = etree.canonicalize(xml.decode(), strip_text=True)
    # One element per line, so that a change to a golden file reads as a short diff.
    pretty = etree.tostring(etree.fromstring(canonical), pretty_print=True).decode()
    path = GOLDEN / f"{name}.xml"
    if os.environ.get("CENTREX_REGENERATE_GOLDEN"):
        path.write_text(pretty)
    assert pretty == path.read_text(), f"{name} differs from {path}"


def actions(xml: bytes) -> list[tuple[str, str | None]]:
    root = etree.fromstring(xml)
    return [(a.get("application"), a.get("data")) for a in root.iter("action")]


CASES = {
    "dialplan-ring-extension": (request("1000"), data(line("1000"), line("1001"))),
    "dialplan-voicemail-after-busy": (
        request("1000", centrex_failover_for="1000", originate_disposition="USER_BUSY"),
        data(line("1000")),
    ),
    "dialplan-tone-after-busy": (
        request("1000", centrex_failover_for="1000", originate_disposition="USER_BUSY"),
        data(line("1000", voicemail_enabled=False)),
    ),
    "dialplan-outbound": (
        request("0612345678"),
        data(line("1001", display_name="Alice", public_number="+33184800101")),
    ),
    "dialplan-voicemail-check": (request("*318"), data(line("1001"))),
    "dialplan-reject-unknown": (request("4242"), data()),
}


@pytest.mark.parametrize("name", CASES)
def test_dialplan_golden(name):
    req, loaded = CASES[name]
    assert_golden(name, render.dialplan(compile_call(req, loaded, NOW)))


def test_dialplan_document_structure_matches_what_mod_dialplan_xml_walks():
    xml = render.dialplan(compile_call(request("1000"), data(line("1000")), NOW))
    root = etree.fromstring(xml)
    assert root.tag == "document" and root.get("type") == "freeswitch/xml"
    section = root.find("section")
    assert section.get("name") == "dialplan"
    context = section.find("context")
    assert context.get("name") == DOMAIN
    condition = context.find("extension/condition")
    assert condition.get("field") == "destination_number"
    assert condition.get("expression") == "^1000$"
    *before, (bridge, dial_string), sleep, transfer = actions(xml)
    assert before == [
        ("set", "hangup_after_bridge=true"),
        ("set", "continue_on_fail=true"),
        ("set", "centrex_failover_for=1000"),
        ("set", "centrex_stage=ring"),
        ("set", "call_timeout=20"),
        ("export", "no_throttle_limits=true"),
        ("set", "dialed_user=1000"),
        ("set", f"dialed_domain={DOMAIN}"),
    ]
    assert bridge == "bridge"
    assert dial_string.startswith("{^^|")
    assert dial_string.endswith(f"}}${{sofia_contact(*/1000@{DOMAIN})}}")
    assert (sleep, transfer) == (("sleep", "300"), ("transfer", f"1000 XML {DOMAIN}"))


def test_star_and_plus_destinations_are_regex_escaped():
    xml = render.dialplan(Route(DOMAIN, "*318", "x", (Hangup("NORMAL_CLEARING"),)))
    assert etree.fromstring(xml).find(".//condition").get("expression") == r"^\*318$"


def test_directory_user_golden_and_no_clear_password():
    line_1000 = line("1000", voicemail_emails=("a@example.com", "b@example.com"))
    xml = render.directory(DirectoryDomain(DOMAIN, (directory_user(TENANT, line_1000),)))
    assert_golden("directory-user", xml)
    assert b"Xx-123456789-yY" not in xml
    root = etree.fromstring(xml)
    user = root.find("section/domain/groups/group/users/user")
    params = {p.get("name"): p.get("value") for p in user.iter("param")}
    assert params["a1-hash"] == a1_hash("1000", DOMAIN, "Xx-123456789-yY")
    assert "password" not in params
    assert params["vm-mailto"] == "a@example.com,b@example.com"
    variables = {v.get("name"): v.get("value") for v in user.iter("variable")}
    assert variables["user_context"] == DOMAIN


def test_domain_carries_the_dial_string_to_registered_contacts_with_presence_id():
    xml = render.directory(DirectoryDomain(DOMAIN))
    param = etree.fromstring(xml).find("section/domain/params/param")
    assert param.get("name") == "dial-string"
    assert "presence_id=${dialed_user}@${dialed_domain}" in param.get("value")
    assert "${sofia_contact(*/${dialed_user}@${dialed_domain})}" in param.get("value")


def test_gateways_golden():
    gw = GatewayDefinition(
        DOMAIN, "sip.carrier.example:5060", "acme", "Secret-123456", True, "udp", "public"
    )
    assert_golden("directory-gateways", render.directory(GatewayDirectory((gw,))))


@pytest.mark.parametrize(
    "bad",
    [
        GatewayDefinition("a.example", "x-pre-process", "u", None, False, "udp", "public"),
        GatewayDefinition("a.example", "sip.a.example", "$${x}", None, False, "udp", "public"),
        GatewayDefinition("a.example", "sip.a.example", "u\x01", None, False, "udp", "public"),
        GatewayDefinition("a b", "sip.a.example", "u", None, False, "udp", "public"),
    ],
)
def test_gateways_when_one_trunk_cannot_be_served_then_the_others_still_load(bad, caplog):
    """Every tenant's trunk is in the one `purpose=gateways` answer: a trunk FreeSWITCH
    must not read is left out and logged, never the whole answer."""
    good = GatewayDefinition(
        DOMAIN, "sip.carrier.example:5060", "acme", "Secret-123456", True, "udp", "public"
    )
    root = etree.fromstring(render.directory(GatewayDirectory((bad, good))))
    assert [d.get("name") for d in root.iter("domain")] == [DOMAIN]
    assert root.find(".//gateway").get("name") == DOMAIN
    assert "left out of FreeSWITCH's configuration" in caplog.text


def test_not_found_is_the_documented_document():
    root = etree.fromstring(render.directory(NotFound("x")))
    assert root.find("section").get("name") == "result"
    assert root.find("section/result").get("status") == "not found"


def test_values_are_escaped():
    xml = render.directory(
        DirectoryDomain(DOMAIN, (directory_user(TENANT, line("1000", display_name='A & B "<x>"')),))
    )
    variables = {v.get("name"): v.get("value") for v in etree.fromstring(xml).iter("variable")}
    assert variables["effective_caller_id_name"] == 'A & B "<x>"'


@pytest.mark.parametrize(
    "route",
    [
        Route(DOMAIN, "1000", "x", (Ring((UserEndpoint("1000,user/2000", DOMAIN),), 20),)),
        Route(DOMAIN, "1000", "x", (Ring((UserEndpoint("1000", "a.com/evil"),), 20),)),
        Route(DOMAIN, "1000", "x", (Ring((GatewayEndpoint(DOMAIN, "[x=y]1"),), 20),)),
        Route(DOMAIN, "1000", "x", (SetVariable("effective_caller_id_name", "${system(id)}"),)),
        Route(DOMAIN, "1000", "x", (Hangup("NORMAL_CLEARING foo"),)),
        Route(DOMAIN, "1000", "x-pre-process", (Hangup("NORMAL_CLEARING"),)),
        Route(DOMAIN, "1000", "$${x}", (Hangup("NORMAL_CLEARING"),)),
    ],
)
def test_renderer_refuses_what_must_never_reach_freeswitch(route):
    with pytest.raises(render.UnsafeValue):
        render.dialplan(route)


def _line_route(call_handling: dict, **kwargs) -> bytes:
    from tests.unit.test_line_compile import call

    return render.dialplan(call(call_handling, **kwargs))


LINE_CASES = {
    "line-forward-always-confirm": ({"forward_always": {"to": "0612345678", "confirm": True}}, {}),
    "line-simultaneous-ring": ({"simultaneous_ring": {"numbers": ["0612345678", "1000"]}}, {}),
    "line-sequential-ring": (
        {"sequential_ring": {"steps": [{"number": "0612345678", "rings": 4}, {"number": "1000"}]}},
        {},
    ),
    "line-screening-distinctive": (
        {
            "selective": {
                "screening": {"numbers": ["0655555555"]},
                "distinctive_ring": [
                    {"callers": {"numbers": ["0655555555"]}, "ring": "Bellcore-dr2"}
                ],
            }
        },
        {},
    ),
    "line-busy-forward-after-ring": (
        {"forward_busy": {"to": "0622222222"}},
        {"after": ("ring", "USER_BUSY")},
    ),
}


@pytest.mark.parametrize("name", LINE_CASES)
def test_line_golden(name):
    settings, kwargs = LINE_CASES[name]
    assert_golden(name, _line_route(settings, **kwargs))


def test_outbound_clir_golden():
    from tests.unit.test_line_compile import outbound

    assert_golden(
        "dialplan-outbound-withheld", render.dialplan(outbound({"caller_id": {"withhold": True}}))
    )


def test_sequential_ring_renders_failover_legs_with_their_own_timeouts():
    from lxml import etree as et

    xml = _line_route(LINE_CASES["line-sequential-ring"][0])
    bridge = [
        a.get("data") for a in et.fromstring(xml).iter("action") if a.get("application") == "bridge"
    ]
    assert bridge == [
        "[leg_timeout=15]user/1001@127.0.0.1|[leg_timeout=20]sofia/gateway/127.0.0.1/+33612345678"
        "|[leg_timeout=15]user/1000@127.0.0.1"
    ]
