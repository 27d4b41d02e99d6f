"""Frames cut out of whatever the event socket gives at a time: the same frames however
the bytes are split between reads."""

from __future__ import annotations

from esl.events import parse_plain, split_frames

EVENT_BODY = (
    b"Event-Name: CHANNEL_CREATE\nUnique-ID: abc\nCaller-Caller-ID-Name: Eve%0AMallory\n"
    b"Content-Length: 5\n\nhello"
)
STREAM = (
    b"Content-Type: auth/request\n\n"
    b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n"
    + b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(EVENT_BODY)
    + EVENT_BODY
    + b"\nContent-Length: 3\nContent-Type: api/response\n\n+OK"
)


def frames_read(chunks: list[bytes]) -> list[tuple[dict[str, str], bytes]]:
    frames, pending = [], b""
    for chunk in chunks:
        cut, pending = split_frames(pending + chunk)
        frames += cut
    assert pending == b""
    return frames


def test_a_stream_gives_its_frames_whole():
    (auth, reply, event, api) = frames_read([STREAM])
    assert auth == ({"Content-Type": "auth/request"}, b"")
    assert reply[0]["Reply-Text"] == "+OK accepted"
    assert event[1] == EVENT_BODY
    parsed = parse_plain(event[1])
    assert (parsed.name, parsed.get("Caller-Caller-ID-Name"), parsed.body) == (
        "CHANNEL_CREATE",
        "Eve\nMallory",
        "hello",
    )
    assert api == ({"Content-Length": "3", "Content-Type": "api/response"}, b"+OK")


def test_the_same_frames_wherever_reads_split_the_bytes():
    whole = frames_read([STREAM])
    for cut in range(1, len(STREAM)):
        assert frames_read([STREAM[:cut], STREAM[cut:]]) == whole
    assert frames_read([bytes([b]) for b in STREAM]) == whole


def test_a_frame_not_complete_yet_is_kept_for_the_next_read():
    frames, pending = split_frames(STREAM[:-2])
    assert len(frames) == 3
    assert pending == STREAM[STREAM.index(b"Content-Length: 3") :][:-2]
