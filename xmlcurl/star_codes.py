"""Star codes that change a line's settings from its phone: forwards on and off (a
number typed after the code, asked for, or the last one reused), do not disturb, queue
log in and out, an agent's break (`provisioning.feature_codes` names them).

Pure. The route says what to change (`SettingChange`) and what the caller hears: the
xml_curl endpoint makes the change through the same use case as the panel
(`provisioning.line_settings`, with the document's rules: barring, forwarding loops,
valid numbers) and renders the confirmation, or, when the rules refuse it, the
refusal the route carries. Nothing is changed before the endpoint does it, so a
refused code changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from provisioning.feature_codes import FORWARDS, Dialled, Feature
from xmlcurl import fsnames as fs
from xmlcurl import handover
from xmlcurl.decisions import (
    Action,
    Answer,
    CollectDigits,
    DoNotDisturbChange,
    EarlyMedia,
    ForwardChange,
    Hangup,
    Prompt,
    QueueLogInChange,
    QueuePauseChange,
    Route,
    SettingChange,
    Tone,
)
from xmlcurl.inputs import LineData, TenantData
from xmlcurl.line import TONE_LOOPS, tone
from xmlcurl.request import CallRequest

_QUEUE_CODES = {Feature.QUEUE_LOG_IN: True, Feature.QUEUE_LOG_OUT: False}
_DND_CODES = {Feature.DND_ON: True, Feature.DND_OFF: False}
_PAUSE_CODES = {Feature.QUEUE_PAUSE: True, Feature.QUEUE_RESUME: False}
SETTING_CODES = frozenset(FORWARDS) | frozenset(_QUEUE_CODES)
SETTING_CODES |= frozenset(_DND_CODES) | frozenset(_PAUSE_CODES)
# Longest dial string Centrex routes (`validation.DIALABLE`): code and number together.
_MAX_DIALLED = 20
# FreeSWITCH has no prompt for a break: two beeps, falling when it starts, rising when
# it ends.
BREAK_TONES = {True: "%(150,50,1320);%(150,50,880)", False: "%(150,50,880);%(150,50,1320)"}


@dataclass(frozen=True)
class ToSettingCode:
    """A code changing a setting of the caller's own line."""

    caller_line: LineData
    dialled: Dialled


def refusal(tenant: TenantData, cause: str) -> tuple[Action, ...]:
    """What a refused code sounds like: an error tone, then a clean hang-up."""
    return (EarlyMedia(), Tone(tone(tenant.country, "unavailable"), TONE_LOOPS), Hangup(cause))


def _confirmed(heard: str) -> tuple[Action, ...]:
    """A prompt, or a tone_stream description, then a clean hang-up."""
    said = Tone(heard, 1) if heard.startswith("%(") else Prompt(heard)
    return (Answer(), said, Hangup(fs.NORMAL_CLEARING))


def route_setting_code(request: CallRequest, tenant: TenantData, target: ToSettingCode) -> Route:
    line, feature, argument = target.caller_line, target.dialled.feature, target.dialled.argument

    def route(name: str, actions: tuple[Action, ...], change: SettingChange | None) -> Route:
        return Route(request.context, request.destination, name, actions, change)

    def change(
        what: ForwardChange | DoNotDisturbChange | QueueLogInChange | QueuePauseChange,
        prompt: str,
        name: str,
    ) -> Route:
        refused = refusal(tenant, fs.CALL_REJECTED)
        setting = SettingChange(tenant.domain, line.extension, what, refused)
        return route(f"{name} by {line.extension}", _confirmed(prompt), setting)

    if feature in FORWARDS:
        kind, on = FORWARDS[feature]
        if not on:
            return change(ForwardChange(kind, False), fs.PROMPT_FORWARD_CANCELLED, f"{kind} off")
        if not argument and not request.star_code_asked:
            # Dialled alone: ask for the number; the code comes back with what was typed.
            room = _MAX_DIALLED - len(request.destination)
            ask = CollectDigits(fs.PROMPT_ENTER_NUMBER, request.destination, request.context, room)
            return route(
                f"{kind} on: number asked of {line.extension}",
                (Answer(), handover.star_code_asked(), ask),
                None,
            )
        what = ForwardChange(kind, True, argument or None)
        return change(what, fs.PROMPT_FORWARD_SET, f"{kind} on to {argument or 'the last number'}")
    if feature in _DND_CODES:
        on = _DND_CODES[feature]
        prompt = fs.PROMPT_DND_ON if on else fs.PROMPT_DND_OFF
        return change(DoNotDisturbChange(on), prompt, f"do not disturb {'on' if on else 'off'}")
    if feature in _PAUSE_CODES:
        paused = _PAUSE_CODES[feature]
        name = f"queue break {'starts' if paused else 'ends'}"
        return change(QueuePauseChange(paused), BREAK_TONES[paused], name)
    logged_in = _QUEUE_CODES[feature]
    if argument not in tenant.queue_numbers:
        return route(f"no queue {argument}", refusal(tenant, fs.UNALLOCATED_NUMBER), None)
    prompt = fs.PROMPT_LOGGED_IN if logged_in else fs.PROMPT_LOGGED_OUT
    state = "in to" if logged_in else "out of"
    return change(QueueLogInChange(argument, logged_in), prompt, f"log {state} queue {argument}")
