"""From captured FreeSWITCH events to live-state changes (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from esl.events import Event, parse_plain
from esl.handlers import (
    ChannelGone,
    ChannelSeen,
    LineRef,
    ProbeAsked,
    Registered,
    Unregistered,
    changes,
    channels_listed,
    sofia_profiles,
    sofia_registrations_listed,
)
from esl.keys import Key
from tests.esl_capture import captured_events

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
NODE = "fs1:8021"


def event(**headers: str) -> Event:
    return Event(MappingProxyType({k.replace("_", "-"): v for k, v in headers.items()}))


def all_changes():
    return [c for e in captured_events() for c in changes(e, NODE, NOW)]


def test_the_capture_registration_is_read_from_the_authenticated_user():
    (registered,) = [c for c in all_changes() if isinstance(c, Registered)]
    assert registered.line == LineRef("1000", "127.0.0.1")
    assert registered.call_id == "1-12949@127.0.0.1"
    assert registered.contact == '"" <sip:1000@127.0.0.1:6000>'
    assert (registered.network_ip, registered.network_port) == ("127.0.0.1", 6000)
    # Event-Date-Timestamp 1795348624349967 µs, plus `expires: 600`.
    assert registered.expires_at == datetime(2026, 11, 22, 12, 7, 4, 349967, tzinfo=UTC)


def test_the_capture_legs_belong_to_the_right_lines():
    created = {c.uuid: c for c in all_changes() if isinstance(c, ChannelSeen) and c.line}
    caller = created["7a6a6962-0732-4d96-a8ed-e3d1c79f2ce5"]
    assert (caller.line, caller.direction, caller.peer_number) == (
        LineRef("1001", "127.0.0.1"),
        "inbound",
        "1000",
    )
    called = created["906ba466-b677-4ff0-809d-24a010f8ea72"]
    assert (called.line, called.direction, called.peer_number) == (
        LineRef("1000", "127.0.0.1"),
        "outbound",
        "1001",
    )
    # Directed pickup takes the caller's leg the leg to the phone was originated from.
    assert (caller.caller_leg, called.caller_leg) == ("", caller.uuid)
    # Loopback legs to voicemail belong to nobody.
    assert "a1603b9b-1b3b-4cdc-9614-3010186dfdd1" not in created


def test_every_captured_leg_ends():
    seen = {c.uuid for c in all_changes() if isinstance(c, ChannelSeen)}
    gone = {c.uuid for c in all_changes() if isinstance(c, ChannelGone)}
    assert seen and seen <= gone


def test_call_state_events_only_update_known_legs_and_report_answer():
    updates = [
        c
        for c in all_changes()
        if isinstance(c, ChannelSeen) and c.uuid.startswith("7a6a6962") and c.line is None
    ]
    assert updates and updates[-1].answered


def test_a_caller_supplied_line_break_stays_inside_its_value():
    forged = (
        b"Event-Name: CHANNEL_CREATE\nUnique-ID: u1\nCall-Direction: inbound\n"
        b"Caller-Caller-ID-Name: Eve%0Avariable_user_name: 1002\n"
        b"variable_domain_name: acme.example\n\n"
    )
    parsed = parse_plain(forged)
    assert parsed.get("Caller-Caller-ID-Name") == "Eve\nvariable_user_name: 1002"
    (seen,) = changes(parsed, NODE, NOW)
    assert isinstance(seen, ChannelSeen) and seen.line is None


def test_an_inbound_leg_without_digest_user_belongs_to_nobody():
    # From a carrier: the presence id comes from its From header, which it chooses.
    (seen,) = changes(
        event(
            Event_Name="CHANNEL_CREATE",
            Unique_ID="u2",
            Call_Direction="inbound",
            Channel_Presence_ID="1000@127.0.0.1",
        ),
        NODE,
        NOW,
    )
    assert isinstance(seen, ChannelSeen) and seen.line is None


def test_event_bodies_are_kept():
    parsed = parse_plain(
        b"Event-Name: BACKGROUND_JOB\nJob-UUID: j1\nContent-Length: 11\n\n+OK 1234\nxy"
    )
    assert parsed.body == "+OK 1234\nxy"


@pytest.mark.parametrize(
    ("proto", "to", "expected"),
    [
        ("dnd", "dnd+600@acme.example", ProbeAsked(NODE, Key("dnd", "600", "acme.example"))),
        ("grp", "grp+5000@Acme.example", ProbeAsked(NODE, Key("grp", "5000", "acme.example"))),
        ("grp", "grp+5000-1001@a.example", ProbeAsked(NODE, Key("grp", "5000-1001", "a.example"))),
        ("sip", "600@acme.example", None),
        ("dnd", "grp+600@acme.example", None),
        ("dnd", "dnd+bob@acme.example", None),
        ("dnd", "dnd+600-7@acme.example", None),
        ("xyz", "xyz+600@acme.example", None),
    ],
)
def test_probes_for_keys_freeswitch_does_not_light(proto, to, expected):
    found = changes(event(Event_Name="PRESENCE_PROBE", proto=proto, to=to), NODE, NOW)
    assert found == ((expected,) if expected else ())


def test_unregister_and_expire_forget_the_registration():
    for name in ("sofia::unregister", "sofia::expire"):
        found = changes(event(Event_Name="CUSTOM", Event_Subclass=name, call_id="c1"), NODE, NOW)
        assert found == (Unregistered(NODE, "c1"),)


# Captured from FreeSWITCH 1.10.12: two phones of 1000 (`multiple-registrations=contact`).
SOFIA_REGISTRATIONS = (
    "\nRegistrations:\n" + "=" * 97 + "\n"
    "Call-ID:    \t1-566@127.0.0.1\nUser:       \t1000@127.0.0.1\n"
    'Contact:    \t"" <sip:1000@127.0.0.1:33875>\nAgent:      \tunknown\n'
    "Status:     \tRegistered(UDP)(unknown) EXP(2026-12-06 17:14:48) EXPSECS(360)\n"
    "Ping-Status:\tReachable\nPing-Time:\t0.00\nHost:       \tvm\nIP:         \t127.0.0.1\n"
    "Port:       \t39627\nAuth-User:  \t1000\nAuth-Realm: \t127.0.0.1\n"
    "MWI-Account:\t1000@127.0.0.1\n\n"
    "Call-ID:    \t1-568@127.0.0.1\nUser:       \t1000@127.0.0.1\n"
    'Contact:    \t"" <sip:1000@127.0.0.1:47526>\nAgent:      \tYealink SIP-T46U\n'
    "Status:     \tRegistered(UDP)(unknown) EXP(2026-12-06 17:14:48) EXPSECS(360)\n"
    "Ping-Status:\tReachable\nPing-Time:\t0.00\nHost:       \tvm\nIP:         \t127.0.0.1\n"
    "Port:       \t53768\nAuth-User:  \t1000\nAuth-Realm: \t127.0.0.1\n"
    "MWI-Account:\t1000@127.0.0.1\n\n"
    "Total items returned: 2\n" + "=" * 97 + "\n\n"
)
SOFIA_PROFILES = (
    '<?xml version="1.0" encoding="ISO-8859-1"?>\n<profiles>\n<alias>\n<name>127.0.0.1</name>\n'
    "<type>alias</type>\n<data>internal</data>\n<state>ALIASED</state>\n</alias>\n<profile>\n"
    "<name>external</name>\n<type>profile</type>\n<data>sip:mod_sofia@127.0.0.1:41504</data>\n"
    "<state>RUNNING (0)</state>\n</profile>\n<gateway>\n<name>127.0.0.1</name>\n"
    "<type>gateway</type>\n<data>sip:trunk@127.0.0.1:36897</data>\n<state>NOREG</state>\n"
    "</gateway>\n\n<profile>\n<name>internal</name>\n<type>profile</type>\n"
    "<data>sip:mod_sofia@127.0.0.1:44203</data>\n<state>RUNNING (0)</state>\n</profile>\n"
    "</profiles>\n\n"
)


def test_a_node_s_registrations_are_read_from_sofia_with_every_phone_of_a_line():
    assert sofia_profiles(SOFIA_PROFILES) == ["external", "internal"]
    first, second = sofia_registrations_listed(SOFIA_REGISTRATIONS, NODE, "vm", NOW)
    assert first == Registered(
        node=NODE,
        call_id="1-566@127.0.0.1",
        line=LineRef("1000", "127.0.0.1"),
        contact='"" <sip:1000@127.0.0.1:33875>',
        user_agent="unknown",
        network_ip="127.0.0.1",
        network_port=39627,
        expires_at=NOW + timedelta(seconds=360),
    )
    assert (second.call_id, second.network_port, second.user_agent) == (
        "1-568@127.0.0.1",
        53768,
        "Yealink SIP-T46U",
    )
    # Rows another node wrote in a profile database they share are that node's.
    assert sofia_registrations_listed(SOFIA_REGISTRATIONS, NODE, "fs2", NOW) == []
    empty = "\nRegistrations:\n" + "=" * 97 + "\nTotal items returned: 0\n" + "=" * 97 + "\n"
    assert sofia_registrations_listed(empty, NODE, "vm", NOW) == []


@pytest.mark.parametrize(
    "agent",
    [
        # A user agent cannot start a line of its own: only \n ends one.
        "evil\u2028Call-ID:\tforged\u2028User:\t\t1001@127.0.0.1",
        "evil\x85Call-ID:\tforged\x0bUser:\t\t1001@127.0.0.1",
    ],
)
def test_a_phone_cannot_forge_a_registration_in_the_listing(agent):
    text = SOFIA_REGISTRATIONS.replace("Yealink SIP-T46U", agent)
    listed = sofia_registrations_listed(text, NODE, "vm", NOW)
    assert [r.call_id for r in listed] == ["1-566@127.0.0.1", "1-568@127.0.0.1"]
    assert listed[1].user_agent == agent


def test_a_profile_name_that_would_carry_another_command_is_left_out():
    odd = SOFIA_PROFILES.replace("<name>external</name>", "<name>x reg\n\napi hupall</name>")
    assert sofia_profiles(odd) == ["internal"]


@pytest.mark.parametrize("answer", ["Invalid Profile!\n", "-ERR sofia Command not found!\n", ""])
def test_a_listing_that_is_not_one_is_refused(answer):
    with pytest.raises(ValueError):
        sofia_registrations_listed(answer, NODE, "vm", NOW)
    with pytest.raises(ValueError):
        sofia_profiles(answer)
    with pytest.raises(ValueError):
        sofia_profiles('<?xml version="1.0"?>\n<profiles><profile>')


def test_listings_after_a_reconnect():
    channels = json.dumps(
        {
            "row_count": 3,
            "rows": [
                {"uuid": "a", "direction": "inbound", "callstate": "ACTIVE", "dest": "1002"},
                {
                    "uuid": "b",
                    "direction": "outbound",
                    "callstate": "RINGING",
                    "presence_id": "1000@127.0.0.1",
                    "cid_num": "1001",
                },
                {"uuid": "c", "direction": "outbound", "callstate": "ACTIVE", "presence_id": ""},
            ],
        }
    )
    listed = channels_listed(channels, NODE, lambda uuid: "1001@127.0.0.1" if uuid == "a" else "")
    assert [(c.uuid, c.line.extension, c.answered) for c in listed if c.line] == [
        ("a", "1001", True),
        ("b", "1000", False),
    ]


@pytest.mark.parametrize("odd", ["99999999999999999999", "9" * 5000, "\u00b2", "-5", ""])
def test_numbers_no_switch_writes_are_read_as_unknown_never_raised(odd):
    """Digits `int()` refuses ("²" passes isdigit), numbers past `int()`'s digits or past
    any date: one such event raised out of the batch and cost every other event in it."""
    registered = event(
        Event_Name="CUSTOM",
        Event_Subclass="sofia::register",
        username="1000",
        realm="acme.example",
        call_id="c1",
        network_port=odd,
        expires=odd,
        Event_Date_Timestamp=odd,
    )
    (change,) = changes(registered, NODE, NOW)
    assert isinstance(change, Registered)
    assert change.network_port == 0
    assert change.expires_at == NOW + timedelta(seconds=3600)  # the default expiry
    gone = event(Event_Name="CHANNEL_DESTROY", Unique_ID="u1", Event_Date_Timestamp=odd)
    assert changes(gone, NODE, NOW)


def test_a_nul_a_caller_spells_never_reaches_the_store():
    """`%00` in a caller's name decodes to NUL, which PostgreSQL's text refuses: the
    whole stretch of events was rolled back."""
    parsed = parse_plain(b"Event-Name: CHANNEL_CREATE\nCaller-Caller-ID-Name: Evil%00Name\n\n")
    assert parsed.get("Caller-Caller-ID-Name") == "EvilName"
    raw = parse_plain(b"Event-Name: CHANNEL_CREATE\nCaller-Caller-ID-Name: A\x00B\n\n")
    assert raw.get("Caller-Caller-ID-Name") == "AB"


def test_an_event_body_whose_length_is_not_a_number_is_read_without_one():
    parsed = parse_plain(b"Event-Name: BACKGROUND_JOB\nContent-Length: %C2%B2\n\n+OK done")
    assert parsed.name == "BACKGROUND_JOB" and parsed.body == ""
