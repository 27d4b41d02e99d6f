"""What phones' BLF keys show, as the PRESENCE_IN events that light them (FREESWITCH.md §5).

Pure. A key is lit with a dialog of a stable id of ours — never a live channel's UUID,
which would queue the event to that call — and put out with `terminated`.
"""

from __future__ import annotations

from xmlcurl import fsnames as fs

from .events import sendevent_command
from .handlers import LineRef
from .keys import Key

_DIALOG = {
    # state: (answer-state, channel-state, rpid, status)
    "idle": ("terminated", "CS_HANGUP", "unknown", "Available"),
    "ringing": ("early", "CS_ROUTING", "busy", "Ringing"),
    "busy": ("confirmed", "CS_EXECUTE", "busy", "On the phone"),
}


def _presence(proto: str, address: str, key: str, state: str, direction: str) -> dict[str, str]:
    answer_state, channel_state, rpid, status = _DIALOG[state]
    user, _, domain = address.partition("@")
    return {
        fs.PR_PROTO: proto,
        fs.PR_FROM: address,
        fs.PR_STATUS: status,
        fs.PR_RPID: rpid,
        fs.PR_EVENT_TYPE: "presence",
        fs.PR_ALT_EVENT_TYPE: "dialog",
        fs.PR_EVENT_COUNT: "1",
        fs.PR_UNIQUE_ID: f"centrex-{key}-{user}-{domain}",
        fs.PR_ANSWER_STATE: answer_state,
        fs.PR_CHANNEL_STATE: channel_state,
        # "outbound": the watched user is the one called, so phones offer to pick it up.
        fs.PR_CALL_DIRECTION: direction,
    }


def line_presence(line: LineRef, state: str) -> dict[str, str]:
    """A colleague's line (its calls happen on another node than the watching phone's)."""
    return _presence(
        fs.PROTO_SIP, line.address, "line", state, "outbound" if state == "ringing" else "inbound"
    )


def key_presence(key: Key, on: bool) -> dict[str, str]:
    """One of the keys Centrex lights itself (`esl.keys`): on or off."""
    return _presence(key.proto, key.address, key.proto, "busy" if on else "idle", "inbound")


def command(headers: dict[str, str]) -> bytes:
    """The `sendevent` that fires it, encoded once for every node it goes to."""
    return sendevent_command(fs.EVENT_PRESENCE_IN, headers)
