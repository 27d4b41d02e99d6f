"""The codes users dial to reach a feature rather than a number: one registry.

Pure. Each code is a fixed prefix, with what may follow it: nothing (`*318`), an
extension (`**1001`), a group's number (`*55300`) or a directory entry's code
(`##3435`). Extensions, short numbers and speed-dial codes are digits only, so no
number of a tenant can be taken for a code; `reserved` says whether a dial string is
one, for whatever else comes to be checked against them.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class Feature(enum.StrEnum):
    VOICEMAIL = "voicemail"  # one's own voicemail box
    PICKUP = "pickup"  # the call ringing a colleague's phone
    GROUP_LOG_IN = "group_log_in"  # log in to a hunt group (its number follows)
    GROUP_LOG_OUT = "group_log_out"
    DIRECTORY = "directory"  # a company directory entry's short code


_EXTENSION = re.compile(r"[0-9]{2,8}")
_GROUP_NUMBER = re.compile(r"[0-9]{2,8}")
_DIRECTORY_CODE = re.compile(r"[0-9]{2,8}")


@dataclass(frozen=True)
class FeatureCode:
    feature: Feature
    prefix: str
    # What must follow the prefix; None: nothing.
    argument: re.Pattern[str] | None = None


CODES = (
    FeatureCode(Feature.VOICEMAIL, "*318"),
    FeatureCode(Feature.PICKUP, "**", _EXTENSION),
    FeatureCode(Feature.GROUP_LOG_IN, "*55", _GROUP_NUMBER),
    FeatureCode(Feature.GROUP_LOG_OUT, "*56", _GROUP_NUMBER),
    FeatureCode(Feature.DIRECTORY, "##", _DIRECTORY_CODE),
)
PREFIX = {code.feature: code.prefix for code in CODES}


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


def reserved(dialled: str) -> bool:
    """Whether `dialled` starts like a feature code (never a number of a tenant)."""
    return any(dialled.startswith(code.prefix) for code in CODES)
