"""What the compiler sees of the database, and the queries that load it.

Each fetch costs one indexed query whatever the tenant's size: a tenant by domain
(unique index) with just the lines a call names (unique tenant+extension index), or a
public number (unique index) with its tenant and line. Rows become frozen dataclasses,
so the compiler never touches a session. SQLAlchemy Core, not the ORM: this is the
hot path of every call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Row, and_, select, update

from provisioning import calendar as cal
from provisioning.call_handling import CallHandling
from provisioning.document import (
    DEFAULT_SCHEDULE,
    DEFAULT_SCHEDULE_PERIODS,
    TenantDoc,
    UserDoc,
    dump_document,
)
from provisioning.models import Gateway, LineState, PublicNumber, Tenant, User
from provisioning.numbering import Category


@dataclass(frozen=True)
class GatewayData:
    proxy: str
    username: str | None
    password: str | None
    register: bool
    transport: str
    number_format: str


@dataclass(frozen=True)
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
    allowed_destinations: frozenset[Category] = frozenset({Category.NATIONAL})
    # Contact name (case-folded) → its numbers in E.164.
    contacts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    call_handling: CallHandling = field(default_factory=CallHandling)
    # Live state: calls in progress, and whether a phone is registered (None: unknown).
    active_calls: int = 0
    registered: bool | None = None


@dataclass(frozen=True)
class TenantData:
    domain: str
    name: str
    timezone: str
    country: str
    main_number: str | None
    gateway: GatewayData | None
    # Schedule name (case-folded) → schedule; the default office hours included.
    schedules: dict[str, cal.Schedule] = field(default_factory=dict)
    holidays: tuple[cal.Holiday, ...] = ()


@dataclass(frozen=True)
class CallData:
    """The tenant a call is routed in and the lines it names (callee, caller)."""

    tenant: TenantData
    lines: dict[str, LineData] = field(default_factory=dict)
    # For calls from the public network: the number dialled and the line it reaches.
    public_number: str | None = None
    public_number_line: str | None = None


_TENANT_COLUMNS = (
    Tenant.domain,
    Tenant.name,
    Tenant.timezone,
    Tenant.country,
    Tenant.main_number,
    Tenant.schedules,
    Tenant.holidays,
    Gateway.id.label("gw_id"),
    Gateway.proxy,
    Gateway.username,
    Gateway.password,
    Gateway.register,
    Gateway.transport,
    Gateway.number_format,
)
_LINE_COLUMNS = (
    User.extension,
    User.display_name,
    User.sip_password,
    User.public_number,
    User.voicemail_enabled,
    User.voicemail_pin,
    User.voicemail_emails,
    User.max_concurrent_calls,
    User.call_waiting,
    User.allowed_destinations,
    User.contacts,
    User.call_handling,
    LineState.active_calls,
    LineState.registered,
)


def _gateway(row: Row) -> GatewayData | None:
    if row.gw_id is None:
        return None
    return GatewayData(
        row.proxy, row.username, row.password, row.register, row.transport, row.number_format
    )


def _tenant(row: Row) -> TenantData:
    return TenantData(
        row.domain,
        row.name,
        row.timezone,
        row.country,
        row.main_number,
        _gateway(row),
        cal.schedules_from_document(row.schedules, DEFAULT_SCHEDULE, DEFAULT_SCHEDULE_PERIODS),
        cal.holidays_from_document(row.holidays),
    )


def _line(row: Row) -> LineData | None:
    if row.extension is None:
        return None
    return LineData(
        row.extension,
        row.display_name,
        row.sip_password,
        row.public_number,
        row.voicemail_enabled,
        row.voicemail_pin,
        tuple(row.voicemail_emails or ()),
        row.max_concurrent_calls,
        row.call_waiting,
        frozenset(Category(c) for c in row.allowed_destinations),
        {c["name"].casefold(): tuple(c["numbers"]) for c in row.contacts},
        CallHandling.model_validate(row.call_handling),
        row.active_calls or 0,
        row.registered,
    )


def _collect(rows: list[Row]) -> CallData | None:
    if not rows:
        return None
    lines = {line.extension: line for line in map(_line, rows) if line is not None}
    return CallData(_tenant(rows[0]), lines)


def load_tenant(conn: Connection, domain: str, extensions: Iterable[str]) -> CallData | None:
    """The tenant of `domain` with those of `extensions` that are its lines."""
    wanted = sorted({e for e in extensions if e})
    query = (
        select(*_TENANT_COLUMNS, *_LINE_COLUMNS)
        .select_from(Tenant)
        .outerjoin(Gateway, Gateway.tenant_id == Tenant.id)
        .outerjoin(User, and_(User.tenant_id == Tenant.id, User.extension.in_(wanted)))
        .outerjoin(LineState, LineState.user_id == User.id)
        .where(Tenant.domain == domain)
    )
    return _collect(list(conn.execute(query)))


def load_public_number(conn: Connection, candidates: Iterable[str]) -> CallData | None:
    """The public number among `candidates` (forms of one dialled number), its tenant
    and the line it reaches."""
    query = (
        select(PublicNumber.number.label("did"), *_TENANT_COLUMNS, *_LINE_COLUMNS)
        .select_from(PublicNumber)
        .join(Tenant, Tenant.id == PublicNumber.tenant_id)
        .outerjoin(Gateway, Gateway.tenant_id == Tenant.id)
        .outerjoin(User, User.id == PublicNumber.user_id)
        .outerjoin(LineState, LineState.user_id == User.id)
        .where(PublicNumber.number.in_(sorted(set(candidates))))
        .limit(1)
    )
    row = conn.execute(query).first()
    if row is None:
        return None
    line = _line(row)
    return CallData(
        _tenant(row),
        {line.extension: line} if line else {},
        public_number=row.did,
        public_number_line=line.extension if line else None,
    )


def load_gateways(conn: Connection) -> list[tuple[str, GatewayData]]:
    """Every tenant's trunk, for sofia's profile start (not a per-call query)."""
    query = (
        select(Tenant.domain, *_TENANT_COLUMNS[7:])
        .join(Gateway, Gateway.tenant_id == Tenant.id)
        .order_by(Tenant.domain)
    )
    out = []
    for row in conn.execute(query):
        gateway = _gateway(row)
        assert gateway is not None  # inner join
        out.append((row.domain, gateway))
    return out


def store_voicemail_pin(conn: Connection, domain: str, extension: str, pin: str) -> bool:
    tenant_id = select(Tenant.id).where(Tenant.domain == domain).scalar_subquery()
    result = conn.execute(
        update(User)
        .where(User.tenant_id == tenant_id, User.extension == extension)
        .values(voicemail_pin=pin)
    )
    return bool(result.rowcount)


def tenant_from_document(doc: TenantDoc) -> TenantData:
    """The same view, built from a parsed tenant document instead of rows (previews,
    tests): nothing needs to be stored to see how a document routes."""
    gateway = None
    if doc.gateway is not None:
        gw = doc.gateway
        gateway = GatewayData(
            gw.proxy, gw.username, gw.password, gw.registration, gw.transport, gw.number_format
        )
    dumped = dump_document(doc)
    return TenantData(
        doc.domain,
        doc.name,
        doc.timezone,
        doc.country,
        doc.main_number,
        gateway,
        cal.schedules_from_document(
            dumped.get("schedules", []), DEFAULT_SCHEDULE, DEFAULT_SCHEDULE_PERIODS
        ),
        cal.holidays_from_document(dumped.get("holidays", [])),
    )


def line_from_document(user: UserDoc) -> LineData:
    return LineData(
        user.extension,
        user.name,
        user.sip_password,
        user.public_number,
        user.voicemail.enabled,
        user.voicemail.pin,
        tuple(user.voicemail.emails),
        user.max_concurrent_calls,
        user.call_waiting,
        frozenset(user.allowed_destinations),
        {c.name.casefold(): tuple(c.numbers) for c in user.contacts},
        user.call_handling,
    )
