"""The codes users dial to reach a feature rather than a number: one registry.

Pure. Each code is a fixed prefix, with what may follow it: nothing (`*318`), an
extension (`**1001`), a group's number (`*55300`) or a directory entry's code
(`##3435`). Extensions, short numbers and speed-dial codes are digits only, so no
number of a tenant can be taken for a code.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from provisioning.validation import EXTENSION


class Feature(enum.StrEnum):
    VOICEMAIL = "voicemail"  # one's own voicemail box
    PICKUP = "pickup"  # the call ringing a colleague's phone
    GROUP_LOG_IN = "group_log_in"  # log in to a hunt group (its number follows)
    GROUP_LOG_OUT = "group_log_out"
    DIRECTORY = "directory"  # a company directory entry's short code
    # The number-collecting step of a DTMF transfer, run by FreeSWITCH on the leg that
    # pressed the transfer keys in a call (`xmlcurl.transfer`); not a code to dial.
    TRANSFER = "transfer"


# What follows a code: an extension, a group's number or a directory code, all of the
# form of an extension.
_NUMBER = EXTENSION


@dataclass(frozen=True)
class FeatureCode:
    feature: Feature
    prefix: str
    # What must follow the prefix; None: nothing.
    argument: re.Pattern[str] | None = None


TRANSFER_CODE = "*96"

CODES = (
    FeatureCode(Feature.VOICEMAIL, "*318"),
    FeatureCode(Feature.PICKUP, "**", _NUMBER),
    FeatureCode(Feature.GROUP_LOG_IN, "*55", _NUMBER),
    FeatureCode(Feature.GROUP_LOG_OUT, "*56", _NUMBER),
    FeatureCode(Feature.DIRECTORY, "##", _NUMBER),
    FeatureCode(Feature.TRANSFER, TRANSFER_CODE),
)


@dataclass(frozen=True)
class Dialled:
    """A feature code as dialled, and what followed its prefix ("" when nothing may)."""

    feature: Feature
    argument: str = ""


def feature_dialled(dialled: str) -> Dialled | None:
    """The feature `dialled` asks for, if it is a whole code (prefix and argument)."""
    for code in CODES:
        rest = dialled.removeprefix(code.prefix)
        if rest == dialled:
            continue
        if code.argument is None and rest == "":
            return Dialled(code.feature)
        if code.argument is not None and code.argument.fullmatch(rest):
            return Dialled(code.feature, rest)
    return None
