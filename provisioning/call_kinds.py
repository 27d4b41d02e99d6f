"""The call log's words: the kind of an entry and the direction of the call for the
user, spelled once for the classifier (`esl.cdr`), the stored entries and the API.

Pure: imports nothing but the standard library.
"""

from __future__ import annotations

import enum


class CallKind(enum.StrEnum):
    """What a call was for one user (README, Call log: how a call is classified)."""

    PLACED = "placed"
    RECEIVED = "received"
    MISSED = "missed"
    REJECTED = "rejected"
    FORWARDED = "forwarded"
    TRANSFERRED = "transferred"


class CallDirection(enum.StrEnum):
    """The user's view of a call: one they placed is outgoing, any other incoming."""

    OUTGOING = "outgoing"
    INCOMING = "incoming"
