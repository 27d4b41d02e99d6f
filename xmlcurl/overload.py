"""Overload: no work on a fetch FreeSWITCH has given up on, new calls turned away before
anyone is refused authentication.

Fetches wait in the kernel's queue for a free worker before any code runs, and
mod_xml_curl gives up after its `timeout` (1 s in freeswitch-conf), then tries the next
server, then its static XML: a directory that lets nobody in (403 for every phone)
and a dialplan that answers 503. So a saturated server must keep its queue short, and
spend what it has on authentication:

- every fetch says when FreeSWITCH made it (`Event-Date-Timestamp`, microseconds): its
  wait is its age less the smallest age recently seen from that switch (which absorbs
  the network and any offset between the two clocks);
- a fetch that waited `CENTREX_SWITCH_TIMEOUT` is abandoned: FreeSWITCH is no longer
  listening, it is answered "not found" unread;
- a dialplan fetch that waited past `CENTREX_CALL_WAIT_LIMIT` is a call beyond what
  the servers can take now: it is refused at once with NORMAL_TEMPORARY_FAILURE (503
  to the caller, which carriers retry elsewhere), which costs far less than routing it
  and drains the queue. Directory fetches (registrations, authentication) are served
  until FreeSWITCH's own limit.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping
from dataclasses import dataclass

from provisioning.validation import whole_number
from xmlcurl import fsnames as fs

# A late fetch (xmlcurl.servers) whose age is a whole number of timeouts within this
# counts as not having waited: misjudged, it is only served when it need not be.
_LATE_SLACK_MS = 100
# The smallest age is kept over two windows of this many seconds: a clock stepped by
# NTP, or a switch moved, is followed within a minute.
_WINDOW_S = 30.0
# An age past this, either way, is no wait in a queue but clocks set apart: the wait is
# then unknown, and taken as none (the switch and the servers keep time with NTP).
_IMPLAUSIBLE_MS = 20_000


class Verdict(enum.Enum):
    SERVE = "serve"
    TURN_AWAY = "turn away"  # a call beyond capacity: refused cleanly, at once
    ABANDON = "abandon"  # FreeSWITCH has given up on it


@dataclass(frozen=True)
class Limits:
    switch_timeout_ms: int  # mod_xml_curl's `timeout`
    call_wait_limit_ms: int


def verdict(section: str, waited_ms: float, limits: Limits) -> Verdict:
    """Abandoned only once FreeSWITCH has surely given up: a mistake there would make it
    use its static XML (403 for a phone); serving a fetch too late only wastes work."""
    if waited_ms >= limits.switch_timeout_ms:
        return Verdict.ABANDON
    if section == "dialplan" and waited_ms >= limits.call_wait_limit_ms:
        return Verdict.TURN_AWAY
    return Verdict.SERVE


class WaitClock:
    """How long each fetch waited before this worker took it, per switch (hostname)."""

    def __init__(self) -> None:
        self._floors: dict[str, _Floor] = {}

    def waited_ms(
        self, fields: Mapping[str, str], *, after_ms: int | None = None, now: float | None = None
    ) -> float:
        """Milliseconds the fetch waited; 0 when it does not say when it was made.
        `after_ms`: the fetch came through a fallback binding, after earlier ones each
        failed at once or after this timeout: its age holds those timeouts, not known in
        number, so only what is left over a whole number of them counts."""
        stamp = whole_number(fields.get(fs.EVENT_DATE_TIMESTAMP, ""))
        if not stamp:
            return 0.0
        at = time.time() if now is None else now
        age_ms = at * 1000 - stamp / 1000
        if abs(age_ms) > _IMPLAUSIBLE_MS:
            return 0.0
        floor = self._floors.setdefault(fields.get(fs.HOSTNAME, ""), _Floor())
        if after_ms:
            waited = floor.wait(age_ms, at, record=False)
            return max(0.0, (waited + _LATE_SLACK_MS) % after_ms - _LATE_SLACK_MS)
        return floor.wait(age_ms, at)


class _Floor:
    """The smallest age seen in the current and the previous window."""

    def __init__(self) -> None:
        self.previous = float("inf")
        self.current = float("inf")
        self.window_ends = 0.0

    def wait(self, age_ms: float, now: float, *, record: bool = True) -> float:
        if now >= self.window_ends:
            self.previous, self.current = self.current, float("inf")
            self.window_ends = now + _WINDOW_S
        floor = min(self.previous, self.current)
        if record:
            self.current = min(self.current, age_ms)
        return max(0.0, age_ms - min(floor, age_ms))
