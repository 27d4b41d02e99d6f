"""The dialplan compiler: a call request plus the data it names → a `Route`.

Pure: no flask, no database, no clock (`now` is given). The loader is told what to
load by `lookup_for`; `compile_call` then decides.

How a failed ring is handled: before ringing, the route marks the channel with
`centrex_failover_for=<destination>`, and after the bridge it transfers back to the
same destination. FreeSWITCH evaluates dialplan conditions when it hunts, before any
bridge runs, so the outcome of a bridge can only be acted on by hunting again: the
new fetch carries `originate_disposition` (USER_BUSY, NO_ANSWER, USER_NOT_REGISTERED,
…) and the marker, and `compile_call` picks what follows — voicemail, or the tone
that matches the failure. A bridge that was answered never gets there:
`hangup_after_bridge=true` ends the call with the conversation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from phonenumbers import shortnumberinfo

from provisioning.validation import is_dialable
from xmlcurl import fsnames as fs
from xmlcurl.decisions import (
    Action,
    Answer,
    EarlyMedia,
    GatewayEndpoint,
    Hangup,
    Ring,
    Route,
    SetVariable,
    Tone,
    Transfer,
    UnsetVariable,
    UserEndpoint,
    Voicemail,
)
from xmlcurl.loader import CallData, GatewayData, LineData, TenantData
from xmlcurl.request import CallRequest

NO_ANSWER_SECONDS = 20
OUTBOUND_RING_SECONDS = 90
# Dialled from one's own phone to listen to one's own voicemail box.
VOICEMAIL_ACCESS_CODE = "*318"
TONE_LOOPS = 5

# Tones by country (ITU-T E.180): busy, and "unavailable" (congestion) for every other
# failure. Most of the world uses 425 Hz; North America 480+620 Hz; the UK 400 Hz.
_TONES = {
    "default": {"busy": "%(500,500,425)", "unavailable": "%(250,250,425)"},
    "US": {"busy": "%(500,500,480,620)", "unavailable": "%(250,250,480,620)"},
    "CA": {"busy": "%(500,500,480,620)", "unavailable": "%(250,250,480,620)"},
    "GB": {"busy": "%(375,375,400)", "unavailable": "%(400,350,400,450)"},
}
_CAUSE_NAME = re.compile(r"[A-Z_]{1,40}")


@dataclass(frozen=True)
class TenantLookup:
    domain: str
    extensions: tuple[str, ...]


@dataclass(frozen=True)
class PublicNumberLookup:
    candidates: tuple[str, ...]


Lookup = TenantLookup | PublicNumberLookup


def public_number_candidates(dialled: str, default_country: str) -> tuple[str, ...]:
    """The E.164 forms a number from the public network may stand for: carriers send
    `+33…`, `0033…`, `33…` or the national `0…`."""
    digits = dialled.lstrip("+")
    forms = {"+" + digits}
    if dialled.startswith("00"):
        forms.add("+" + dialled[2:])
    try:
        parsed = phonenumbers.parse(dialled, default_country)
        forms.add(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    except phonenumbers.NumberParseException:
        pass
    return tuple(sorted(forms))


def lookup_for(request: CallRequest, default_country: str) -> Lookup | None:
    """What the loader must fetch for this request; None when nothing can match."""
    if not is_dialable(request.destination):
        return None
    if request.context == fs.PUBLIC_CONTEXT:
        return PublicNumberLookup(public_number_candidates(request.destination, default_country))
    extensions = [request.destination]
    if request.caller_user and request.caller_user.isdigit():
        extensions.append(request.caller_user)
    return TenantLookup(request.context, tuple(extensions))


def _reject(request: CallRequest, cause: str, why: str) -> Route:
    return Route(request.context, request.destination, f"reject: {why}", (Hangup(cause),))


def compile_call(request: CallRequest, data: CallData | None, now: datetime) -> Route:
    """Decide what FreeSWITCH does with this call, now."""
    del now  # no time-dependent routing yet; the signature is the compile contract
    if not is_dialable(request.destination):
        return _reject(request, fs.INVALID_NUMBER_FORMAT, "not a dialable number")
    if data is None:
        if request.context == fs.PUBLIC_CONTEXT:
            return _reject(request, fs.UNALLOCATED_NUMBER, "not one of our numbers")
        return _reject(request, fs.NO_ROUTE_DESTINATION, "unknown context")

    if request.context == fs.PUBLIC_CONTEXT:
        line = data.lines.get(data.public_number_line or "")
    else:
        line = data.lines.get(request.destination)

    if request.failover_for is not None and request.failover_for == request.destination:
        return _after_failed_ring(request, data.tenant, line)

    if request.context == fs.PUBLIC_CONTEXT:
        if line is None:
            return _reject(request, fs.NO_ROUTE_DESTINATION, "number routed nowhere")
        return _ring_line(request, data.tenant, line)

    caller = _caller_line(request, data)
    if request.destination == VOICEMAIL_ACCESS_CODE:
        if caller is None or not caller.voicemail_enabled:
            return _reject(request, fs.UNALLOCATED_NUMBER, "no voicemail box")
        return Route(
            request.context,
            request.destination,
            f"voicemail of {caller.extension}",
            (Answer(), Voicemail(data.tenant.domain, caller.extension, check=True)),
        )
    if line is not None:
        return _ring_line(request, data.tenant, line)
    if caller is None:
        # Only the tenant's own authenticated lines may call out.
        return _reject(request, fs.UNALLOCATED_NUMBER, "unknown extension")
    return _outbound(request, data.tenant, caller)


def _caller_line(request: CallRequest, data: CallData) -> LineData | None:
    if request.caller_user is None or request.caller_domain != data.tenant.domain:
        return None
    return data.lines.get(request.caller_user)


def _bridge_settings(request: CallRequest) -> tuple[Action, ...]:
    return (
        SetVariable(fs.V_HANGUP_AFTER_BRIDGE, "true"),
        SetVariable(fs.V_CONTINUE_ON_FAIL, "true"),
        SetVariable(fs.V_FAILOVER_FOR, request.destination),
    )


def _ring_line(request: CallRequest, tenant: TenantData, line: LineData) -> Route:
    return Route(
        request.context,
        request.destination,
        f"ring {line.extension}",
        (
            *_bridge_settings(request),
            Ring((UserEndpoint(line.extension, tenant.domain),), NO_ANSWER_SECONDS),
            Transfer(request.destination, request.context),
        ),
    )


def _after_failed_ring(request: CallRequest, tenant: TenantData, line: LineData | None) -> Route:
    disposition = request.disposition or ""
    name = f"after ring: {disposition or 'unknown'}"
    if disposition in fs.ANSWERED_DISPOSITIONS:
        actions: tuple[Action, ...] = (Hangup(fs.NORMAL_CLEARING),)
    elif disposition == fs.ORIGINATOR_CANCEL:
        actions = (Hangup(fs.ORIGINATOR_CANCEL),)
    elif line is not None and line.voicemail_enabled:
        actions = (Answer(), Voicemail(tenant.domain, line.extension))
    else:
        kind = "busy" if disposition == fs.USER_BUSY else "unavailable"
        tone = _TONES.get(tenant.country, _TONES["default"])[kind]
        cause = disposition if _CAUSE_NAME.fullmatch(disposition) else fs.NORMAL_TEMPORARY_FAILURE
        actions = (EarlyMedia(), Tone(tone, TONE_LOOPS), Hangup(cause))
    return Route(
        request.context, request.destination, name, (UnsetVariable(fs.V_FAILOVER_FOR), *actions)
    )


def format_for_gateway(e164: str, number_format: str) -> str:
    if number_format == "e164-digits":
        return e164.lstrip("+")
    if number_format == "national":
        parsed = phonenumbers.parse(e164)
        national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        return re.sub(r"[^0-9]", "", national)
    return e164


def _outbound(request: CallRequest, tenant: TenantData, caller: LineData) -> Route:
    dialled = request.destination
    gateway: GatewayData | None = tenant.gateway
    if shortnumberinfo.is_emergency_number(dialled, tenant.country):
        number = dialled  # emergency short codes go out exactly as dialled
    else:
        try:
            parsed = phonenumbers.parse(dialled, tenant.country)
        except phonenumbers.NumberParseException:
            return _reject(request, fs.INVALID_NUMBER_FORMAT, "not a phone number")
        if not phonenumbers.is_valid_number(parsed):
            return _reject(request, fs.UNALLOCATED_NUMBER, "not a valid phone number")
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        number = format_for_gateway(e164, gateway.number_format) if gateway else e164
    if gateway is None:
        return _reject(request, fs.NO_ROUTE_DESTINATION, "tenant has no outbound gateway")

    caller_id: tuple[Action, ...] = (SetVariable(fs.V_EFFECTIVE_CID_NAME, caller.display_name),)
    presented = caller.public_number or tenant.main_number
    if presented:
        caller_id += (
            SetVariable(
                fs.V_EFFECTIVE_CID_NUMBER, format_for_gateway(presented, gateway.number_format)
            ),
        )
    return Route(
        request.context,
        request.destination,
        f"outbound {number}",
        (
            *caller_id,
            *_bridge_settings(request),
            Ring((GatewayEndpoint(tenant.domain, number),), OUTBOUND_RING_SECONDS),
            Transfer(request.destination, request.context),
        ),
    )
