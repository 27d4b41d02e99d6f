"""A tenant's activity: what the operator view and the supervisors' monitor show.

`build_activity` is pure (rows and `now` in, a JSON-ready dict out); `tenant_activity`
reads those rows in five indexed queries whatever the tenant's size.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from provisioning import calendar as cal
from provisioning.call_handling import stored_dnd_on
from provisioning.document import DEFAULT_SCHEDULE, DEFAULT_SCHEDULE_PERIODS
from provisioning.line_status import line_state
from provisioning.models import (
    Channel,
    Gateway,
    GroupMember,
    HuntGroup,
    Registration,
    Tenant,
    User,
)
from provisioning.numbering import Category
from xmlcurl.inputs import GatewayData, LineData, TenantData
from xmlcurl.line import forwarded_now
from xmlcurl.loader import parsed_call_handling

from .handlers import INBOUND, OUTBOUND


class UnknownTenant(LookupError):
    pass


@dataclass(frozen=True)
class TenantRow:
    id: int
    domain: str
    name: str
    timezone: str
    schedules: list[dict[str, Any]]
    holidays: list[dict[str, Any]]
    country: str
    main_number: str | None
    # The trunk's number format, None without a trunk (what forwards out depend on).
    trunk_number_format: str | None


@dataclass(frozen=True)
class UserRow:
    id: int
    extension: str
    name: str
    call_handling: dict[str, Any]
    public_number: str | None
    voicemail_enabled: bool
    allowed_destinations: list[str]


@dataclass(frozen=True)
class PhoneRow:
    user_id: int
    node: str
    contact: str
    user_agent: str
    expires_at: datetime


@dataclass(frozen=True)
class MemberRow:
    """A hunt group's member, in the group's order."""

    group: str
    group_number: str
    user_id: int
    logged_in: bool


@dataclass(frozen=True)
class CallRow:
    user_id: int
    direction: str
    answered: bool
    held: bool
    peer_number: str
    peer_name: str
    started_at: datetime


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _iso(value: datetime) -> str:
    return _utc(value).isoformat().replace("+00:00", "Z")


def _line_state(calls: list[CallRow]) -> str:
    # Legs to the phone not answered yet ring; the store counts them the same way.
    ringing = sum(1 for c in calls if c.direction == OUTBOUND and not c.answered)
    return line_state(len(calls), ringing)


def _routing_view(tenant: TenantRow, calendar: cal.TenantCalendar) -> TenantData:
    """What routing knows of the tenant, as far as a line's forward depends on it."""
    gateway = None
    if tenant.trunk_number_format is not None:
        gateway = GatewayData(
            proxy="",
            username=None,
            password=None,
            register=False,
            transport="udp",
            number_format=tenant.trunk_number_format,
        )
    return TenantData(
        domain=tenant.domain,
        name=tenant.name,
        timezone=tenant.timezone,
        country=tenant.country,
        main_number=tenant.main_number,
        gateway=gateway,
        schedules=dict(calendar.schedules),
        holidays=calendar.holidays,
    )


def _line_view(user: UserRow) -> LineData:
    """What routing knows of the line, as far as its forward depends on it."""
    return LineData(
        extension=user.extension,
        display_name=user.name,
        sip_password="",
        public_number=user.public_number,
        voicemail_enabled=user.voicemail_enabled,
        voicemail_pin=None,
        voicemail_emails=(),
        max_concurrent_calls=1,
        call_waiting=False,
        allowed_destinations=frozenset(Category(c) for c in user.allowed_destinations),
        call_handling=parsed_call_handling(json.dumps(user.call_handling or {})),
    )


def build_activity(
    tenant: TenantRow,
    users: list[UserRow],
    phones: list[PhoneRow],
    calls: list[CallRow],
    now: datetime,
    members: Sequence[MemberRow] = (),
) -> dict[str, Any]:
    calendar = cal.TenantCalendar(
        tenant.timezone,
        cal.holidays_from_document(tenant.holidays),
        cal.schedules_from_document(tenant.schedules, DEFAULT_SCHEDULE, DEFAULT_SCHEDULE_PERIODS),
    )
    routing = _routing_view(tenant, calendar)
    phones_of: dict[int, list[PhoneRow]] = defaultdict(list)
    for phone in phones:
        if _utc(phone.expires_at) > now:
            phones_of[phone.user_id].append(phone)
    calls_of: dict[int, list[CallRow]] = defaultdict(list)
    for call in calls:
        calls_of[call.user_id].append(call)

    lines, absent, unavailable = [], [], []
    for user in users:
        handling = user.call_handling or {}
        dnd = stored_dnd_on(handling)
        forwarding = forwarded_now(routing, _line_view(user), now)
        registered = bool(phones_of[user.id])
        lines.append(
            {
                "extension": user.extension,
                "name": user.name,
                "state": _line_state(calls_of[user.id]),
                "registered": registered,
                "do_not_disturb": dnd,
                "forwarding_to": forwarding,
                "phones": [
                    {"user_agent": p.user_agent, "contact": p.contact, "node": p.node}
                    for p in phones_of[user.id]
                ],
                "calls": [
                    {
                        "direction": "outgoing" if c.direction == INBOUND else "incoming",
                        "peer_number": c.peer_number,
                        "peer_name": c.peer_name,
                        "answered": c.answered,
                        "held": c.held,
                        "since": _iso(c.started_at),
                    }
                    for c in sorted(calls_of[user.id], key=lambda c: _utc(c.started_at))
                ],
            }
        )
        if dnd or forwarding:
            absent.append(user.extension)
        if not registered:
            unavailable.append(user.extension)
    return {
        "tenant": tenant.domain,
        "name": tenant.name,
        "at": _iso(now),
        "schedules_in_force": sorted(
            s.name for s in calendar.schedules.values() if calendar.in_force(s.name, now)
        ),
        "holiday": calendar.is_holiday(calendar.local(now).date()),
        "lines": lines,
        "absent": absent,
        "unavailable": unavailable,
        "groups": _groups(members, {u.id: u.extension for u in users}, lines),
    }


def _groups(
    members: Sequence[MemberRow], extension_of: dict[int, str], lines: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per group: who is logged in, and of those, who could take a call now."""
    state = {line["extension"]: line for line in lines}
    groups: dict[str, dict[str, Any]] = {}
    for member in members:
        group = groups.setdefault(
            member.group_number,
            {"name": member.group, "number": member.group_number, "members": []},
        )
        extension = extension_of.get(member.user_id, "")
        line = state.get(extension, {})
        group["members"].append(
            {
                "extension": extension,
                "logged_in": member.logged_in,
                "state": line.get("state", "idle"),
                "registered": line.get("registered", False),
            }
        )
    for group in groups.values():
        logged = [m for m in group["members"] if m["logged_in"]]
        group["logged_in"] = len(logged)
        group["available"] = sum(1 for m in logged if m["registered"] and m["state"] == "idle")
    return list(groups.values())


def tenant_activity(conn: Connection, domain: str, now: datetime) -> dict[str, Any]:
    row = conn.execute(
        select(
            Tenant.id,
            Tenant.domain,
            Tenant.name,
            Tenant.timezone,
            Tenant.schedules,
            Tenant.holidays,
            Tenant.country,
            Tenant.main_number,
            Gateway.number_format,
        )
        .outerjoin(Gateway, Gateway.tenant_id == Tenant.id)
        .where(Tenant.domain == domain)
    ).first()
    if row is None:
        raise UnknownTenant(domain)
    tenant = TenantRow(*row)
    users = [
        UserRow(*r)
        for r in conn.execute(
            select(
                User.id,
                User.extension,
                User.display_name,
                User.call_handling,
                User.public_number,
                User.voicemail_enabled,
                User.allowed_destinations,
            )
            .where(User.tenant_id == tenant.id)
            .order_by(User.position)
        )
    ]
    phones = [
        PhoneRow(*r)
        for r in conn.execute(
            select(
                Registration.user_id,
                Registration.node,
                Registration.contact,
                Registration.user_agent,
                Registration.expires_at,
            )
            .join(User, Registration.user_id == User.id)
            .where(User.tenant_id == tenant.id)
        )
    ]
    calls = [
        CallRow(*r)
        for r in conn.execute(
            select(
                Channel.user_id,
                Channel.direction,
                Channel.answered,
                Channel.held,
                Channel.peer_number,
                Channel.peer_name,
                Channel.started_at,
            )
            .join(User, Channel.user_id == User.id)
            .where(User.tenant_id == tenant.id)
        )
    ]
    members = [
        MemberRow(*r)
        for r in conn.execute(
            select(HuntGroup.name, HuntGroup.extension, GroupMember.user_id, GroupMember.logged_in)
            .join(HuntGroup, GroupMember.group_id == HuntGroup.id)
            .where(HuntGroup.tenant_id == tenant.id)
            .order_by(HuntGroup.position, GroupMember.position)
        )
    ]
    return build_activity(tenant, users, phones, calls, now, members)


def tenant_id_of(conn: Connection, domain: str) -> int:
    tenant_id = conn.scalar(select(Tenant.id).where(Tenant.domain == domain))
    if tenant_id is None:
        raise UnknownTenant(domain)
    return tenant_id
