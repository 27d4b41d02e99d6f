"""What the compiler sees of the database, and the queries that load it.

Each fetch costs one indexed query whatever the tenant's size: a tenant by domain
(unique index) with just the lines a call names (unique tenant+extension index), or a
public number (unique index) with its tenant and line. The tenant's own settings are
kept per process and read again only when the database has renewed their stamp (two
more queries then). Rows become frozen dataclasses,
so the compiler never touches a session. SQLAlchemy Core, not the ORM: this is the
hot path of every call.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Connection,
    Row,
    Text,
    and_,
    bindparam,
    cast,
    literal_column,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import aliased

from centrex.db import Prepared
from provisioning import calendar as cal
from provisioning.call_handling import CallHandling
from provisioning.conferences import ConferenceDoc
from provisioning.document import (
    DEFAULT_SCHEDULE,
    DEFAULT_SCHEDULE_PERIODS,
)
from provisioning.feature_codes import codes_for
from provisioning.media import MUSIC
from provisioning.models import (
    Channel,
    Gateway,
    GroupMember,
    HuntGroup,
    LineState,
    Media,
    PublicNumber,
    Queue,
    Tenant,
    User,
)
from provisioning.number_routing import NumberRouting
from provisioning.numbering import Category
from xmlcurl.inputs import (
    CallData,
    GatewayData,
    HoldMusicData,
    LineData,
    TenantData,
    park_data,
)
from xmlcurl.tenant_rows import (
    media_paths_column,
    parsed_media_paths,
)

_GATEWAY_COLUMNS = (
    Gateway.id.label("gw_id"),
    Gateway.proxy,
    Gateway.username,
    Gateway.password,
    Gateway.register,
    Gateway.transport,
    Gateway.number_format,
)


# What every call reads of its tenant: the settings themselves are kept (_KeptSettings).
_CALL_TENANT_COLUMNS = (Tenant.id.label("tenant_id"), Tenant.settings_stamp)

_TENANT_COLUMNS = (
    Tenant.domain,
    Tenant.name,
    Tenant.timezone,
    Tenant.country,
    Tenant.main_number,
    Tenant.outside_line_prefix,
    # Settings stored as JSON, read as text: parsed once per settings stamp.
    cast(Tenant.schedules, Text).label("schedules"),
    cast(Tenant.holidays, Text).label("holidays"),
    cast(Tenant.speed_dials, Text).label("speed_dials"),
    cast(Tenant.directory, Text).label("directory"),
    cast(Tenant.feature_codes, Text).label("feature_codes"),
    cast(Tenant.park, Text).label("park"),
    cast(Tenant.conferences, Text).label("conferences"),
    *_GATEWAY_COLUMNS,
)


_LINE_COLUMNS = (
    User.extension,
    User.display_name,
    User.sip_password,
    User.public_number,
    User.voicemail_enabled,
    User.voicemail_pin,
    cast(User.voicemail_emails, Text).label("voicemail_emails"),
    User.max_concurrent_calls,
    User.call_waiting,
    cast(User.allowed_destinations, Text).label("allowed_destinations"),
    cast(User.contacts, Text).label("contacts"),
    cast(User.call_handling, Text).label("call_handling"),
    User.caller_id_policy,
    LineState.active_calls,
    LineState.registered,
)


def _gateway(row: Row) -> GatewayData | None:
    if row.gw_id is None:
        return None
    return GatewayData(
        proxy=row.proxy,
        username=row.username,
        password=row.password,
        register=bool(row.register),
        transport=row.transport,
        number_format=row.number_format,
    )


@lru_cache(maxsize=16384)
def _parsed_number_routing(text: str) -> NumberRouting:
    return NumberRouting.from_stored(json.loads(text))


@lru_cache(maxsize=16384)
def parsed_call_handling(text: str) -> CallHandling:
    # Shared between calls: CallHandling is only read after this point.
    return CallHandling.model_validate_json(text)


@lru_cache(maxsize=16384)
def _parsed_contacts(text: str) -> dict[str, tuple[str, ...]]:
    return {c["name"].casefold(): tuple(c["numbers"]) for c in json.loads(text)}


@lru_cache(maxsize=4096)
def _parsed_emails(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


@lru_cache(maxsize=64)
def _parsed_allowed(text: str) -> frozenset[Category]:
    return frozenset(Category(c) for c in json.loads(text))


def _parsed_conferences(text: str | None) -> dict[str, ConferenceDoc]:
    rooms = (ConferenceDoc.model_validate(c) for c in json.loads(text or "[]"))
    return {room.extension: room for room in rooms}


def _tenant(row: Row, units: list[Row]) -> TenantData:
    dialled: dict[str, set[str]] = {"group": set(), "queue": set()}
    for unit in units:
        dialled[unit.kind].update(filter(None, (unit.extension, unit.short_number)))
    return TenantData(
        domain=row.domain,
        name=row.name,
        timezone=row.timezone,
        country=row.country,
        main_number=row.main_number,
        outside_line_prefix=row.outside_line_prefix,
        gateway=_gateway(row),
        schedules=cal.schedules_from_document(
            json.loads(row.schedules), DEFAULT_SCHEDULE, DEFAULT_SCHEDULE_PERIODS
        ),
        holidays=cal.holidays_from_document(json.loads(row.holidays)),
        unit_numbers={unit.name.casefold(): unit.extension for unit in units},
        speed_dials={d["code"]: d["number"] for d in json.loads(row.speed_dials)},
        directory_codes={
            e["code"]: e["number"] for e in json.loads(row.directory) if e.get("code")
        },
        group_numbers=frozenset(dialled["group"]),
        queue_numbers=frozenset(dialled["queue"]),
        feature_codes=codes_for(json.loads(row.feature_codes or "{}")),
        park=park_data(json.loads(row.park) if row.park else None),
        conferences=_parsed_conferences(row.conferences),
    )


# A line's columns come last in every query that reads lines (tested).
_LINE_WIDTH = len(_LINE_COLUMNS)


def _line(row: Row) -> LineData | None:
    if row.extension is None:
        return None
    return _line_data(row[-_LINE_WIDTH:])


@lru_cache(maxsize=4096)
def _line_data(values: tuple[Any, ...]) -> LineData:
    # Keyed by every value read, live state included: a change of any is a new entry.
    # The same line called again (its state unchanged) is not built again.
    (
        extension,
        display_name,
        sip_password,
        public_number,
        voicemail_enabled,
        voicemail_pin,
        voicemail_emails,
        max_concurrent_calls,
        call_waiting,
        allowed_destinations,
        contacts,
        call_handling,
        caller_id_policy,
        active_calls,
        registered,
    ) = values
    return LineData(
        extension=extension,
        display_name=display_name,
        sip_password=sip_password,
        public_number=public_number,
        voicemail_enabled=bool(voicemail_enabled),
        voicemail_pin=voicemail_pin,
        voicemail_emails=_parsed_emails(voicemail_emails),
        max_concurrent_calls=max_concurrent_calls,
        call_waiting=bool(call_waiting),
        allowed_destinations=_parsed_allowed(allowed_destinations),
        contacts=_parsed_contacts(contacts),
        call_handling=parsed_call_handling(call_handling),
        caller_id_policy=caller_id_policy,
        active_calls=active_calls or 0,
        registered=None if registered is None else bool(registered),
    )


def _collect(tenant: TenantData, rows: list[Row], callee: str) -> CallData:
    lines = {line.extension: line for line in map(_line, rows) if line is not None}
    return CallData(
        tenant=tenant,
        lines=lines,
        dialled_group=callee in tenant.group_numbers,
        dialled_queue=callee in tenant.queue_numbers,
    )


# A number from a carrier is looked up in at most this many written forms.
_MAX_FORMS = 4
# Lines one call may name: the callee, the caller, and who may have transferred it to
# a park slot (to be rung back).
_MAX_LINES = 5

# Built once, with fixed parameters (no expanding IN, whose SQL is rebuilt on every
# execution): executing the same statement object lets SQLAlchemy reuse its compiled
# form and result layout; building a select per request costs more than the query.
_TENANT_QUERY = (
    select(*_CALL_TENANT_COLUMNS, *_LINE_COLUMNS)
    .select_from(Tenant)
    .outerjoin(
        User,
        and_(
            User.tenant_id == Tenant.id,
            User.extension.in_([bindparam(f"line{i}") for i in range(_MAX_LINES)]),
        ),
    )
    .outerjoin(LineState, LineState.user_id == User.id)
    .where(Tenant.domain == bindparam("domain"))
)
_PUBLIC_NUMBER_QUERY = (
    select(
        PublicNumber.number.label("did"),
        cast(PublicNumber.routing, Text).label("number_routing"),
        media_paths_column().label("media_paths"),
        *_CALL_TENANT_COLUMNS,
        *_LINE_COLUMNS,
    )
    .select_from(PublicNumber)
    .join(Tenant, Tenant.id == PublicNumber.tenant_id)
    .outerjoin(User, User.id == PublicNumber.user_id)
    .outerjoin(LineState, LineState.user_id == User.id)
    .where(PublicNumber.number.in_([bindparam(f"form{i}") for i in range(_MAX_FORMS)]))
    .order_by(PublicNumber.number)
)
_TENANT_SETTINGS_QUERY = (
    select(*_TENANT_COLUMNS, Tenant.settings_stamp)
    .select_from(Tenant)
    .outerjoin(Gateway, Gateway.tenant_id == Tenant.id)
    .where(Tenant.id == bindparam("tenant_id"))
)
_UNITS_QUERY: CompoundSelect[*tuple[Any, ...]] = union_all(
    *(
        # A literal column: the prepared statement takes no parameters but its own.
        select(
            literal_column(f"'{kind}'").label("kind"), unit.name, unit.extension, unit.short_number
        ).where(unit.tenant_id == bindparam("tenant_id"))
        for kind, unit in (("group", HuntGroup), ("queue", Queue))
    )
)


_TENANT = Prepared(_TENANT_QUERY)
_PUBLIC_NUMBER = Prepared(_PUBLIC_NUMBER_QUERY)
_TENANT_SETTINGS = Prepared(_TENANT_SETTINGS_QUERY)
_UNITS = Prepared(_UNITS_QUERY)


class _KeptSettings:
    """Each tenant's settings, parsed once per settings stamp.

    A tenant's schedules, holidays, speed dials, directory, trunk and group and queue
    numbers would otherwise be read and parsed on every call, at a cost growing with
    them (10,000 directory contacts: a millisecond per call). Calls read only the
    stamp, which the database renews on any change of these (Tenant.settings_stamp); a
    stamp not seen before costs two more queries. Per process, at most `size` tenants.
    """

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._kept: dict[int, tuple[int, TenantData]] = {}

    def tenant(self, conn: Connection, tenant_id: int, stamp: int) -> TenantData | None:
        kept = self._kept.get(tenant_id)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        rows = _TENANT_SETTINGS.rows(conn, {"tenant_id": tenant_id})
        if not rows:
            return None  # deleted since the call's query
        tenant = _tenant(rows[0], _UNITS.rows(conn, {"tenant_id": tenant_id}))
        if len(self._kept) >= self._size:
            del self._kept[next(iter(self._kept))]  # the longest kept
        # The stamp read with the settings: they may have changed since the call's query.
        self._kept[tenant_id] = (rows[0].settings_stamp, tenant)
        return tenant


_SETTINGS = _KeptSettings()


def load_tenant(conn: Connection, domain: str, extensions: Iterable[str]) -> CallData | None:
    """The tenant of `domain` with those of `extensions` that are its lines (the callee
    first, then the caller and who transferred the call: at most five)."""
    wanted = [e for e in extensions if e][:_MAX_LINES] or [""]
    params: dict[str, str] = {"domain": domain}
    params.update({f"line{i}": wanted[min(i, len(wanted) - 1)] for i in range(_MAX_LINES)})
    rows = _TENANT.rows(conn, params)
    if not rows:
        return None
    tenant = _SETTINGS.tenant(conn, rows[0].tenant_id, rows[0].settings_stamp)
    return None if tenant is None else _collect(tenant, rows, wanted[0])


def load_public_number(conn: Connection, candidates: Iterable[str]) -> CallData | None:
    """The public number among `candidates` (forms of one dialled number), its tenant
    and the line it reaches."""
    forms = sorted(set(candidates))[:_MAX_FORMS] or [""]
    params = {f"form{i}": forms[min(i, len(forms) - 1)] for i in range(_MAX_FORMS)}
    rows = _PUBLIC_NUMBER.rows(conn, params)
    if not rows:
        return None
    row = rows[0]
    tenant = _SETTINGS.tenant(conn, row.tenant_id, row.settings_stamp)
    if tenant is None:
        return None
    line = _line(row)
    return CallData(
        tenant=tenant,
        lines={line.extension: line} if line else {},
        public_number=row.did,
        public_number_line=line.extension if line else None,
        public_number_routing=_parsed_number_routing(row.number_routing),
        media_paths=parsed_media_paths(row.media_paths),
    )


def load_gateways(conn: Connection) -> list[tuple[str, GatewayData]]:
    """Every tenant's trunk, for sofia's profile start (not a per-call query)."""
    query = (
        select(Tenant.domain, *_GATEWAY_COLUMNS)
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


def load_hold_music(conn: Connection) -> list[HoldMusicData]:
    """Every tenant's hold music, in one query: mod_local_stream reads its whole
    configuration when it loads and when a stream is started, never during a call."""
    query = (
        select(Tenant.domain, Media.name, Media.path)
        .join(Tenant, Tenant.id == Media.tenant_id)
        .where(Media.kind == MUSIC)
        .order_by(Tenant.domain, Media.name)
    )
    return [
        HoldMusicData(domain=row.domain, name=row.name, path=row.path)
        for row in conn.execute(query)
    ]


def load_group_ringing_caller_leg(conn: Connection, domain: str, picker: str) -> str | None:
    """The caller's leg of the call ringing longest on a phone of a colleague who
    shares a hunt group with the line `picker` (group pickup): one indexed query."""
    me = aliased(User)
    mine, theirs = aliased(GroupMember), aliased(GroupMember)
    return conn.scalar(
        select(Channel.caller_leg)
        .join(theirs, theirs.user_id == Channel.user_id)
        .join(mine, mine.group_id == theirs.group_id)
        .join(me, me.id == mine.user_id)
        .join(Tenant, me.tenant_id == Tenant.id)
        .where(
            Tenant.domain == domain,
            me.extension == picker,
            Channel.user_id != me.id,
            Channel.direction == "outbound",
            Channel.answered.is_(False),
            Channel.caller_leg != "",
        )
        .order_by(Channel.started_at)
        .limit(1)
    )


def load_ringing_caller_leg(conn: Connection, domain: str, extension: str) -> str | None:
    """The caller's leg of the latest call still ringing a phone of the tenant's line
    `extension` (directed pickup): one indexed query, for pickup codes only."""
    return conn.scalar(
        select(Channel.caller_leg)
        .join(User, Channel.user_id == User.id)
        .join(Tenant, User.tenant_id == Tenant.id)
        .where(
            Tenant.domain == domain,
            User.extension == extension,
            Channel.direction == "outbound",
            Channel.answered.is_(False),
            Channel.caller_leg != "",
        )
        .order_by(Channel.started_at.desc())
        .limit(1)
    )
