"""A user's call handling, as the tenant document describes it.

Forwarding (always, no answer, busy, unreachable), do not disturb, simultaneous and
sequential ring, selective handling by caller, rule lists with a weekly planner, and
caller ID. `check_call_handling` validates and normalises one user's settings, with
the same path-per-problem reporting as the rest of the document. Pure.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
from collections.abc import Callable, Container, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from provisioning import calendar as cal
from provisioning import validation as v
from provisioning.destinations import VOICEMAIL
from provisioning.errors import Message, said
from provisioning.numbering import Category, NotANumber, allowed, classify
from provisioning.week import NamedWeek, check_week

SECONDS_PER_RING = 5
NO_ANSWER_TO_NUMBER = (10, 90)  # seconds, forward to a number
NO_ANSWER_TO_VOICEMAIL = (0, 60)  # seconds, 0 = straight to voicemail
MAX_EXTRA_NUMBERS = 5
MAX_LIST = 50
PLANNER_RESOLUTION = 15  # minutes


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


class Callers(_Model):
    """Who a rule is about: typed numbers, company extensions, personal contacts."""

    numbers: list[str] = Field(default_factory=list, max_length=MAX_LIST)
    extensions: list[str] = Field(default_factory=list, max_length=MAX_LIST)
    contacts: list[str] = Field(default_factory=list, max_length=MAX_LIST)
    anonymous: bool = Field(default=False, description="Callers who withhold their number")
    enabled: bool = Field(
        default=True, description="Off: the list is kept as it is, and matches no caller"
    )


class Forward(_Model):
    to: str = Field(description="'voicemail', an extension, or a number")
    schedule: str | None = Field(default=None, description="Only while this schedule is in force")
    direct_only: bool = Field(default=False, description="Not for calls that came through a group")
    confirm: bool = Field(default=False, description="The forwarded party presses 1 to accept")


class NoAnswerForward(Forward):
    after: int | None = Field(default=None, description="Seconds of ringing first")
    rings: int | None = Field(default=None, description="Or: rings first (1 ring = 5 s)")

    @model_validator(mode="after")
    def _rings_to_seconds(self) -> NoAnswerForward:
        if self.rings is not None:
            if self.after is not None:
                raise ValueError("give either after (seconds) or rings, not both")
            self.after, self.rings = self.rings * SECONDS_PER_RING, None
        return self


class DoNotDisturb(_Model):
    enabled: bool = True
    priority_callers: Callers = Field(default_factory=Callers)


class Criteria(_Model):
    schedule: str | None = None
    callers: Callers | None = Field(default=None, description="Only for these callers")


# A ring switched off keeps its numbers and criteria, to be switched on again as it was
# (seed 003: the portals' on/off); a document without `enabled` means on.
RING_ENABLED = "Off: rings nothing, its numbers kept for when it is on again"


class SimultaneousRing(Criteria):
    enabled: bool = Field(default=True, description=RING_ENABLED)
    numbers: list[str] = Field(min_length=1, max_length=MAX_EXTRA_NUMBERS)
    skip_when_on_call: bool = Field(
        default=False, description="Do not ring them while I am on a call"
    )
    confirm: bool = False


class SequentialStep(_Model):
    number: str
    rings: int = Field(default=3, ge=1, le=12)


class SequentialRing(Criteria):
    enabled: bool = Field(default=True, description=RING_ENABLED)
    own_rings: int = Field(default=3, ge=1, le=12, description="My own line rings first")
    steps: list[SequentialStep] = Field(min_length=1, max_length=MAX_EXTRA_NUMBERS)
    confirm: bool = False


class SelectiveForward(_Model):
    callers: Callers
    to: str
    confirm: bool = False


class DistinctiveRing(_Model):
    callers: Callers
    ring: str = Field(description="Alert-Info ring name the phones know, e.g. Bellcore-dr2")


class Selective(_Model):
    forward: list[SelectiveForward] = Field(default_factory=list, max_length=10)
    reject: Callers | None = Field(default=None, description="Rejected, no voicemail")
    reject_anonymous: bool = False
    distinctive_ring: list[DistinctiveRing] = Field(default_factory=list, max_length=10)
    screening: Callers | None = Field(
        default=None, description="Callers who say their name first; the callee accepts or not"
    )


ActionKind = Literal[
    "ring", "forward", "voicemail", "reject", "screen", "ring_all", "ring_sequence"
]


class RuleAction(_Model):
    action: ActionKind
    to: str | None = Field(default=None, description="forward: the target")
    numbers: list[str] = Field(
        default_factory=list, max_length=MAX_EXTRA_NUMBERS, description="ring_all / ring_sequence"
    )
    rings: int = Field(default=3, ge=1, le=12, description="ring_sequence: rings per number")


class Rule(RuleAction):
    callers: Callers


class RuleList(_Model):
    name: str
    rules: list[Rule] = Field(default_factory=list, max_length=20)
    default: RuleAction


class PlannerPeriod(NamedWeek):
    """A named period of the week (15-minute resolution) that applies a rule list."""

    rule_list: str


class SpecialDays(_Model):
    rule_list: str
    tenant_holidays: bool = Field(default=True, description="The tenant's holidays count too")
    dates: list[datetime.date] = Field(default_factory=list, max_length=100)


class Planner(_Model):
    periods: list[PlannerPeriod] = Field(default_factory=list, max_length=3)
    special_days: SpecialDays | None = None


class CallerId(_Model):
    withhold: bool = Field(default=False, description="Present no number (CLIR)")
    outgoing_number: str | None = Field(
        default=None, description="One of the tenant's numbers, instead of my own"
    )
    hide_incoming: bool = Field(default=False, description="Do not show me who calls")


class RememberedForwards(_Model):
    """The number each forward was last set to, kept while it is off: its star code
    dialled alone turns it back on to that number (seed 003 §2.5.2)."""

    always: str | None = None
    busy: str | None = None
    no_answer: str | None = None


class CallHandling(_Model):
    forward_always: Forward | None = None
    forward_no_answer: NoAnswerForward | None = None
    forward_busy: Forward | None = None
    forward_unreachable: Forward | None = None
    do_not_disturb: DoNotDisturb | None = None
    simultaneous_ring: SimultaneousRing | None = None
    sequential_ring: SequentialRing | None = None
    selective: Selective = Field(default_factory=Selective)
    rule_lists: list[RuleList] = Field(default_factory=list, max_length=10)
    planner: Planner = Field(default_factory=Planner)
    caller_id: CallerId = Field(default_factory=CallerId)
    remembered_forwards: RememberedForwards = Field(default_factory=RememberedForwards)

    @property
    def dnd_on(self) -> bool:
        return self.do_not_disturb is not None and self.do_not_disturb.enabled


def stored_form(handling: CallHandling) -> dict[str, Any]:
    """What `users.call_handling` keeps: `handling.model_dump(mode="json",
    exclude_defaults=True)`. To leave out a part made by a default factory (selective,
    planner, caller ID …) pydantic builds a fresh default of it for every dump and
    compares: a third of the time of a 100,000-user apply's rows. The parts equal to a
    default built once are left out beforehand, by the same comparison (==)."""
    at_default = {
        name for name, default in _FACTORY_DEFAULTS.items() if getattr(handling, name) == default
    }
    return handling.model_dump(mode="json", exclude_defaults=True, exclude=at_default)


# What each default factory of CallHandling makes; never handed out (stored_form).
_FACTORY_DEFAULTS: dict[str, Any] = {
    name: field.default_factory()  # type: ignore[call-arg]
    for name, field in CallHandling.model_fields.items()
    if field.default_factory is not None
}


def stored_dnd_on(stored: Mapping[str, Any] | None) -> bool:
    """`CallHandling.dnd_on`, read from the stored form (the model dumped without its
    defaults, as `users.call_handling` keeps it) without building the model: the keys
    and the activity view read it for every line of a tenant at once."""
    dnd = (stored or {}).get("do_not_disturb")
    return isinstance(dnd, Mapping) and dnd.get("enabled", True) is not False


Fail = Callable[[str, Message], None]


class Context:
    """What a user's settings are checked against: the tenant around them."""

    def __init__(
        self,
        *,
        country: str,
        extension: str,
        extensions: Container[str],
        numbers: Container[str],
        schedules: set[str],
        contacts: set[str],
        allowed_destinations: frozenset[Category],
        voicemail_enabled: bool,
        fail: Fail,
        home: str | None = None,
    ) -> None:
        self.country = country
        self.extension = extension
        self.extensions = extensions
        self.numbers = numbers
        self.schedules = schedules
        self.contacts = contacts
        self.allowed_destinations = allowed_destinations
        # The tenant's main number: its area's geographic numbers are local calls.
        self.home = home
        self.voicemail_enabled = voicemail_enabled
        self.fail = fail

    def target(self, path: str, value: str, *, voicemail_ok: bool = True) -> str:
        """A forward target: voicemail, a company extension, or a number the user may
        call, normalised to E.164."""
        value = value.strip()
        if value.lower() == VOICEMAIL:
            if not voicemail_ok:
                self.fail(path, said("voicemail_not_here", "must be a number here, not voicemail"))
            elif not self.voicemail_enabled:
                self.fail(path, said("voicemail_off", "the user's voicemail is off"))
            return VOICEMAIL
        if value in self.extensions:
            if value == self.extension:
                self.fail(path, said("own_extension", "must not be the user's own extension"))
            return value
        try:
            typed = (
                v.check_public_number(value, self.country) if not v.is_dialable(value) else value
            )
            found = classify(typed, self.country, self.home)
        except (v.InvalidValue, NotANumber):
            self.fail(
                path,
                said("forward_target", "must be voicemail, a company extension or a phone number"),
            )
            return value
        if found.e164 is None:
            self.fail(
                path,
                said(
                    "short_number_target",
                    "must be a full phone number, not a short or emergency number",
                ),
            )
            return value
        if not allowed(found.category, self.allowed_destinations):
            self.fail(
                path,
                said(
                    "barred_destination",
                    "%(category)s numbers are not among the user's allowed destinations",
                    category=str(found.category),
                ),
            )
        return found.e164

    def remembered(self, path: str, value: str | None) -> str | None:
        """A remembered forward target: only its form is checked (voicemail, an
        extension, a phone number in E.164); turned on again, it is checked whole, as
        every forward is."""
        if value is None:
            return None
        value = value.strip()
        if value.lower() == VOICEMAIL:
            return VOICEMAIL
        if v.EXTENSION.fullmatch(value):
            return value
        try:
            return v.check_public_number(value, self.country)
        except v.InvalidValue:
            self.fail(path, "must be voicemail, a company extension or a phone number")
            return value

    def schedule(self, path: str, name: str | None) -> str | None:
        if name is not None and name.casefold() not in self.schedules:
            self.fail(path, v.unknown_schedule(name))
        return name

    def callers(self, path: str, callers: Callers | None) -> None:
        if callers is None:
            return
        normalised = []
        for i, number in enumerate(callers.numbers):
            try:
                normalised.append(v.check_public_number(number, self.country))
            except v.InvalidValue as exc:
                self.fail(f"{path}.numbers[{i}]", exc.said)
                normalised.append(number)
        callers.numbers = normalised
        for i, ext in enumerate(callers.extensions):
            if ext not in self.extensions:
                self.fail(f"{path}.extensions[{i}]", v.unknown_user(ext))
        for i, name in enumerate(callers.contacts):
            if name.casefold() not in self.contacts:
                self.fail(
                    f"{path}.contacts[{i}]",
                    said("unknown_contact", "no contact named %(name)r", name=name),
                )
        if not (callers.numbers or callers.extensions or callers.contacts or callers.anonymous):
            self.fail(path, said("no_callers", "must name at least one caller"))


def unconditional_forward(extension: str, fwd: Forward | None) -> str | None:
    """The colleague `extension` sends every call to, whoever calls and whenever: its
    forward always (`fwd`) to a company extension, without a schedule."""
    if fwd is None or fwd.schedule is not None or not fwd.to.isdigit() or fwd.to == extension:
        return None
    return fwd.to


def forwarding_circle(extension: str, forward_of: Callable[[str], str | None]) -> list[str] | None:
    """The circle of unconditional forwards `extension` is in (A → B → A), if any: with
    one, no call to them could ever be answered, so it is refused. Loops that depend on
    time or on callers are stopped at call time instead. `forward_of` gives each line's
    `unconditional_forward`."""
    seen, ext = [extension], forward_of(extension)
    while ext is not None and ext not in seen:
        seen.append(ext)
        ext = forward_of(ext)
    return [*seen, extension] if ext == extension else None


def check_call_handling(ch: CallHandling, ctx: Context, path: str) -> None:
    def forward(name: str, fwd: Forward | None, *, voicemail_ok: bool = True) -> None:
        if fwd is None:
            return
        fwd.to = ctx.target(f"{path}.{name}.to", fwd.to, voicemail_ok=voicemail_ok)
        fwd.schedule = ctx.schedule(f"{path}.{name}.schedule", fwd.schedule)

    forward("forward_always", ch.forward_always)
    forward("forward_busy", ch.forward_busy)
    forward("forward_unreachable", ch.forward_unreachable)
    forward("forward_no_answer", ch.forward_no_answer)
    if ch.forward_no_answer is not None:
        fna = ch.forward_no_answer
        low, high = NO_ANSWER_TO_VOICEMAIL if fna.to == VOICEMAIL else NO_ANSWER_TO_NUMBER
        if fna.after is None:
            fna.after = 20
        if not low <= fna.after <= high:
            ctx.fail(
                f"{path}.forward_no_answer.after",
                said(
                    "no_answer_delay_voicemail",
                    "must be %(low)d to %(high)d seconds for voicemail",
                    low=low,
                    high=high,
                )
                if fna.to == VOICEMAIL
                else said(
                    "no_answer_delay_number",
                    "must be %(low)d to %(high)d seconds for a number",
                    low=low,
                    high=high,
                ),
            )

    remembered = ch.remembered_forwards
    for kind in ("always", "busy", "no_answer"):
        target = getattr(remembered, kind)
        setattr(remembered, kind, ctx.remembered(f"{path}.remembered_forwards.{kind}", target))

    if ch.do_not_disturb is not None and ch.do_not_disturb.priority_callers != Callers():
        ctx.callers(f"{path}.do_not_disturb.priority_callers", ch.do_not_disturb.priority_callers)

    # A ring that is off is checked whole all the same, as do-not-disturb's priority
    # callers are while it is off: switched on again (a tick in the panel, `enabled`
    # by the API) it rings its numbers with no other check, and a barring that now
    # refuses one of them is said where it is set, not when the ring is switched on.
    for name in ("simultaneous_ring", "sequential_ring"):
        ring = getattr(ch, name)
        if ring is None:
            continue
        ring.schedule = ctx.schedule(f"{path}.{name}.schedule", ring.schedule)
        ctx.callers(f"{path}.{name}.callers", ring.callers)
    if ch.simultaneous_ring is not None:
        ch.simultaneous_ring.numbers = [
            ctx.target(f"{path}.simultaneous_ring.numbers[{i}]", n, voicemail_ok=False)
            for i, n in enumerate(ch.simultaneous_ring.numbers)
        ]
    if ch.sequential_ring is not None:
        for i, step in enumerate(ch.sequential_ring.steps):
            step.number = ctx.target(
                f"{path}.sequential_ring.steps[{i}].number", step.number, voicemail_ok=False
            )

    sel = ch.selective
    for i, fwd in enumerate(sel.forward):
        ctx.callers(f"{path}.selective.forward[{i}].callers", fwd.callers)
        fwd.to = ctx.target(f"{path}.selective.forward[{i}].to", fwd.to)
    ctx.callers(f"{path}.selective.reject", sel.reject)
    ctx.callers(f"{path}.selective.screening", sel.screening)
    for i, ring in enumerate(sel.distinctive_ring):
        ctx.callers(f"{path}.selective.distinctive_ring[{i}].callers", ring.callers)
        if not v.fits(v.ALERT_INFO_NAME, ring.ring):
            ctx.fail(
                f"{path}.selective.distinctive_ring[{i}].ring",
                said("ring_name", "must be letters, digits or -"),
            )

    list_names: dict[str, int] = {}
    for i, rule_list in enumerate(ch.rule_lists):
        lpath = f"{path}.rule_lists[{i}]"
        key = rule_list.name.casefold()
        if key in list_names:
            ctx.fail(
                f"{lpath}.name",
                said(
                    "name_taken",
                    "%(name)r is already %(other)s",
                    name=rule_list.name,
                    other=f"rule_lists[{list_names[key]}]",
                ),
            )
        list_names.setdefault(key, i)
        for k, rule in enumerate(rule_list.rules):
            ctx.callers(f"{lpath}.rules[{k}].callers", rule.callers)
            _check_action(ctx, f"{lpath}.rules[{k}]", rule)
        _check_action(ctx, f"{lpath}.default", rule_list.default)

    for i, period in enumerate(ch.planner.periods):
        ppath = f"{path}.planner.periods[{i}]"
        if period.rule_list.casefold() not in list_names:
            ctx.fail(f"{ppath}.rule_list", _unknown_rule_list(period.rule_list))
        check_week(period, ppath, ctx.fail, resolution=PLANNER_RESOLUTION)
    _check_planner_overlap(ctx, f"{path}.planner.periods", ch.planner.periods)
    special = ch.planner.special_days
    if special is not None and special.rule_list.casefold() not in list_names:
        ctx.fail(f"{path}.planner.special_days.rule_list", _unknown_rule_list(special.rule_list))

    cid = ch.caller_id
    if cid.outgoing_number is not None:
        try:
            cid.outgoing_number = v.check_public_number(cid.outgoing_number, ctx.country)
        except v.InvalidValue as exc:
            ctx.fail(f"{path}.caller_id.outgoing_number", exc.said)
            return
        if cid.outgoing_number not in ctx.numbers:
            ctx.fail(f"{path}.caller_id.outgoing_number", v.NOT_TENANT_NUMBER)


def _unknown_rule_list(name: str) -> Message:
    return said("unknown_rule_list", "no rule list named %(name)r", name=name)


def _check_action(ctx: Context, path: str, action: RuleAction) -> None:
    if action.action == "forward":
        if action.to is None:
            ctx.fail(f"{path}.to", said("forward_needs_target", "forward needs a target"))
        else:
            action.to = ctx.target(f"{path}.to", action.to)
    elif action.to is not None:
        ctx.fail(
            f"{path}.to",
            said(
                "target_not_taken",
                "only forward takes a target, not %(action)s",
                action=action.action,
            ),
        )
    if action.action in {"ring_all", "ring_sequence"}:
        if not action.numbers:
            ctx.fail(
                f"{path}.numbers",
                said(
                    "ring_needs_numbers",
                    "%(action)s needs at least one number",
                    action=action.action,
                ),
            )
        action.numbers = [
            ctx.target(f"{path}.numbers[{i}]", n, voicemail_ok=False)
            for i, n in enumerate(action.numbers)
        ]
    elif action.numbers:
        ctx.fail(
            f"{path}.numbers",
            said("numbers_not_taken", "only ring_all and ring_sequence take numbers"),
        )


def _check_planner_overlap(ctx: Context, path: str, periods: list[PlannerPeriod]) -> None:
    """Two planner periods may not claim the same quarter hour."""
    for day in cal.WEEKDAYS:
        spans = []
        for i, period in enumerate(periods):
            for text in getattr(period, day):
                with contextlib.suppress(cal.InvalidPeriod):
                    spans.append((cal.parse_period(text), i))
        spans.sort()
        for (a, i), (b, j) in itertools.pairwise(spans):
            if b.start < a.end and i != j:
                ctx.fail(
                    f"{path}[{j}].{day}",
                    said(
                        "planner_overlap",
                        "overlaps %(name)r (%(period)s)",
                        name=periods[i].name,
                        period=str(a),
                    ),
                )
