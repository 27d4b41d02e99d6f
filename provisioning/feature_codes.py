"""The codes users dial to reach a feature rather than a number: one registry.

Pure. Each code is a prefix, with what may follow it: nothing (`*318`, `*73`), an
extension (`**1001`), a group's or queue's number (`*55300`), a directory entry's code
(`##3435`), a number to forward to, optional (`*72`, `*720612345678`), or a number to
call (`#31#0612345678`). Extensions, short numbers and speed-dial codes are digits
only, and every code starts with `*` or `#`, so no number of a tenant can be taken for
a code.

A tenant may give any feature another code (the document's `feature_codes`, checked
by `check_feature_codes`); `codes_for` gives the tenant's whole set, defaults included.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from provisioning.errors import Message, said
from provisioning.numbering import Category
from provisioning.validation import EXTENSION


class Feature(enum.StrEnum):
    VOICEMAIL = "voicemail"  # one's own voicemail box
    PICKUP = "pickup"  # the call ringing a colleague's phone
    GROUP_PICKUP = "group_pickup"  # the call ringing a colleague of one of my groups
    GROUP_LOG_IN = "group_log_in"  # log in to a hunt group (its number follows)
    GROUP_LOG_OUT = "group_log_out"
    DIRECTORY = "directory"  # a company directory entry's short code
    # Forwards on (a number follows, or nothing: the last one) and off (seed 003 §2.5.2).
    FORWARD_ALWAYS_ON = "forward_always_on"
    FORWARD_ALWAYS_OFF = "forward_always_off"
    FORWARD_BUSY_ON = "forward_busy_on"
    FORWARD_BUSY_OFF = "forward_busy_off"
    FORWARD_NO_ANSWER_ON = "forward_no_answer_on"
    FORWARD_NO_ANSWER_OFF = "forward_no_answer_off"
    DND_ON = "dnd_on"
    DND_OFF = "dnd_off"
    # This one call: the number dialled after the code, with my number shown / withheld.
    SHOW_CALLER_ID = "show_caller_id"
    WITHHOLD_CALLER_ID = "withhold_caller_id"
    QUEUE_LOG_IN = "queue_log_in"  # log in to a queue as its agent (its number follows)
    QUEUE_LOG_OUT = "queue_log_out"
    QUEUE_PAUSE = "queue_pause"  # an agent's break: logged in, offered no calls
    QUEUE_RESUME = "queue_resume"
    # During a call, `*3` (FreeSWITCH's meta key `*` then 3) runs this code on the
    # caller's channel: the call moves into the caller's ad-hoc conference.
    CONFERENCE = "conference"
    # The number-collecting step of a DTMF transfer, run by FreeSWITCH on the leg that
    # pressed the transfer keys in a call (`xmlcurl.transfer`); not a code to dial.
    TRANSFER = "transfer"


# What follows a code: an extension, a group's or queue's number or a directory code,
# all of the form of an extension.
_NUMBER = EXTENSION
# A forward's target as typed on a phone's keypad: an extension or a phone number
# (national, or international with 00). Nothing: the last target (seed 003 §2.5.2).
_FORWARD_TARGET = re.compile(r"(?:[0-9]{2,20})?")
# A number to call, as it would be dialled without the code.
_CALLED = re.compile(r"[0-9]{1,20}")

# A tenant's own code: `*` or `#` first (so that it is never an extension or a speed
# dial, which are digits), then keypad keys.
CODE = re.compile(r"[*#][0-9*#]{1,7}")


@dataclass(frozen=True)
class FeatureCode:
    feature: Feature
    prefix: str
    # What must follow the prefix; None: nothing.
    argument: re.Pattern[str] | None = None
    # Its call-barring category: star codes are access codes, those that change the
    # line's settings a kind of their own; None for a code that stands for a number
    # (the number's own category applies).
    category: Category | None = Category.ACCESS_CODES


TRANSFER_CODE = "*96"

# Seed 003 §2.5.2 (*72, *90, *92, *318); the "off" codes are the usual next ones. The
# per-call caller ID codes are the GSM ones (`*31#`, `#31#`): `*31` alone would make
# `*318` ambiguous.
CODES = (
    FeatureCode(Feature.VOICEMAIL, "*318"),
    FeatureCode(Feature.PICKUP, "**", _NUMBER),
    FeatureCode(Feature.GROUP_PICKUP, "*8"),
    FeatureCode(Feature.GROUP_LOG_IN, "*55", _NUMBER, Category.SETTING_CODES),
    FeatureCode(Feature.GROUP_LOG_OUT, "*56", _NUMBER, Category.SETTING_CODES),
    FeatureCode(Feature.DIRECTORY, "##", _NUMBER, None),
    FeatureCode(Feature.FORWARD_ALWAYS_ON, "*72", _FORWARD_TARGET, Category.SETTING_CODES),
    FeatureCode(Feature.FORWARD_ALWAYS_OFF, "*73", None, Category.SETTING_CODES),
    FeatureCode(Feature.FORWARD_BUSY_ON, "*90", _FORWARD_TARGET, Category.SETTING_CODES),
    FeatureCode(Feature.FORWARD_BUSY_OFF, "*91", None, Category.SETTING_CODES),
    FeatureCode(Feature.FORWARD_NO_ANSWER_ON, "*92", _FORWARD_TARGET, Category.SETTING_CODES),
    FeatureCode(Feature.FORWARD_NO_ANSWER_OFF, "*93", None, Category.SETTING_CODES),
    FeatureCode(Feature.DND_ON, "*78", None, Category.SETTING_CODES),
    FeatureCode(Feature.DND_OFF, "*79", None, Category.SETTING_CODES),
    # The number dialled after these is barred or not by its own category.
    FeatureCode(Feature.SHOW_CALLER_ID, "*31#", _CALLED, None),
    FeatureCode(Feature.WITHHOLD_CALLER_ID, "#31#", _CALLED, None),
    FeatureCode(Feature.QUEUE_LOG_IN, "*57", _NUMBER, Category.SETTING_CODES),
    FeatureCode(Feature.QUEUE_LOG_OUT, "*58", _NUMBER, Category.SETTING_CODES),
    FeatureCode(Feature.QUEUE_PAUSE, "*59", None, Category.SETTING_CODES),
    FeatureCode(Feature.QUEUE_RESUME, "*60", None, Category.SETTING_CODES),
    # A key pressed during a call, not a number: never barred.
    FeatureCode(Feature.CONFERENCE, "*3", None, None),
    # FreeSWITCH's own step of a DTMF transfer, not a number: never barred.
    FeatureCode(Feature.TRANSFER, TRANSFER_CODE, None, None),
)
DEFAULTS = {code.feature: code.prefix for code in CODES}

# The forward each forwarding code is about (the stored `forward_<kind>`), and whether
# it turns it on.
FORWARDS: dict[Feature, tuple[str, bool]] = {
    Feature.FORWARD_ALWAYS_ON: ("always", True),
    Feature.FORWARD_ALWAYS_OFF: ("always", False),
    Feature.FORWARD_BUSY_ON: ("busy", True),
    Feature.FORWARD_BUSY_OFF: ("busy", False),
    Feature.FORWARD_NO_ANSWER_ON: ("no_answer", True),
    Feature.FORWARD_NO_ANSWER_OFF: ("no_answer", False),
}


def codes_for(overrides: Mapping[str, str] | None) -> tuple[FeatureCode, ...]:
    """A tenant's codes: the defaults, with the prefixes its document gives instead
    (feature name → code, as `check_feature_codes` accepted them)."""
    if not overrides:
        return CODES
    return _codes_for(tuple(sorted(overrides.items())))


@lru_cache(maxsize=1024)
def _codes_for(overrides: tuple[tuple[str, str], ...]) -> tuple[FeatureCode, ...]:
    given = dict(overrides)
    return tuple(
        FeatureCode(
            code.feature, given.get(code.feature.value, code.prefix), code.argument, code.category
        )
        for code in CODES
    )


@dataclass(frozen=True)
class Dialled:
    """A feature code as dialled, and what followed its prefix ("" when nothing may)."""

    feature: Feature
    argument: str = ""
    # Its code's barring category (what it is, not what was dialled: not compared).
    category: Category | None = field(default=Category.ACCESS_CODES, compare=False)


# What every code starts with (CODE; the defaults too): a number that does not is no
# code, told at once (every dialplan fetch asks several times).
CODE_STARTS = ("*", "#")


def feature_dialled(dialled: str, codes: tuple[FeatureCode, ...] = CODES) -> Dialled | None:
    """The feature `dialled` asks for, if it is a whole code (prefix and argument)."""
    if not dialled.startswith(CODE_STARTS):
        return None
    for code in codes:
        rest = dialled.removeprefix(code.prefix)
        if rest == dialled:
            continue
        if code.argument is None and rest == "":
            return Dialled(code.feature, "", code.category)
        if code.argument is not None and code.argument.fullmatch(rest):
            return Dialled(code.feature, rest, code.category)
    return None


def code_prefix(dialled: str, codes: tuple[FeatureCode, ...] = CODES) -> FeatureCode | None:
    """The code `dialled` starts with (the longest), whether or not what follows is
    right: a code followed by junk is refused as such, never dialled out as a number."""
    if not dialled.startswith(CODE_STARTS):
        return None
    started = [code for code in codes if dialled.startswith(code.prefix)]
    return max(started, key=lambda code: len(code.prefix), default=None)


def _clash(a: FeatureCode, b: FeatureCode) -> bool:
    """Whether some dial string could be read as either code: same prefix, or one
    prefix starts the other and the shorter takes what follows it."""
    if a.prefix == b.prefix:
        return True
    short, long = sorted((a, b), key=lambda c: len(c.prefix))
    return long.prefix.startswith(short.prefix) and short.argument is not None


def check_feature_codes(overrides: dict[str, str], fail: Callable[[str, Message], None]) -> None:
    """A tenant's `feature_codes`: known features, codes of `*`, `#` and digits starting
    with `*` or `#`, and no two codes (its own and the defaults it keeps) that one dial
    string could stand for."""
    known = {f.value for f in Feature}
    for name, code in overrides.items():
        path = f"feature_codes.{name}"
        if name not in known:
            fail(
                path,
                said(
                    "unknown_feature",
                    "no feature %(name)r; features: %(known)s",
                    name=name,
                    known=", ".join(sorted(known)),
                ),
            )
        elif not CODE.fullmatch(code):
            fail(path, said("feature_code_form", "must be * or # then 1 to 7 digits, * or #"))
    if any(name not in known or not CODE.fullmatch(c) for name, c in overrides.items()):
        return
    codes = codes_for(overrides)
    for i, a in enumerate(codes):
        for b in codes[i + 1 :]:
            if _clash(a, b):
                # Reported on the tenant's own code (the one it can change).
                mine = a if a.feature.value in overrides else b
                other = b if mine is a else a
                fail(
                    f"feature_codes.{mine.feature.value}",
                    said(
                        "feature_code_clash",
                        "%(code)s clashes with %(other)s (%(feature)s)",
                        code=mine.prefix,
                        other=other.prefix,
                        feature=other.feature.value,
                    ),
                )
