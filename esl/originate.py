"""`originate` commands for calls Centrex places itself, and FreeSWITCH's answers. Pure.

A command is one line that FreeSWITCH splits at spaces, then parses again as a dial
string (`{a=b,…}` variables, `,` and `|` more legs) and application data. Nothing is
escaped or quoted here: every piece must match a whitelist, and anything else is
refused with `UnsafeValue` (a bug upstream, since callers validate what people type).

Commands run in the background (`bgapi uuid:<job> originate …`): an `originate` waits
for the answer, which would hold the event socket for as long as a phone rings. The
outcome arrives later in a BACKGROUND_JOB event carrying the same Job-UUID.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from xmlcurl import fsnames as fs
from xmlcurl.safe import DIALABLE, UUID, checked

_EXTENSION = re.compile(r"[0-9]{2,8}")
_DOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9.\-]{0,251}[a-z0-9])?")
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,63}")
# Variable values: no `,` `{` `}` `[` `]` `'` `$` `^` `|`, no spaces, nothing to expand.
_VALUE = re.compile(r"[A-Za-z0-9+*#@._\-]{1,64}")
# Playback data: sound paths, `file_string://a!b`, `silence_stream://500`.
_PLAYBACK = re.compile(r"[A-Za-z0-9_./:!\-]{1,1024}")


@dataclass(frozen=True)
class Line:
    """A user's line, rung through Centrex's directory (`user/<ext>@<domain>`)."""

    extension: str
    domain: str

    @property
    def endpoint(self) -> str:
        extension = checked(_EXTENSION, self.extension)
        return f"{fs.USER_ENDPOINT}{extension}@{checked(_DOMAIN, self.domain)}"


def _variables(variables: Mapping[str, str]) -> str:
    pairs = (f"{checked(_NAME, k)}={checked(_VALUE, v)}" for k, v in variables.items())
    return "{" + ",".join(pairs) + "}"


def to_dialplan(line: Line, variables: Mapping[str, str], destination: str, context: str) -> str:
    """Ring `line`; once answered, route its leg to `destination` in `context`."""
    target = f"{checked(DIALABLE, destination)} {fs.DIALPLAN_XML} {checked(_DOMAIN, context)}"
    return f"{fs.API_ORIGINATE} {_variables(variables)}{line.endpoint} {target}"


def to_playback(line: Line, variables: Mapping[str, str], sounds: str) -> str:
    """Ring `line`; once answered, play `sounds`, then hang up."""
    target = f"&{fs.APP_PLAYBACK}({checked(_PLAYBACK, sounds)})"
    return f"{fs.API_ORIGINATE} {_variables(variables)}{line.endpoint} {target}"


def in_background(command: str, job_uuid: str) -> str:
    return f"{fs.API_BGAPI} {fs.BGAPI_JOB_PREFIX}{checked(UUID, job_uuid)} {command}"


def accepted(reply: str, job_uuid: str) -> bool:
    """Whether FreeSWITCH took the background job (`+OK Job-UUID: <job>`)."""
    return reply.strip() == f"{fs.BGAPI_ACCEPTED}{job_uuid}"


def failure_cause(output: str) -> str | None:
    """None when the originate succeeded (`+OK <uuid>`), else its cause
    (`-ERR NO_ANSWER` → `NO_ANSWER`); anything unexpected counts as a failure."""
    text = output.strip()
    if text.startswith(fs.REPLY_OK):
        return None
    if text.startswith(fs.REPLY_ERR):
        return text[len(fs.REPLY_ERR) :].strip() or "UNKNOWN"
    return "UNKNOWN"
