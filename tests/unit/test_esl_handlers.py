"""From captured FreeSWITCH events to live-state changes (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
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
    registrations_listed,
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


def test_listings_after_a_reconnect():
    registrations = json.dumps(
        {
            "row_count": 2,
            "rows": [
                {
                    "reg_user": "1000",
                    "realm": "127.0.0.1",
                    "token": "c1",
                    "url": "sip:1000@192.0.2.9:5060",
                    "expires": "1795349224",
                    "network_ip": "192.0.2.9",
                    "network_port": "5060",
                    "network_proto": "udp",
                    "hostname": "vm",
                    "metadata": "Yealink",
                },
                {"reg_user": "bob", "realm": "127.0.0.1", "token": "c2"},
            ],
        }
    )
    (reg,) = registrations_listed(registrations, NODE)
    assert (reg.line.extension, reg.call_id, reg.user_agent) == ("1000", "c1", "Yealink")
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
    assert registrations_listed('{"row_count":0}', NODE) == []
    with pytest.raises(ValueError):
        registrations_listed("-ERR no reply", NODE)
