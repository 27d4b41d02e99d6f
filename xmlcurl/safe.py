"""What may be written where FreeSWITCH parses it again — dial strings, application
data, API commands: whitelists, and the check that refuses anything else.

Values reaching these places were validated when they were stored; these checks are
the last line, and a refusal means a bug upstream, never a value to escape.
"""

from __future__ import annotations

import re

# What a user may type as a number, checked again where it is written; what the XML
# preprocessor acts on, refused in every value (provisioning.validation.fits).
from provisioning.validation import DIALABLE, PREPROCESSOR_DIRECTIVE

__all__ = [
    "DIALABLE",
    "HOLD_MUSIC",
    "LOCAL_STREAM_URL",
    "UUID",
    "UnsafeValue",
    "checked",
    "holds_directive",
]
_DIRECTIVE_IN_DOCUMENT = re.compile(PREPROCESSOR_DIRECTIVE.encode(), re.IGNORECASE)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# A hold music's stream (`xmlcurl.local_stream.hold_music_url`).
LOCAL_STREAM_URL = r"local_stream://[A-Za-z0-9._/\-]{1,300}"
HOLD_MUSIC = re.compile(LOCAL_STREAM_URL)


class UnsafeValue(ValueError):
    """A value that must never reach FreeSWITCH got this far: a bug upstream."""


def checked(pattern: re.Pattern[str], value: str) -> str:
    if not pattern.fullmatch(value):
        raise UnsafeValue(f"refusing to send {value!r} to FreeSWITCH")
    return value


def holds_directive(body: bytes) -> bool:
    return _DIRECTIVE_IN_DOCUMENT.search(body) is not None
