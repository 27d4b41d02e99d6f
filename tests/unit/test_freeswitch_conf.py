"""freeswitch-conf/: well-formed, wired to Centrex's endpoint, and safe when Centrex is
down (its static directory lets nobody in, its static dialplan routes nothing)."""

import re
from pathlib import Path

import pytest
from lxml import etree

from centrex.app import create_app
from centrex.config import Settings

CONF = Path(__file__).resolve().parents[2] / "freeswitch-conf"
XML_FILES = sorted(CONF.rglob("*.xml"))
# Global variables FreeSWITCH itself defines at start.
BUILTIN = {
    "local_ip_v4",
    "log_dir",
    "sounds_dir",
    "base_dir",
    "conf_dir",
    "recordings_dir",
    "storage_dir",
}


def parse(relative: str) -> etree._Element:
    return etree.parse(str(CONF / relative)).getroot()


@pytest.mark.parametrize("path", XML_FILES, ids=lambda p: str(p.relative_to(CONF)))
def test_every_file_is_well_formed(path):
    etree.parse(str(path))


def defined_variables() -> set[str]:
    names = set(BUILTIN)
    for element in parse("vars.xml").iter("X-PRE-PROCESS"):
        if element.get("cmd") == "set":
            names.add(element.get("data").split("=", 1)[0])
    return names


def test_every_preprocessor_variable_used_is_defined():
    defined = defined_variables()
    for path in XML_FILES:
        for name in re.findall(r"\$\$\{([^}]+)\}", path.read_text()):
            assert name in defined, f"{path.name} uses $${{{name}}}, never set"


def test_xml_curl_binding_points_at_the_endpoint_centrex_serves():
    first = parse("autoload_configs/xml_curl.conf.xml").find(".//binding")
    params = {p.get("name"): p for p in first.iter("param")}
    url = params["gateway-url"]
    assert url.get("value") == "${centrex_try_1}"  # $${centrex_url}/xmlcurl?server=1 at start
    assert set(url.get("bindings").split("|")) == {"dialplan", "directory", "configuration"}
    assert params["gateway-credentials"].get("value") == "$${centrex_xmlcurl_credentials}"
    assert params["auth-scheme"].get("value") == "basic"
    assert 0 < int(params["timeout"].get("value")) <= 5
    app = create_app(Settings(database_url="sqlite://", xmlcurl_credentials="a:b"))
    assert any(r.rule == "/xmlcurl" and "POST" in r.methods for r in app.url_map.iter_rules())


def test_static_directory_holds_no_user_and_no_domain():
    for path in (CONF / "directory").glob("*.xml"):
        root = etree.parse(str(path)).getroot()
        assert root.find(".//user") is None and root.find(".//domain") is None


def test_static_dialplan_routes_nothing():
    root = parse("dialplan/fallback.xml")
    contexts = {c.get("name"): c for c in root.iter("context")}
    assert set(contexts) == {"public", "global"}
    for context in contexts.values():
        applications = [a.get("application") for a in context.iter("action")]
        assert applications == ["respond"]
        assert context.find(".//action").get("data").startswith("503")


def profile_params(name: str) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in parse(f"sip_profiles/{name}.xml").iter("param")}


def test_phones_are_always_authenticated():
    internal = profile_params("internal")
    assert internal["auth-calls"] == "true"
    assert internal["accept-blind-reg"] == "false" and internal["accept-blind-auth"] == "false"
    assert internal["inbound-reg-force-matching-username"] == "true"
    assert "apply-inbound-acl" not in internal  # an ACL there would skip authentication


def test_carrier_side_takes_no_registration_and_lands_in_public():
    external = profile_params("external")
    assert external["disable-register"] == "true"
    assert external["context"] == "public"


def test_shell_escapes_are_disabled():
    defined = {e.get("data") for e in parse("vars.xml").iter("X-PRE-PROCESS")}
    assert {"disable_system_api_commands=true", "disable_system_app_commands=true"} <= defined


def test_event_socket_listens_on_loopback_by_default_with_a_password_and_an_acl():
    params = {
        p.get("name"): p.get("value")
        for p in parse("autoload_configs/event_socket.conf.xml").iter("param")
    }
    assert params["listen-ip"] == "$${centrex_esl_ip}"
    assert params["password"] == "$${centrex_esl_password}"
    acl = params["apply-inbound-acl"]
    (allowed,) = [
        x for x in parse("autoload_configs/acl.conf.xml").iter("list") if x.get("name") == acl
    ]
    assert allowed.get("default") == "deny"
    assert {n.get("cidr") for n in allowed.iter("node")} == {"127.0.0.1/32", "::1/128"}
    assert 'data="centrex_esl_ip=127.0.0.1"' in (CONF / "vars.xml").read_text()


def test_voicemail_profile_is_the_one_the_dialplan_names():
    from xmlcurl import fsnames

    names = [p.get("name") for p in parse("autoload_configs/voicemail.conf.xml").iter("profile")]
    assert names == [fsnames.VOICEMAIL_PROFILE]
