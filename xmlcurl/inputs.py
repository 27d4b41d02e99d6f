"""What the compilers see: the frozen data a fetch is compiled from.

SQL-free on purpose. The loaders (`loader`, `group_loader`, `queue_data`) fill these
from rows, `tenant_from_document` and `line_from_document` from a parsed document
(previews, tests); the compilers import nothing else of the storage side, and a test
keeps it so (no SQLAlchemy, Flask or clock in the compile layer). Keyword-only, so
that a field added never shifts another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from provisioning import calendar as cal
from provisioning.call_handling import CallHandling
from provisioning.conferences import ConferenceDoc
from provisioning.document import (
    DEFAULT_SCHEDULE,
    DEFAULT_SCHEDULE_PERIODS,
    TenantDoc,
    UserDoc,
    dump_document,
)
from provisioning.feature_codes import CODES, FeatureCode, codes_for
from provisioning.number_routing import NumberRouting
from provisioning.numbering import DEFAULT_ALLOWED, Category
from provisioning.park import ParkDoc, slot_numbers
from provisioning.tenant_routing import GroupDoc, QueueDoc


@dataclass(frozen=True, kw_only=True)
class GatewayData:
    proxy: str
    username: str | None
    password: str | None
    register: bool
    transport: str
    number_format: str


@dataclass(frozen=True, kw_only=True)
class LineData:
    extension: str
    display_name: str
    sip_password: str
    public_number: str | None
    voicemail_enabled: bool
    voicemail_pin: str | None
    voicemail_emails: tuple[str, ...]
    max_concurrent_calls: int
    call_waiting: bool
    allowed_destinations: frozenset[Category] = DEFAULT_ALLOWED
    # Contact name (case-folded) → its numbers in E.164.
    contacts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    call_handling: CallHandling = field(default_factory=CallHandling)
    # What the tenant's outgoing caller ID policy presents for this line
    # (`provisioning.caller_id_policy`); None: no rule.
    caller_id_policy: str | None = None
    # Live state: calls in progress, and whether a phone is registered (None: unknown).
    active_calls: int = 0
    registered: bool | None = None


@dataclass(frozen=True, kw_only=True)
class ParkData:
    """The tenant's call park: its slot numbers, and how long a call waits parked."""

    slots: frozenset[str]
    timeout: int


def park_data(stored: dict[str, Any] | None) -> ParkData | None:
    """From the stored (or dumped) `park` block; None: the tenant has no parking."""
    if stored is None:
        return None
    doc = ParkDoc.model_validate(stored)
    return ParkData(
        slots=frozenset(slot_numbers(doc.first_slot, doc.last_slot)), timeout=doc.timeout
    )


@dataclass(frozen=True, kw_only=True)
class TenantData:
    domain: str
    name: str
    timezone: str
    country: str
    main_number: str | None
    gateway: GatewayData | None
    # Outside numbers are dialled `0` + the number (the "0 pour sortir" access code).
    outside_line_prefix: bool = False
    # Schedule name (case-folded) → schedule; the default office hours included.
    schedules: dict[str, cal.Schedule] = field(default_factory=dict)
    holidays: tuple[cal.Holiday, ...] = ()
    # Group and queue name (case-folded) → the number hand-offs to it transfer to.
    unit_numbers: dict[str, str] = field(default_factory=dict)
    # Dialled by every user: speed dial code → E.164; directory code (##code) → E.164.
    speed_dials: dict[str, str] = field(default_factory=dict)
    directory_codes: dict[str, str] = field(default_factory=dict)
    # The numbers (extensions and short numbers) that dial a group, a queue.
    group_numbers: frozenset[str] = frozenset()
    queue_numbers: frozenset[str] = frozenset()
    # The tenant's star codes (`provisioning.feature_codes`), its own ones included.
    feature_codes: tuple[FeatureCode, ...] = CODES
    park: ParkData | None = None
    # Meet-me conference rooms by extension.
    conferences: dict[str, ConferenceDoc] = field(default_factory=dict)

    @cached_property
    def calendar(self) -> cal.TenantCalendar:
        # Built once: tenant data is kept per settings stamp (`_KeptSettings`).
        return cal.TenantCalendar(self.timezone, self.holidays, self.schedules)


@dataclass(frozen=True, kw_only=True)
class CallData:
    """The tenant a call is routed in and the lines it names (callee, caller)."""

    tenant: TenantData
    lines: dict[str, LineData] = field(default_factory=dict)
    # For calls from the public network: the number dialled and the line it reaches.
    public_number: str | None = None
    public_number_line: str | None = None
    public_number_routing: NumberRouting = field(default_factory=NumberRouting)
    # The callee is a hunt group's number: `xmlcurl.group_loader` then loads `group`.
    dialled_group: bool = False
    group: GroupData | None = None
    # The callee is a queue's number: the endpoint then loads `queue` (xmlcurl.queue_data).
    dialled_queue: bool = False
    queue: QueueData | None = None
    # Where the tenants' media files are, on the FreeSWITCH nodes, and which of this
    # tenant's exist there (read for calls from the public network).
    media_dir: str = ""
    media_paths: frozenset[str] = frozenset()
    # For a pickup code: the caller's leg of the call ringing the colleague's phone.
    ringing_caller_leg: str | None = None


@dataclass(frozen=True, kw_only=True)
class MemberData:
    extension: str
    logged_in: bool
    max_concurrent_calls: int
    call_waiting: bool
    call_handling: CallHandling
    # Live state, as the event listener keeps it (registered None: unknown).
    active_calls: int = 0
    registered: bool | None = None
    last_call_end: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class GroupData:
    # The group's settings (its `members` list is left empty: see `members`).
    doc: GroupDoc
    members: tuple[MemberData, ...] = ()
    # Extension of the member who answered the group's last call.
    last_answerer: str | None = None
    # The tenant's media files, relative to the media directory.
    media_paths: frozenset[str] = frozenset()


@dataclass(frozen=True, kw_only=True)
class AgentData:
    extension: str
    logged_in: bool
    paused: bool = False


@dataclass(frozen=True, kw_only=True)
class QueueData:
    domain: str
    doc: QueueDoc
    # Agents in list order.
    agents: tuple[AgentData, ...] = ()
    # The hold music named by the queue exists (else the stock music plays).
    music_uploaded: bool = False
    # The tenant's uploaded media.
    media_paths: frozenset[str] = frozenset()


def queue_doc(
    name: str, extension: str, short_number: str | None, settings: dict[str, Any]
) -> QueueDoc:
    return QueueDoc.model_validate(
        {**settings, "name": name, "extension": extension, "short_number": short_number}
    )


def tenant_from_document(doc: TenantDoc) -> TenantData:
    """The same view, built from a parsed tenant document instead of rows (previews,
    tests): nothing needs to be stored to see how a document routes."""
    gateway = None
    if doc.gateway is not None:
        gw = doc.gateway
        gateway = GatewayData(
            proxy=gw.proxy,
            username=gw.username,
            password=gw.password,
            register=gw.registration,
            transport=gw.transport,
            number_format=gw.number_format,
        )
    dumped = dump_document(doc)
    return TenantData(
        domain=doc.domain,
        name=doc.name,
        timezone=doc.timezone,
        country=doc.country,
        main_number=doc.main_number,
        outside_line_prefix=doc.outside_line_prefix,
        gateway=gateway,
        schedules=cal.schedules_from_document(
            dumped.get("schedules", []), DEFAULT_SCHEDULE, DEFAULT_SCHEDULE_PERIODS
        ),
        holidays=cal.holidays_from_document(dumped.get("holidays", [])),
        unit_numbers={
            **{g.name.casefold(): g.extension for g in doc.groups},
            **{q.name.casefold(): q.extension for q in doc.queues},
        },
        speed_dials={d.code: d.number for d in doc.speed_dials},
        directory_codes={e.code: e.number for e in doc.directory if e.code},
        group_numbers=frozenset(n for g in doc.groups for n in (g.extension, g.short_number) if n),
        queue_numbers=frozenset(n for q in doc.queues for n in (q.extension, q.short_number) if n),
        feature_codes=codes_for(doc.feature_codes),
        park=park_data(dumped.get("park")),
        conferences={c.extension: c for c in doc.conferences},
    )


def line_from_document(user: UserDoc, caller_id_policy: str | None = None) -> LineData:
    return LineData(
        extension=user.extension,
        display_name=user.name,
        sip_password=user.sip_password,
        public_number=user.public_number,
        voicemail_enabled=user.voicemail.enabled,
        voicemail_pin=user.voicemail.pin,
        voicemail_emails=tuple(user.voicemail.emails),
        max_concurrent_calls=user.max_concurrent_calls,
        call_waiting=user.call_waiting,
        allowed_destinations=user.allowed,
        contacts={c.name.casefold(): tuple(c.numbers) for c in user.contacts},
        call_handling=user.call_handling,
        caller_id_policy=caller_id_policy,
    )


@dataclass(frozen=True, kw_only=True)
class HoldMusicData:
    domain: str
    name: str
    # The media's file, relative to the media directory.
    path: str
