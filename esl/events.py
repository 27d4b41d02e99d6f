"""Event-socket frames and events, parsed without trusting what callers put in them.

FreeSWITCH URL-encodes every header value of a `text/event-plain` event, so a newline a
caller smuggles into a caller ID name arrives as `%0A`. Lines are therefore split
*before* values are decoded: a value can never turn into a second header. An event's
own body (a BACKGROUND_JOB's output, a message) follows its headers, sized by its inner
`Content-Length`. This module does no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import unquote

from xmlcurl import fsnames as fs


@dataclass(frozen=True)
class Event:
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    body: str = ""

    def get(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default)

    @property
    def name(self) -> str:
        """`Event-Subclass` for CUSTOM events (`sofia::register`), else `Event-Name`."""
        name = self.get(fs.EV_EVENT_NAME)
        if name == "CUSTOM":
            return self.get(fs.EV_EVENT_SUBCLASS) or name
        return name


def _header_lines(block: bytes, *, decode_values: bool) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw in block.split(b"\n"):
        line = raw.rstrip(b"\r").decode("utf-8", "replace")
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            continue  # not a header line: never guess what it meant
        value = value.lstrip(" ")
        # The first occurrence wins: nothing later in a frame overrides what came first.
        headers.setdefault(name, unquote(value) if decode_values else value)
    return headers


def parse_plain(data: bytes) -> Event:
    """One `text/event-plain` body (what follows the outer frame's blank line)."""
    head, _, rest = data.partition(b"\n\n")
    headers = _header_lines(head, decode_values=True)
    body = b""
    length = headers.get(fs.EV_CONTENT_LENGTH, "")
    if length.isdigit():
        body = rest[: int(length)]
    return Event(MappingProxyType(headers), body.decode("utf-8", "replace"))


def parse_envelope(block: bytes) -> dict[str, str]:
    """The envelope of a frame (up to its blank line); these values are not URL-encoded."""
    return _header_lines(block, decode_values=False)
