"""The call that plays a reminder: the user's line rings, the message plays. Pure."""

from __future__ import annotations

from xmlcurl import fsnames as fs

from .originate import Line, to_playback

RING_SECONDS = 45
CALLER_NAME = "Reminder"


def reminder_sounds(message_path: str | None) -> str:
    """The recorded message, else the stock wake-up prompt, twice: a phone picked up in
    a hurry misses the first words."""
    sound = message_path or fs.PROMPT_WAKEUP
    parts = [fs.SILENCE_MS.format(ms=500), sound, fs.SILENCE_MS.format(ms=1000), sound]
    return fs.FILE_STRING + fs.FILE_STRING_SEPARATOR.join(parts)


def reminder_command(line: Line, reminder_id: int, call_uuid: str, message_path: str | None) -> str:
    """`originate {…}user/<ext>@<domain> &playback(<message, twice>)`."""
    variables = {
        fs.V_ORIGINATION_UUID: call_uuid,
        fs.V_ORIGINATE_TIMEOUT: str(RING_SECONDS),
        fs.V_ORIGINATION_CID_NAME: CALLER_NAME,
        fs.V_ORIGINATION_CID_NUMBER: CALLER_NAME,
        fs.V_REMINDER: str(reminder_id),
    }
    return to_playback(line, variables, reminder_sounds(message_path))
