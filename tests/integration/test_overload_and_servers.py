"""xml_curl under overload (xmlcurl.overload) and behind several servers
(xmlcurl.servers): what a fetch that waited gets, and the preprocessor lines that put a
server reached through a fallback binding first. Requests are the captured ones."""

from __future__ import annotations

import time

import pytest
from lxml import etree

from centrex import metrics
from tests.conftest import basic_auth, post_fetch
from tests.fsrequests import fixture_fields, fs_body, with_fields
from tests.integration.test_xmlcurl import actions, is_not_found, xml
from xmlcurl import servers
from xmlcurl.overload import Limits, Verdict, WaitClock, verdict

LIMITS = Limits(switch_timeout_ms=1000, call_wait_limit_ms=250)


# --- the verdict ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("section", "waited", "expected"),
    [
        ("dialplan", 0, Verdict.SERVE),
        ("dialplan", 249, Verdict.SERVE),
        ("dialplan", 250, Verdict.TURN_AWAY),
        ("dialplan", 999, Verdict.TURN_AWAY),
        ("dialplan", 1000, Verdict.ABANDON),
        ("directory", 250, Verdict.SERVE),
        ("directory", 999, Verdict.SERVE),
        ("directory", 1000, Verdict.ABANDON),
        ("configuration", 600, Verdict.SERVE),
        ("configuration", 5000, Verdict.ABANDON),
    ],
)
def test_calls_are_turned_away_first_and_nothing_is_served_too_late(section, waited, expected):
    assert verdict(section, waited, LIMITS) is expected


def stamped(at: float, host: str = "fs1") -> dict[str, str]:
    return {"Event-Date-Timestamp": str(int(at * 1_000_000)), "hostname": host}


def test_a_wait_is_the_age_beyond_the_smallest_recently_seen():
    clock = WaitClock()
    now = 1_800_000_000.0
    # This switch's clock is 3 s behind and the network takes 2 ms: ages of 3,002 ms.
    assert clock.waited_ms(stamped(now - 3.002), now=now) == 0
    assert clock.waited_ms(stamped(now - 3.402), now=now + 0.001) == pytest.approx(401, abs=1)
    assert clock.waited_ms(stamped(now + 1 - 3.002), now=now + 1) == pytest.approx(0, abs=1)
    # Another switch has its own floor.
    assert clock.waited_ms(stamped(now - 0.5, "fs2"), now=now) == 0


def test_a_clock_stepped_back_is_followed_within_two_windows():
    clock = WaitClock()
    now = 1_800_000_000.0
    clock.waited_ms(stamped(now - 1.0), now=now)  # floor: 1,000 ms
    later = now + 61
    assert clock.waited_ms(stamped(later - 0.2), now=later) == 0  # a lower floor: taken at once
    # A clock stepped forward makes ages larger: until the windows pass they look like waits.
    clock = WaitClock()
    clock.waited_ms(stamped(now - 0.002), now=now)
    assert clock.waited_ms(stamped(now + 40 - 0.502), now=now + 40) == pytest.approx(500, abs=1)
    assert clock.waited_ms(stamped(now + 70 - 0.502), now=now + 70) == 0


# "²" passes isdigit() but not int(); 512 digits overflow a float division.
@pytest.mark.parametrize("stamp", ["", "soon", "-5", "\u00b2", "9" * 512])
def test_a_fetch_without_a_usable_stamp_waited_nothing(stamp):
    assert WaitClock().waited_ms({"Event-Date-Timestamp": stamp}) == 0


def test_clocks_far_apart_make_the_wait_unknown_not_huge():
    now = time.time()
    assert WaitClock().waited_ms(stamped(now - 3600), now=now) == 0
    assert WaitClock().waited_ms(stamped(now + 3600), now=now) == 0


# --- through the endpoint ---------------------------------------------------------------------
IN_TENANT = {"Hunt-Context": "127.0.0.1", "Caller-Context": "127.0.0.1"}


def fresh(
    name: str, waited_s: float, values: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    """A captured request as FreeSWITCH would make it `waited_s` ago, on a switch of its
    own (so that the wait is measured against that switch's floor)."""
    host = f"switch-{name}-{waited_s}"
    return with_fields(
        fixture_fields(name),
        {
            "hostname": host,
            "Event-Date-Timestamp": str(int((time.time() - waited_s) * 1_000_000)),
            **(values or {}),
        },
    )


def calibrate(client, name: str, waited_s: float) -> None:  # type: ignore[no-untyped-def]
    """A first fetch from that switch that waited nothing: the floor."""
    fields = fresh(name, waited_s)
    fields = [(k, v) for k, v in fields if k != "Event-Date-Timestamp"]
    now = str(int(time.time() * 1_000_000))
    post_fetch(client, [*fields, ("Event-Date-Timestamp", now)])


def test_a_call_that_waited_too_long_is_turned_away_cleanly(client, demo_tenant):
    calibrate(client, "dialplan-1000", 0.4)
    root = xml(post_fetch(client, fresh("dialplan-1000", 0.4, IN_TENANT)))
    assert actions(root) == [("hangup", "NORMAL_TEMPORARY_FAILURE")]
    calibrate(client, "dialplan-1000", 0.01)
    assert ("bridge", "user/1000@127.0.0.1") in actions(
        xml(post_fetch(client, fresh("dialplan-1000", 0.01, IN_TENANT)))
    )


def test_authentication_is_served_while_calls_are_turned_away(client, demo_tenant):
    calibrate(client, "directory-sip_auth", 0.4)
    root = xml(post_fetch(client, fresh("directory-sip_auth", 0.4)))
    assert root.find(".//user") is not None


def test_a_fetch_freeswitch_gave_up_on_is_not_served(client, demo_tenant):
    calibrate(client, "directory-sip_auth", 1.5)
    assert is_not_found(xml(post_fetch(client, fresh("directory-sip_auth", 1.5))))


# --- several servers --------------------------------------------------------------------------
def test_the_ring_starts_at_the_server_and_holds_every_slot_once():
    assert servers.ring_from(1) == (1, 2, 3)
    assert servers.ring_from(2) == (2, 3, 1)
    assert servers.ring_from(3) == (3, 1, 2)


def fetch_via(client, query: str, fields=None):  # type: ignore[no-untyped-def]
    return client.post(
        "/xmlcurl?" + query,
        data=fs_body(fields or fixture_fields("directory-sip_auth")),
        content_type="application/x-www-form-urlencoded",
        headers=basic_auth(),
    )


def directives(body: bytes) -> list[str]:
    return [line.decode() for line in body.split(b"\n") if line.startswith(b"<X-PRE-PROCESS")]


def test_a_server_reached_late_goes_first_and_second_then_the_others(client, demo_tenant):
    before = int(time.time() * 1000)
    body = fetch_via(client, "via=2.2").data
    lines = body.split(b"\n")
    assert lines[0].startswith(b"<?xml")
    since = int(directives(body)[0].split(".")[-1].split('"')[0])
    assert before <= since <= time.time() * 1000
    assert directives(body) == [
        '<X-PRE-PROCESS cmd="set" data="centrex_try_1=$${centrex_url_2}/xmlcurl'
        f'?via=2.1.{since}"/>',
        '<X-PRE-PROCESS cmd="set" data="centrex_try_2=$${centrex_url_2}/xmlcurl?via=2.2"/>',
        '<X-PRE-PROCESS cmd="set" data="centrex_try_3=$${centrex_url_3}/xmlcurl?via=3.3"/>',
        '<X-PRE-PROCESS cmd="set" data="centrex_try_4=$${centrex_url}/xmlcurl?via=1.4"/>',
    ]
    # Without the directives (which FreeSWITCH's preprocessor removes), the same answer.
    assert etree.fromstring(b"\n".join([lines[0], *lines[5:]])).find(".//user") is not None


def test_once_settled_the_first_server_takes_back_its_second_place(client, demo_tenant):
    just_now = int(time.time() * 1000) - 100
    assert directives(fetch_via(client, f"via=2.1.{just_now}").data) == []
    settled = int(time.time() * 1000) - servers.SETTLE_MS - 1
    assert directives(fetch_via(client, f"via=2.1.{settled}").data) == [
        '<X-PRE-PROCESS cmd="set" data="centrex_try_1=$${centrex_url_2}/xmlcurl?via=2.1"/>',
        '<X-PRE-PROCESS cmd="set" data="centrex_try_2=$${centrex_url_3}/xmlcurl?via=3.2"/>',
        '<X-PRE-PROCESS cmd="set" data="centrex_try_3=$${centrex_url}/xmlcurl?via=1.3"/>',
        '<X-PRE-PROCESS cmd="set" data="centrex_try_4="/>',
    ]


@pytest.mark.parametrize(
    "query",
    [
        "via=1.1",
        "",
        "via=4.2",
        "via=x.2",
        "via=2.5",
        "via=2.0",
        "via=2.1.soon",
        "via=2",
        "via=%C2%B2.1",
        "via=2.1.%C2%B2",
    ],
)
def test_a_server_asked_first_or_oddly_changes_nothing(client, demo_tenant, query):
    assert b"X-PRE-PROCESS" not in fetch_via(client, query).data


def test_a_refused_call_or_an_unknown_item_does_not_put_its_server_first(client, demo_tenant):
    calibrate(client, "dialplan-1000", 0.4)
    refused = fetch_via(client, "via=2.2", fresh("dialplan-1000", 0.4, IN_TENANT)).data
    assert b"NORMAL_TEMPORARY_FAILURE" in refused and b"X-PRE-PROCESS" not in refused
    unknown = fetch_via(client, "via=2.2", fixture_fields("configuration-fifo.conf")).data
    assert b"X-PRE-PROCESS" not in unknown


def test_what_no_server_has_sends_freeswitch_to_its_static_xml_at_once(client, demo_tenant):
    """No section: FreeSWITCH uses its static XML without asking the other servers, as
    it would after their "not found" (they read the same database)."""
    fields = fixture_fields("configuration-fifo.conf")
    root = etree.fromstring(fetch_via(client, "via=1.1", fields).data)
    assert root.tag == "document" and root.get("type") == "freeswitch/xml" and len(root) == 0
    assert is_not_found(xml(post_fetch(client, fields)))  # asked otherwise: as before


def test_a_server_that_cannot_answer_lets_freeswitch_ask_the_next(settings):
    """Its database down: "not found", so that another server may answer."""
    from centrex.app import create_app
    from tests.integration.test_call_log import refusing_engine

    client = create_app(settings, refusing_engine()).test_client()
    answer = fetch_via(client, "via=1.1").data
    assert is_not_found(etree.fromstring(answer)) and b"X-PRE-PROCESS" not in answer


def test_the_shipped_configuration_has_a_binding_per_position_and_the_servers_timeout():
    from centrex.config import Settings
    from tests.unit.test_freeswitch_conf import parse

    bindings = parse("autoload_configs/xml_curl.conf.xml").findall(".//binding")
    assert len(bindings) == servers.POSITIONS
    for position, binding in enumerate(bindings, start=1):
        params = {p.get("name"): p.get("value") for p in binding.iter("param")}
        assert params["gateway-url"] == f"${{{servers.try_variable(position)}}}"
        assert params["use-dynamic-url"] == "true"
        assert int(params["timeout"]) * 1000 == Settings().switch_timeout
    start = {
        e.get("data").split("=", 1)[0]: e.get("data").split("=", 1)[1]
        for e in parse("vars.xml").iter("X-PRE-PROCESS")
        if e.get("data", "").startswith("centrex_try_")
    }
    assert start == {
        "centrex_try_1": "$${centrex_url}/xmlcurl?via=1.1",
        "centrex_try_2": "$${centrex_url_2}/xmlcurl?via=2.2",
        "centrex_try_3": "$${centrex_url_3}/xmlcurl?via=3.3",
        "centrex_try_4": "",
    }


def test_a_fetch_through_a_fallback_binding_counts_only_what_is_left_over_its_timeouts():
    clock = WaitClock()
    now = 1_800_000_000.0
    clock.waited_ms(stamped(now - 0.002), now=now)
    # The first server timed out after 1 s, the second took it 30 ms later.
    assert clock.waited_ms(stamped(now - 1.032), after_ms=1000, now=now) == pytest.approx(30)
    # An age just short of a timeout above the floor is no wait of 998 ms, but none.
    assert clock.waited_ms(stamped(now - 1.000), after_ms=1000, now=now) == 0
    assert clock.waited_ms(stamped(now - 1.302), after_ms=1000, now=now) == pytest.approx(300)
    # Its age does not raise the floor.
    assert clock.waited_ms(stamped(now - 0.402), now=now) == pytest.approx(400)


def test_a_fetch_that_timed_out_on_another_server_is_served(client, demo_tenant):
    calibrate(client, "directory-sip_auth", 1.02)
    fields = fresh("directory-sip_auth", 1.02)
    answer = fetch_via(client, "via=2.2", fields)
    assert b"centrex_try_1=" in answer.data and b"<user" in answer.data


def test_shed_fetches_are_counted_as_fallbacks_with_their_verdict(client, demo_tenant):
    def fallbacks(section: str, reason: str) -> float:
        labels = {"section": section, "reason": reason}
        return metrics.SERVER.get_sample_value("centrex_xmlcurl_fallbacks_total", labels) or 0.0

    turned_away, abandoned = fallbacks("dialplan", "turn_away"), fallbacks("directory", "abandon")
    calibrate(client, "dialplan-1000", 0.4)
    post_fetch(client, fresh("dialplan-1000", 0.4, IN_TENANT))
    calibrate(client, "directory-sip_auth", 1.5)
    post_fetch(client, fresh("directory-sip_auth", 1.5))
    assert fallbacks("dialplan", "turn_away") == turned_away + 1
    assert fallbacks("directory", "abandon") == abandoned + 1
