"""Speed dials and the company directory's short codes, dialled by every user.

Pure. `550` (a speed dial) or `##3435` (a directory entry's code) stand for an external
number; the call then goes out exactly as if the user had dialled that number — caller
ID, CLIR and call barring included — through `xmlcurl.dialplan`'s outbound path.
"""

from __future__ import annotations

from xmlcurl.inputs import TenantData

# Directory entries' short codes are dialled after it (`##3435`).
DIRECTORY_PREFIX = "##"


def speed_dial_number(tenant: TenantData, dialled: str) -> str | None:
    """The external number `dialled` stands for, or None."""
    if dialled.startswith(DIRECTORY_PREFIX):
        return tenant.directory_codes.get(dialled.removeprefix(DIRECTORY_PREFIX))
    return tenant.speed_dials.get(dialled)
