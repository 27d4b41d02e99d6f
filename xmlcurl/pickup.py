"""Directed pickup: `**<extension>` from a tenant's phone takes the call ringing that
colleague's phone (what a BLF key's pickup dials). Group pickup: `*8` takes the call
ringing longest on the phone of a colleague who is in one of the picker's hunt groups.

Pure. The call ringing the colleague comes from the live state the event listener keeps
(`channels`: legs to a phone, not answered, with the caller's leg they were originated
from). FreeSWITCH's `intercept` bridges the picker to that caller, which cancels the
ringing; `intercept_unanswered_only` makes it refuse a call answered meanwhile. The
call must be on the node the picker's call is on; elsewhere, or when nothing rings,
the picker hears so.
"""

from __future__ import annotations

from provisioning.feature_codes import CODES, Feature, FeatureCode, feature_dialled
from xmlcurl import fsnames as fs
from xmlcurl.decisions import Answer, Hangup, Intercept, Prompt, Route
from xmlcurl.inputs import LineData
from xmlcurl.request import CallRequest


def pickup_target(destination: str, codes: tuple[FeatureCode, ...] = CODES) -> str | None:
    """The extension whose ringing call `destination` picks up, if it is a pickup code."""
    feature = feature_dialled(destination, codes)
    return feature.argument if feature is not None and feature.feature is Feature.PICKUP else None


def group_pickup(destination: str, codes: tuple[FeatureCode, ...] = CODES) -> bool:
    """Whether `destination` is the group pickup code."""
    feature = feature_dialled(destination, codes)
    return feature is not None and feature.feature is Feature.GROUP_PICKUP


def route_pickup(
    request: CallRequest,
    picker: LineData,
    caller_leg: str | None,
    codes: tuple[FeatureCode, ...] = CODES,
) -> Route:
    target = pickup_target(request.destination, codes) or "the picker's groups"
    if not caller_leg or target == picker.extension:
        return Route(
            request.context,
            request.destination,
            f"pickup of {target}: nothing rings",
            (Answer(), Prompt(fs.PROMPT_NOTHING_TO_PICK_UP), Hangup(fs.NORMAL_CLEARING)),
        )
    return Route(
        request.context,
        request.destination,
        f"pickup of {target} by {picker.extension}",
        # Taking the call answers the picker; if the leg is gone (answered, hung up or on
        # another node) intercept returns and the picker hears so.
        (
            Intercept(caller_leg),
            Answer(),
            Prompt(fs.PROMPT_NOTHING_TO_PICK_UP),
            Hangup(fs.NORMAL_CLEARING),
        ),
    )
