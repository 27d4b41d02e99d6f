"""Event headers found when read: the same answers as a parse of every line."""

from __future__ import annotations

import pytest

from esl.events import parse_envelope, parse_plain
from tests.esl_capture import captured_events

FRAME = (
    b"Event-Name: CHANNEL_CREATE\nA: 1\nA: 2\n B: x\nC : y\n:z\nD:   v%41%0Ax: 1\r\n"
    b"E:\nnot a header\nF-G H: w\nvariable_sip_from_display: %25%0A\n\n"
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Event-Name", "CHANNEL_CREATE"),
        ("A", "1"),  # the first occurrence wins
        ("B", None),  # a line starting with a space is no header line
        (" B", None),
        ("C", None),  # nor one whose name ends with a space
        ("C ", None),
        ("D", "vA\nx: 1"),  # decoded after the line was split
        ("x", None),
        ("E", ""),
        ("F-G H", "w"),
        ("not a header", None),
        ("", None),
        ("A\nB", None),
        ("variable_sip_from_display", "%\n"),
    ],
)
def test_a_header_is_found_only_at_the_start_of_a_line(name, expected):
    event = parse_plain(FRAME)
    assert event.get(name, "missing") == ("missing" if expected is None else expected)
    assert (name in event.headers) is (expected is not None)


def test_listing_the_headers_gives_every_header_line_once():
    event = parse_plain(FRAME)
    assert dict(event.headers) == {
        "Event-Name": "CHANNEL_CREATE",
        "A": "1",
        "D": "vA\nx: 1",
        "E": "",
        "F-G H": "w",
        "variable_sip_from_display": "%\n",
    }
    assert parse_envelope(b"Content-Length: 12\nContent-Type:  text/event-plain\r") == {
        "Content-Length": "12",
        "Content-Type": "text/event-plain",
    }


def test_captured_events_read_the_same_whether_found_or_listed():
    for event in captured_events():
        listed = dict(event.headers)
        assert listed and all(event.get(name) == value for name, value in listed.items())


def test_a_frame_whose_length_is_not_a_number_does_not_stop_the_reading():
    from esl.events import split_frames

    data = b"Content-Length: \xc2\xb2\nContent-Type: text/event-plain\n\n" + (
        b"Content-Length: 3\nContent-Type: api/response\n\n+OK"
    )
    frames, rest = split_frames(data)
    assert [envelope["Content-Type"] for envelope, _ in frames] == [
        "text/event-plain",
        "api/response",
    ]
    assert frames[1][1] == b"+OK" and rest == b""
