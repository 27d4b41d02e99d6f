"""The event-socket capture of ../shared/fixtures/esl, as parsed events.

Paths in the capture were rewritten after it was taken, so some outer Content-Length
values no longer match; events are cut at their envelopes instead."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from esl.events import Event, parse_plain
from tests.fsrequests import _FIXTURES as FIXTURES

CAPTURE = Path(FIXTURES) / "esl" / "events-register-and-calls.txt"
_ENVELOPE = re.compile(rb"\n*(?:^|\n)Content-Length: \d+\nContent-Type: text/event-plain\n\n")


@cache
def captured_events() -> tuple[Event, ...]:
    return tuple(parse_plain(part) for part in _ENVELOPE.split(CAPTURE.read_bytes())[1:])
