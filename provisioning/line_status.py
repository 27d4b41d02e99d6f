"""What a line is doing and what it can take, from its settings and its live calls.

Pure, one definition each: routing, hunt groups, presence (BLF) and the activity view
all ask here, so that the switchboard never contradicts what calls do.
"""

from __future__ import annotations


def line_state(active_calls: int, ringing_calls: int) -> str:
    """`busy` with any leg answered or placed from the line, else `ringing` while a call
    rings its phones, else `idle`."""
    if active_calls > ringing_calls:
        return "busy"
    return "ringing" if ringing_calls else "idle"


def call_limit(max_concurrent_calls: int, call_waiting: bool) -> int:
    """How many calls the line may be in at once: one without call waiting."""
    return max_concurrent_calls if call_waiting else 1


def is_busy(active_calls: int, max_concurrent_calls: int, call_waiting: bool) -> bool:
    """Whether a new call finds the line busy."""
    return active_calls >= call_limit(max_concurrent_calls, call_waiting)
