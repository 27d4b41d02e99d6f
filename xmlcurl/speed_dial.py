"""Speed dials and the company directory's short codes, dialled by every user.

Pure. `550` (a speed dial) or `##3435` (a directory entry's code) stand for an external
number; the call then goes out exactly as if the user had dialled that number — caller
ID, CLIR and call barring included — through `xmlcurl.dialplan`'s outbound path.
"""

from __future__ import annotations

from provisioning.feature_codes import Feature, feature_dialled
from xmlcurl.inputs import TenantData


def speed_dial_number(tenant: TenantData, dialled: str) -> str | None:
    """The external number `dialled` stands for, or None."""
    feature = feature_dialled(dialled, tenant.feature_codes)
    if feature is not None and feature.feature is Feature.DIRECTORY:
        return tenant.directory_codes.get(feature.argument)
    return tenant.speed_dials.get(dialled)
