"""The tenant document: one YAML/JSON file that describes a whole tenant.

`parse_document` checks the structure (pydantic) and then every value
(`provisioning.validation`), collecting all problems with the path of the offending
field, and returns the document in canonical form (numbers in E.164, text trimmed).
`dump_document` writes the canonical form back, leaving out what equals the default,
so that export(apply(doc)) gives doc back for a canonical doc. Pure: no I/O.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Container
from dataclasses import dataclass
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from provisioning import validation as v
from provisioning import yaml_text
from provisioning.call_handling import (
    CallHandling,
    Context,
    Forward,
    check_call_handling,
    forwarding_circle,
    unconditional_forward,
)
from provisioning.caller_id_policy import OutgoingCallerId, check_outgoing_caller_ids
from provisioning.conferences import ConferenceDoc, check_conferences
from provisioning.errors import DocumentInvalid, Message, Problem, said, structure_problem
from provisioning.feature_codes import check_feature_codes
from provisioning.numbering import (
    DEFAULT_BARRED,
    OUTSIDE_LINE_PREFIX,
    Category,
    allowed_from_barring,
    allowed_from_legacy,
    barring_from_allowed,
    line_numbers,
)
from provisioning.park import ParkDoc, check_park
from provisioning.tenant_routing import (
    Destination,
    DirectoryEntryDoc,
    GroupDoc,
    NumberRoute,
    QueueDoc,
    RoutingContext,
    SpeedDialDoc,
    check_number_routes,
    check_routing,
    check_speed_dials,
)
from provisioning.week import NamedWeek, check_week

# Every tenant has it; a schedule of that name in the document replaces its periods.
DEFAULT_SCHEDULE = "office hours"
DEFAULT_SCHEDULE_PERIODS = ["08:00-12:00", "14:00-18:00"]


class _Model(BaseModel):
    # Strings from YAML ("5", "true") are coerced; JSON numbers become strings where a
    # string is expected (extensions). Unknown fields are errors, not silently dropped.
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, validate_assignment=False)


class VoicemailDoc(_Model):
    enabled: bool = True
    pin: str | None = Field(default=None, description="6–8 digits; required when enabled")
    emails: list[str] = Field(default_factory=list, max_length=5)


class ContactDoc(_Model):
    """A personal contact: a name selective rules can refer to, and its numbers."""

    name: str
    numbers: list[str] = Field(min_length=1, max_length=5)


class UserDoc(_Model):
    extension: str = Field(description="2–8 digits, unique in the tenant; also the SIP user")
    name: str = Field(description="Display name, shown as caller name")
    sip_password: str = Field(description="12–64 chars, lower+upper case and digits")
    public_number: str | None = Field(
        default=None, description="One of the tenant's numbers, presented on outbound calls"
    )
    voicemail: VoicemailDoc = Field(default_factory=VoicemailDoc)
    max_concurrent_calls: int = Field(default=5, ge=1, le=50)
    call_waiting: bool = True
    call_barring: list[Category] = Field(
        default_factory=lambda: sorted(DEFAULT_BARRED),
        description="What the user may not call, forwards and transfers included: local, "
        "national, international, premium, operator, directory, access_codes, "
        "setting_codes; emergency numbers are never barred",
    )
    contacts: list[ContactDoc] = Field(default_factory=list, max_length=500)
    call_handling: CallHandling = Field(default_factory=CallHandling)
    panel_admin: bool = Field(
        default=False, description="Manages the tenant's users in the panel (and acts for them)"
    )
    allowed_destinations: list[Category] | None = Field(
        default=None,
        description="Former form of call_barring, still read: what the user may call "
        "(national then took in local numbers, premium operator and directory numbers; "
        "star codes were never barred)",
    )

    @property
    def allowed(self) -> frozenset[Category]:
        """What the user may call: the complement of `call_barring`."""
        return allowed_from_barring(frozenset(self.call_barring))


class NumberDoc(_Model):
    number: str = Field(description="Public number (DID), national or E.164 form")
    label: str = ""
    user: str | None = Field(default=None, description="Extension that takes calls to it")
    routes: list[NumberRoute] = Field(
        default_factory=list,
        max_length=10,
        description="By schedule: the first whose schedule is in force takes the call",
    )
    otherwise: Destination | None = Field(
        default=None, description="When no route's schedule is in force"
    )


class GatewayDoc(_Model):
    proxy: str = Field(description="Carrier SIP server, host[:port]")
    username: str | None = None
    password: str | None = None
    registration: bool = Field(default=False, description="Register to the carrier")
    transport: Literal["udp", "tcp", "tls"] = "udp"
    number_format: Literal["e164", "e164-digits", "national"] = "e164"


class ScheduleDoc(NamedWeek):
    """A weekly schedule: up to 3 non-overlapping periods a day, or the opposite of
    another schedule ("non-…"), kept in step with it."""

    opposite_of: str | None = None


class HolidayDoc(_Model):
    """A closed day (`date`) or range of days (`from`…`to`, both included)."""

    model_config = ConfigDict(populate_by_name=True)

    name: str
    date: datetime.date | None = None
    first: datetime.date | None = Field(default=None, alias="from")
    last: datetime.date | None = Field(default=None, alias="to")


class TenantDoc(_Model):
    domain: str = Field(description="SIP domain of the tenant; also its dialplan context")
    name: str
    timezone: str = Field(description="IANA time zone, e.g. Europe/Paris")
    country: str = Field(description="ISO 3166 code: reads national numbers, picks holidays")
    main_number: str | None = Field(
        default=None, description="Presented on outbound calls of users without a number"
    )
    outside_line_prefix: bool = Field(
        default=False,
        description="Outside numbers are dialled 0 + the number; extensions and codes bare",
    )
    outgoing_caller_ids: list[OutgoingCallerId] = Field(
        default_factory=list,
        max_length=100,
        description="Which number chosen users' and groups' members' outside calls present",
    )
    gateway: GatewayDoc | None = None
    schedules: list[ScheduleDoc] = Field(default_factory=list)
    holidays: list[HolidayDoc] = Field(default_factory=list)
    numbers: list[NumberDoc] = Field(default_factory=list)
    users: list[UserDoc] = Field(default_factory=list)
    groups: list[GroupDoc] = Field(default_factory=list, max_length=200)
    queues: list[QueueDoc] = Field(default_factory=list, max_length=100)
    speed_dials: list[SpeedDialDoc] = Field(default_factory=list, max_length=500)
    directory: list[DirectoryEntryDoc] = Field(default_factory=list, max_length=2000)
    feature_codes: dict[str, str] = Field(
        default_factory=dict,
        description="Star codes of the tenant's own: feature name → code (*… or #…)",
    )
    park: ParkDoc | None = Field(default=None, description="Call park slots; absent: no parking")
    conferences: list[ConferenceDoc] = Field(default_factory=list, max_length=200)


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class Checker:
    """Runs value checks, collecting problems instead of stopping at the first: what
    checks one item alone against the document's rules uses it too (park, rooms)."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def __call__(
        self, path: str, check: Callable[..., str], value: str, *args: Any, **kw: Any
    ) -> str:
        try:
            return check(value, *args, **kw)
        except v.InvalidValue as exc:
            self.problems.append(Problem(path, exc.said))
            return value

    def fail(self, path: str, message: Message) -> None:
        self.problems.append(Problem(path, message))


def parse_document(raw: Any) -> TenantDoc:
    """Structure + values → canonical `TenantDoc`, or `DocumentInvalid` with every problem."""
    users: list[UserDoc] = []
    doc = parse_document_users(raw, users.append)
    doc.users = users
    return doc


def parse_document_users(raw: Any, take: Callable[[UserDoc], None]) -> TenantDoc:
    """`parse_document`, handing each user to `take` once checked, in document order,
    instead of keeping it in the document (whose `users` stay empty): the users of a
    large tenant are never all held as models at once (4 kB each). Every user is
    checked before the document is judged: what `take` was given is to be dropped when
    this raises `DocumentInvalid`."""
    doc, raw_users, before_users, after_users = _structure(raw)
    users_structure: list[Any] = []
    # Problems in the order the checks have always run: the tenant's values, then each
    # user's own values, then each user's contacts and call handling (against every
    # extension of the tenant), then what spans users, groups, queues and numbers.
    check, handling, spanning = Checker(), Checker(), Checker()
    numbers: dict[str, str] = {}  # E.164 → path of its first mention
    tenant = None if doc is None else _check_tenant(doc, numbers, check)
    # Built once: per user they would make validation quadratic in the tenant's size.
    all_extensions = {e for e in map(_extension_of, raw_users) if e is not None}
    all_numbers = set(numbers)
    extensions: dict[str, int] = {}  # extension → index of its first user
    voicemail_users: set[str] = set()
    forwards: list[tuple[str, Forward | None]] = []
    for i, raw_user in enumerate(raw_users):
        try:
            user = UserDoc.model_validate(raw_user)
        except PydanticValidationError as exc:
            errors = exc.errors(include_url=False)
            users_structure += [{**e, "loc": ("users", i, *e["loc"])} for e in errors]
            continue
        if tenant is None or users_structure:
            continue  # only structural problems will be reported
        path = f"users[{i}]"
        _check_user(user, path, i, tenant, numbers, extensions, check)
        _check_user_handling(user, path, tenant, all_extensions, all_numbers, handling)
        if user.voicemail.enabled:
            voicemail_users.add(user.extension)
        forwards.append((user.extension, user.call_handling.forward_always))
        take(user)
    structure = before_users + users_structure + after_users
    if structure:
        raise DocumentInvalid([structure_problem(_path(e["loc"]), e) for e in structure])
    assert doc is not None and tenant is not None  # else there are structural problems
    _check_forwarding_loops(forwards, spanning)
    for i, num in enumerate(doc.numbers):
        if num.user is not None and num.user not in extensions:
            spanning.fail(f"numbers[{i}].user", v.unknown_user(num.user))
    routing = RoutingContext(
        country=tenant.country,
        users=all_extensions,
        voicemail_users=voicemail_users,
        schedules=tenant.schedules,
        check=spanning,
        fail=spanning.fail,
    )
    taken = {ext: f"users[{i}]" for ext, i in extensions.items()}
    routing.conferences = check_conferences(
        doc.conferences, taken, tenant.country, spanning, spanning.fail
    )
    check_routing(doc.groups, doc.queues, taken, routing)
    for i, num in enumerate(doc.numbers):
        if num.user is not None and (num.routes or num.otherwise is not None):
            spanning.fail(
                f"numbers[{i}].user",
                said("user_or_routes", "give either user, or routes and otherwise"),
            )
        check_number_routes(num.routes, num.otherwise, f"numbers[{i}]", routing)
    check_speed_dials(doc.speed_dials, doc.directory, taken, routing)
    check_park(doc.park, taken, routing)
    check_outgoing_caller_ids(
        doc.outgoing_caller_ids,
        read_number=lambda number: tenant.read_number(number, tenant.country),
        numbers=all_numbers,
        main_number=doc.main_number,
        users=all_extensions,
        groups={g.name.casefold() for g in doc.groups},
        fail=spanning.fail,
    )
    if doc.outside_line_prefix:
        _check_dialled_bare(doc, extensions, spanning)
    _check_gateway(doc, spanning)
    check_feature_codes(doc.feature_codes, spanning.fail)
    problems = check.problems + handling.problems + spanning.problems
    if problems:
        raise DocumentInvalid(problems)
    return doc


# Structural problems are listed in field order (pydantic's), whether the users are
# validated with the rest of the document or one by one.
_BEFORE_USERS = set(list(TenantDoc.model_fields)[: list(TenantDoc.model_fields).index("users")])


def _structure(raw: Any) -> tuple[TenantDoc | None, list[Any], list[Any], list[Any]]:
    """The document but its users (None when that part has structural problems), its
    users as given, and the structural problems of that part that come before the
    users' and after them."""
    if isinstance(raw, dict) and isinstance(raw.get("users", []), list):
        raw_users = raw.get("users", [])
        try:
            return TenantDoc.model_validate({**raw, "users": []}), raw_users, [], []
        except PydanticValidationError as exc:
            errors = exc.errors(include_url=False)
        before = [e for e in errors if e["loc"] and e["loc"][0] in _BEFORE_USERS]
        return None, raw_users, before, [e for e in errors if e not in before]
    # Not a document with a list of users: validated whole, as it always was.
    try:
        doc = TenantDoc.model_validate(raw)
    except PydanticValidationError as exc:
        raise DocumentInvalid(
            [structure_problem(_path(e["loc"]), e) for e in exc.errors(include_url=False)]
        ) from None
    users, doc.users = doc.users, []
    return doc, list(users), [], []


class _Extension(BaseModel):
    """A user's extension read as UserDoc reads it, whatever else the user holds."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    extension: str


def _extension_of(raw_user: Any) -> str | None:
    if isinstance(raw_user, UserDoc):
        return raw_user.extension
    try:
        return _Extension.model_validate(raw_user).extension
    except PydanticValidationError:
        return None  # a structural problem, reported as such


@dataclass(frozen=True)
class _Tenant:
    """What a user's values are checked against, and how its numbers are read."""

    country: str
    schedules: set[str]
    read_number: Callable[[str, str], str]
    # The tenant's main number: its area's geographic numbers are local calls.
    main_number: str | None = None


def _number_reader() -> Callable[[str, str], str]:
    """`check_public_number`, each number read once per document: the tenant's numbers
    come back as its users' public numbers, contacts repeat (60 µs a reading)."""
    known: dict[tuple[str, str], str | v.InvalidValue] = {}

    def read_number(value: str, country: str) -> str:
        found = known.get((value, country))
        if found is None:
            try:
                found = v.check_public_number(value, country)
            except v.InvalidValue as exc:
                found = exc
            known[value, country] = found
        if isinstance(found, v.InvalidValue):
            raise found
        return found

    return read_number


def _check_tenant(doc: TenantDoc, numbers: dict[str, str], check: Checker) -> _Tenant:
    """The tenant's own values, calendar and numbers (filling `numbers`)."""
    doc.domain = check("domain", v.check_domain, doc.domain)
    doc.name = check("name", v.check_text, doc.name, max_length=100)
    doc.timezone = check("timezone", v.check_timezone, doc.timezone)
    doc.country = check("country", v.check_country, doc.country)
    country = doc.country if doc.country in v.phonenumbers.SUPPORTED_REGIONS else "FR"
    read_number = _number_reader()

    _check_calendar(doc, check)

    for i, num in enumerate(doc.numbers):
        path = f"numbers[{i}]"
        num.number = check(f"{path}.number", read_number, num.number, country)
        if num.number in numbers:
            check.fail(
                f"{path}.number",
                said(
                    "number_listed_twice",
                    "%(number)s is already listed at %(other)s",
                    number=num.number,
                    other=numbers[num.number],
                ),
            )
        numbers.setdefault(num.number, path)
        num.label = check(f"{path}.label", v.check_text, num.label, required=False)

    if doc.main_number is not None:
        doc.main_number = check("main_number", read_number, doc.main_number, country)
        if doc.main_number not in numbers:
            check.fail("main_number", v.NOT_TENANT_NUMBER)
    return _Tenant(country, schedule_names(doc), read_number, doc.main_number)


def _check_user(
    user: UserDoc,
    path: str,
    index: int,
    tenant: _Tenant,
    numbers: Container[str],
    extensions: dict[str, int],
    check: Checker,
) -> None:
    """A user's own values (filling `extensions`)."""
    country = tenant.country
    user.extension = check(f"{path}.extension", v.check_extension, user.extension, country)
    if user.extension in extensions:
        check.fail(
            f"{path}.extension",
            v.extension_taken(user.extension, f"users[{extensions[user.extension]}]"),
        )
    extensions.setdefault(user.extension, index)
    user.name = check(f"{path}.name", v.check_text, user.name)
    user.sip_password = check(
        f"{path}.sip_password",
        v.check_sip_password,
        user.sip_password,
        extension=user.extension,
    )
    public_number = None  # as read, when it is a number at all
    if user.public_number is not None:
        problems = len(check.problems)
        user.public_number = check(
            f"{path}.public_number", tenant.read_number, user.public_number, country
        )
        if len(check.problems) == problems:
            public_number = user.public_number
        if user.public_number not in numbers:
            check.fail(f"{path}.public_number", v.NOT_TENANT_NUMBER)
    own_numbers = line_numbers(user.extension, public_number)
    vm = user.voicemail
    if vm.pin is not None:
        vm.pin = check(
            f"{path}.voicemail.pin", v.check_voicemail_pin, vm.pin, own_numbers=own_numbers
        )
    elif vm.enabled:
        check.fail(
            f"{path}.voicemail.pin",
            said("pin_required", "is required when voicemail is enabled"),
        )
    vm.emails = [
        check(f"{path}.voicemail.emails[{k}]", v.check_email, e) for k, e in enumerate(vm.emails)
    ]


def _check_user_handling(
    user: UserDoc,
    path: str,
    tenant: _Tenant,
    extensions: Container[str],
    numbers: Container[str],
    check: Checker,
) -> None:
    """A user's contacts and call handling, against the whole tenant."""
    country = tenant.country
    contact_names: dict[str, int] = {}
    for k, contact in enumerate(user.contacts):
        contact.name = check(f"{path}.contacts[{k}].name", v.check_text, contact.name)
        if contact.name.casefold() in contact_names:
            check.fail(
                f"{path}.contacts[{k}].name",
                said("contact_listed_twice", "%(name)r is listed twice", name=contact.name),
            )
        contact_names.setdefault(contact.name.casefold(), k)
        contact.numbers = [
            check(f"{path}.contacts[{k}].numbers[{n}]", tenant.read_number, x, country)
            for n, x in enumerate(contact.numbers)
        ]
    _check_call_barring(user, path, check)
    if "call_handling" not in user.model_fields_set:
        return  # the default, which refers to nothing (a test keeps it so): 20 µs a user
    context = Context(
        country=country,
        extension=user.extension,
        extensions=extensions,
        numbers=numbers,
        schedules=tenant.schedules,
        contacts=set(contact_names),
        allowed_destinations=user.allowed,
        home=tenant.main_number,
        voicemail_enabled=user.voicemail.enabled,
        fail=check.fail,
    )
    check_call_handling(user.call_handling, context, f"{path}.call_handling")


@dataclass(frozen=True)
class UserSurroundings:
    """What one user's entry is checked against when it is checked on its own: the
    tenant's country and schedules (case-folded names), and its public numbers and
    users' extensions as containers, which may ask the database for the few a user
    names instead of holding 100,000 of them."""

    country: str
    schedules: set[str]
    numbers: Container[str]
    extensions: Container[str]


# The path one user's entry is checked under; taken off again, so that problems name the
# user's own fields (`voicemail.pin`).
_ONE_USER = "user"


def parse_user(raw: Any, around: UserSurroundings) -> UserDoc:
    """One user's entry of the tenant document, checked as `parse_document` checks each
    of its users (structure, own values, contacts and call handling: the same rules and
    messages), in canonical form; `DocumentInvalid` with every problem, paths naming the
    user's own fields. What spans users (forwarding loops, what else refers to the user)
    is for the caller, who knows what changed."""
    try:
        user = UserDoc.model_validate(raw)
    except PydanticValidationError as exc:
        errors = exc.errors(include_url=False)
        raise DocumentInvalid([structure_problem(_path(e["loc"]), e) for e in errors]) from None
    check, handling = Checker(), Checker()
    tenant = _Tenant(around.country, around.schedules, _number_reader())
    _check_user(user, _ONE_USER, 0, tenant, around.numbers, {}, check)
    _check_user_handling(user, _ONE_USER, tenant, around.extensions, around.numbers, handling)
    problems = check.problems + handling.problems
    if problems:
        prefix = f"{_ONE_USER}."
        raise DocumentInvalid([p.at(p.path.removeprefix(prefix)) for p in problems])
    return user


def _check_dialled_bare(doc: TenantDoc, extensions: dict[str, int], check: Checker) -> None:
    """With the outside-line prefix on, what is dialled bare inside the tenant must not
    start with it: `0…` is an outside number."""
    prefix = OUTSIDE_LINE_PREFIX
    message = f"must not start with {prefix}, the outside-line prefix"
    for extension, i in extensions.items():
        if extension.startswith(prefix):
            check.fail(f"users[{i}].extension", message)
    for kind, units in (("groups", doc.groups), ("queues", doc.queues)):
        for i, unit in enumerate(units):
            for field in ("extension", "short_number"):
                if (getattr(unit, field) or "").startswith(prefix):
                    check.fail(f"{kind}[{i}].{field}", message)
    for i, dial in enumerate(doc.speed_dials):
        if dial.code.startswith(prefix):
            check.fail(f"speed_dials[{i}].code", message)


def _check_call_barring(user: UserDoc, path: str, check: Checker) -> None:
    """`call_barring` in canonical form; a former `allowed_destinations` read into it."""
    if user.allowed_destinations is not None:
        if "call_barring" in user.model_fields_set:
            check.fail(f"{path}.allowed_destinations", "give call_barring only, not both")
        else:
            legacy = allowed_from_legacy(frozenset(user.allowed_destinations))
            user.call_barring = barring_from_allowed(legacy)
        user.allowed_destinations = None
    if Category.EMERGENCY in user.call_barring:
        check.fail(f"{path}.call_barring", "emergency numbers cannot be barred")
    user.call_barring = sorted(set(user.call_barring) - {Category.EMERGENCY})


def _check_gateway(doc: TenantDoc, check: Checker) -> None:
    if doc.gateway is not None:
        gw = doc.gateway
        gw.proxy = check("gateway.proxy", v.check_host_port, gw.proxy)
        for field in ("username", "password"):
            value = getattr(gw, field)
            if value is not None:
                setattr(gw, field, check(f"gateway.{field}", v.check_text, value))
        if gw.registration and not (gw.username and gw.password):
            check.fail(
                "gateway.registration",
                said("registration_credentials", "registration needs a username and a password"),
            )


def _check_calendar(doc: TenantDoc, check: Checker) -> None:
    names: dict[str, int] = {}
    for i, sched in enumerate(doc.schedules):
        path = f"schedules[{i}]"
        sched.name = check(f"{path}.name", v.check_text, sched.name)
        key = sched.name.casefold()
        if key in names:
            check.fail(
                f"{path}.name",
                said(
                    "name_taken",
                    "%(name)r is already %(other)s",
                    name=sched.name,
                    other=f"schedules[{names[key]}]",
                ),
            )
        names.setdefault(key, i)
        check_week(sched, path, check.fail)
    for i, sched in enumerate(doc.schedules):
        if sched.opposite_of is None:
            continue
        path = f"schedules[{i}].opposite_of"
        target = names.get(sched.opposite_of.casefold())
        if sched.opposite_of.casefold() == DEFAULT_SCHEDULE.casefold() and target is None:
            continue
        if target is None:
            check.fail(path, v.unknown_schedule(sched.opposite_of))
        elif doc.schedules[target].opposite_of is not None:
            check.fail(
                path,
                said(
                    "opposite_of_opposite",
                    "must name a schedule with periods, not another opposite",
                ),
            )
        elif sched.has_periods():
            check.fail(
                path,
                said("opposite_with_periods", "an opposite schedule has no periods of its own"),
            )
    for i, holiday in enumerate(doc.holidays):
        path = f"holidays[{i}]"
        holiday.name = check(f"{path}.name", v.check_text, holiday.name)
        if holiday.date is not None and (holiday.first or holiday.last):
            check.fail(path, said("holiday_date_or_range", "give either date, or from and to"))
        elif holiday.date is None and not (holiday.first and holiday.last):
            check.fail(path, said("holiday_undated", "needs a date, or from and to"))
        elif holiday.first and holiday.last and holiday.first > holiday.last:
            check.fail(f"{path}.to", said("holiday_reversed", "must not be before from"))


def _check_forwarding_loops(forwards: list[tuple[str, Forward | None]], check: Checker) -> None:
    """Refuse users who forward every call to each other in a circle (A → B → A): with
    unconditional forwards and no schedule, no call could ever be answered. Loops that
    depend on time or on callers are stopped at call time instead. `forwards`: each
    user's extension and unconditional forward, in document order."""
    always = {}
    for extension, fwd in forwards:
        target = unconditional_forward(extension, fwd)
        if target is not None:
            always[extension] = target
    for i, (extension, _fwd) in enumerate(forwards):
        circle = forwarding_circle(extension, always.get)
        if circle is not None:
            check.fail(
                f"users[{i}].call_handling.forward_always.to",
                v.forwarding_loop(circle),
            )


def schedule_names(doc: TenantDoc) -> set[str]:
    """Names a setting may refer to (case-insensitive): the tenant's schedules, and the
    default office hours, which every tenant has."""
    return {s.name.casefold() for s in doc.schedules} | {DEFAULT_SCHEDULE.casefold()}


def dump_document(doc: TenantDoc) -> dict[str, Any]:
    """Canonical plain-data form: defaults left out, field order as in the schema."""
    return doc.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def load_text(text: str) -> Any:
    """YAML or JSON text → plain data: every scalar a string (`0100` is an extension,
    not 64; `yes` is not true); only `null`/`~` mean None (see `yaml_text`)."""
    try:
        data = yaml_text.load(text)
    except yaml.YAMLError as exc:
        raise DocumentInvalid(
            [Problem("", said("not_yaml", "not valid YAML or JSON: %(reason)s", reason=str(exc)))]
        ) from None
    except RecursionError:  # PyYAML's own loader recurses once per level
        raise DocumentInvalid([Problem("", said("too_deep", "nested too deeply"))]) from None
    refuse_not_unicode(data)
    return data


def refuse_not_unicode(data: Any) -> None:
    """Data read from JSON or YAML whose strings are all Unicode text, or DocumentInvalid
    naming where one is not (see `validation.not_unicode_at`)."""
    path = v.not_unicode_at(data)
    if path is not None:
        raise DocumentInvalid(
            [Problem(path, said("not_unicode", "not Unicode text (a lone surrogate escape)"))]
        )


def dump_text(data: dict[str, Any]) -> str:
    """What `yaml.safe_dump` writes (block style, keys in order), fast (`yaml_text`)."""
    return yaml_text.dump(data)


def json_schema() -> dict[str, Any]:
    schema = TenantDoc.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://centrex.example/schemas/tenant.json"
    return schema
