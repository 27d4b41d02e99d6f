"""Event-socket frames and events, parsed without trusting what callers put in them.

FreeSWITCH URL-encodes every header value of a `text/event-plain` event, so a newline a
caller smuggles into a caller ID name arrives as `%0A`. Lines are therefore split
*before* values are decoded: a value can never turn into a second header. An event's
own body (a BACKGROUND_JOB's output, a message) follows its headers, sized by its inner
`Content-Length`. Commands sent are encoded here too. This module does no I/O.

A channel event carries every channel variable (60 and more headers) and the listener
reads a dozen: a header is looked for in the text when it is read, and only its value
is decoded.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote

from provisioning.validation import whole_number
from xmlcurl import fsnames as fs

from .switch import SwitchError


@dataclass(frozen=True)
class Event:
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    body: str = ""
    # `Event-Subclass` for CUSTOM events (`sofia::register`), else `Event-Name`: read
    # once, when the event is made (every event's name is read).
    name: str = field(init=False, default="")

    def __post_init__(self) -> None:
        name = self.get(fs.EV_EVENT_NAME)
        if name == "CUSTOM":
            name = self.get(fs.EV_EVENT_SUBCLASS) or name
        object.__setattr__(self, "name", name)

    def get(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default)


def _header_lines(block: bytes) -> dict[str, str]:
    """Values by name as they stand after the colon (`_value` finishes them). A line
    without a colon, or whose name is empty or has spaces at either end, is not a header
    line: never guess what it meant. The first occurrence wins: nothing later in a frame
    overrides what came first."""
    pairs = [line.partition(":") for line in block.decode("utf-8", "replace").split("\n")]
    found = [
        (name, value) for name, colon, value in pairs if colon and name and name == name.strip()
    ]
    headers = dict(found)
    if len(headers) < len(found):  # a repeated name: keep its first value
        headers = {}
        for name, value in found:
            headers.setdefault(name, value)
    return headers


def _value(raw: str) -> str:
    return raw.rstrip("\r").lstrip(" ")


_UNREAD: Any = object()  # a distinct object: `is` tells it from any value read


# What a header's line starts with, by name: built once per name.
_NEEDLES: dict[str, str] = {}


def _needle(name: str) -> str:
    """ "" for a name no header line can have."""
    valid = bool(name) and name == name.strip() and ":" not in name and "\n" not in name
    needle = f"\n{name}:" if valid else ""
    if len(_NEEDLES) < 10_000:  # names come from our code, but bound it anyway
        _NEEDLES[name] = needle
    return needle


class _Headers(Mapping[str, str]):
    """An event's headers, found when read: a name is looked for at the start of a line
    of the raw text (values are URL-encoded, so no value holds a line break), its value
    finished and decoded once. Listing them all parses every line (`_header_lines`)."""

    __slots__ = ("_all", "_read", "_text")

    def __init__(self, text: str) -> None:
        self._text = "\n" + text  # every line, the first too, starts after a "\n"
        self._read: dict[str, str | None] = {}
        self._all: dict[str, str] | None = None

    def _find(self, name: str) -> str | None:
        value = self._read.get(name, _UNREAD)
        if value is not _UNREAD:
            return value
        value = None
        needle = _NEEDLES.get(name) or _needle(name)
        if needle:
            text = self._text
            at = text.find(needle)
            if at >= 0:
                start = at + len(needle)
                end = text.find("\n", start)
                raw = (text[start:end] if end >= 0 else text[start:]).rstrip("\r").lstrip(" ")
                value = decoded(raw)
        self._read[name] = value
        return value

    def __getitem__(self, name: str) -> str:
        value = self._find(name)
        if value is None:
            raise KeyError(name)
        return value

    def get(self, name: str, default: str = "") -> str:  # type: ignore[override]
        value = self._read.get(name, _UNREAD)  # the usual case, without another call
        if value is _UNREAD:
            value = self._find(name)
        return default if value is None else value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._find(name) is not None

    def _every(self) -> dict[str, str]:
        if self._all is None:
            self._all = _header_lines(self._text[1:].encode())
        return self._all

    def __iter__(self) -> Iterator[str]:
        return iter(self._every())

    def __len__(self) -> int:
        return len(self._every())


def decoded(raw: str) -> str:
    """A value FreeSWITCH URL-encoded (an event's header, a call record's variable),
    decoded. A NUL (`%00` from a caller) is dropped: PostgreSQL's text holds none, and
    one refused value rolls back everything written with it."""
    value = unquote(raw, errors="replace") if "%" in raw else raw
    return value.replace("\x00", "") if "\x00" in value else value


# FreeSWITCH's times are µs since 1970; past 2100 one is not a time but a fault.
_LAST_BELIEVABLE_US = 4_102_444_800_000_000


def switch_time(micros: str) -> datetime | None:
    """An event's or a call record's time (µs since 1970), None for 0 (FreeSWITCH's
    "never") or for anything that is not a believable time."""
    at = whole_number(micros)
    return datetime.fromtimestamp(at / 1e6, UTC) if 0 < at < _LAST_BELIEVABLE_US else None


def parse_plain(data: bytes) -> Event:
    """One `text/event-plain` body (what follows the outer frame's blank line)."""
    head, _, rest = data.partition(b"\n\n")
    headers = _Headers(head.decode("utf-8", "replace"))
    body = b""
    if rest:  # most events have no body: no need to look for its length
        body = rest[: whole_number(headers.get(fs.EV_CONTENT_LENGTH, ""))]
    return Event(headers, body.decode("utf-8", "replace"))


def sendevent_text(name: str, headers: Mapping[str, str]) -> str:
    """A `sendevent` command. Header lines go out as they are (`sendevent` takes no
    encoding): a line break in a name or value would start another header."""
    for key, value in headers.items():
        if "\n" in key or "\r" in key or ":" in key or "\n" in value or "\r" in value:
            raise SwitchError(f"refusing to send event header {key!r}")
    return "\n".join([f"sendevent {name}", *(f"{k}: {v}" for k, v in headers.items())])


def sendevent_command(name: str, headers: Mapping[str, str]) -> bytes:
    """The same, as written on the socket: checked and encoded once, the same bytes can
    go to every node."""
    return (sendevent_text(name, headers) + "\n\n").encode()


def parse_envelope(block: bytes) -> dict[str, str]:
    """The envelope of a frame (up to its blank line); these values are not URL-encoded."""
    return {name: _value(raw) for name, raw in _header_lines(block).items()}


def split_frames(data: bytes) -> tuple[list[tuple[dict[str, str], bytes]], bytes]:
    """The whole frames at the start of what a socket gave — each its envelope and its
    body (`Content-Length` bytes after the blank line) — and the bytes of the frame not
    complete yet, to be read on."""
    frames = []
    at, size = 0, len(data)
    while True:
        while at < size and data[at] == 0x0A:  # blank lines between frames
            at += 1
        end = data.find(b"\n\n", at)
        if end < 0:
            break
        envelope = parse_envelope(data[at:end])
        start = end + 2
        stop = start + whole_number(envelope.get(fs.EV_CONTENT_LENGTH, ""))
        if stop > size:
            break
        frames.append((envelope, data[start:stop]))
        at = stop
    return frames, data[at:]
