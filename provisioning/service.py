"""Use cases of provisioning: apply, export and delete a tenant; API tokens.

Every function takes the session explicitly and leaves committing to the caller, so
that one use case is one transaction. `apply_document` validates everything before it
writes anything.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import holidays
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from provisioning import api_models, holiday_csv, media
from provisioning.call_handling import CallHandling
from provisioning.document import (
    ContactDoc,
    DocumentInvalid,
    GatewayDoc,
    HolidayDoc,
    NumberDoc,
    Problem,
    ScheduleDoc,
    TenantDoc,
    UserDoc,
    VoicemailDoc,
    dump_document,
    parse_document,
)
from provisioning.lookup import NotFound, find_line
from provisioning.models import (
    ApiToken,
    Gateway,
    GroupMember,
    HuntGroup,
    Media,
    PublicNumber,
    Queue,
    QueueAgent,
    Tenant,
    User,
)
from provisioning.reminders import reschedule_tenant
from provisioning.tenant_routing import (
    Destination,
    DirectoryEntryDoc,
    GroupDoc,
    NumberRoute,
    QueueDoc,
    SpeedDialDoc,
)


@dataclass
class ApplyReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def as_dict(self) -> dict[str, list[str]]:
        return {"created": self.created, "updated": self.updated, "deleted": self.deleted}


def _assign(obj: Any, values: dict[str, Any]) -> bool:
    """Set only what differs, so that applying the same document twice writes nothing."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _load_tenant(session: Session, domain: str) -> Tenant | None:
    return session.scalars(
        select(Tenant)
        .where(Tenant.domain == domain)
        .options(
            selectinload(Tenant.users),
            selectinload(Tenant.numbers).selectinload(PublicNumber.user),
            selectinload(Tenant.gateway),
            selectinload(Tenant.groups).selectinload(HuntGroup.members),
            selectinload(Tenant.queues).selectinload(Queue.agents),
        )
    ).one_or_none()


def _check_against_other_tenants(session: Session, doc: TenantDoc) -> None:
    wanted = {n.number: i for i, n in enumerate(doc.numbers)}
    if not wanted:
        return
    rows = session.execute(
        select(PublicNumber.number, Tenant.domain)
        .join(Tenant)
        .where(PublicNumber.number.in_(wanted), Tenant.domain != doc.domain)
    ).all()
    if rows:
        raise DocumentInvalid(
            [
                Problem(f"numbers[{wanted[number]}].number", f"{number} belongs to another tenant")
                for number, _domain in sorted(rows, key=lambda row: wanted[row.number])
            ]
        )


def _user_values(doc: UserDoc, position: int) -> dict[str, Any]:
    return {
        "position": position,
        "display_name": doc.name,
        "sip_password": doc.sip_password,
        "public_number": doc.public_number,
        "voicemail_enabled": doc.voicemail.enabled,
        "voicemail_pin": doc.voicemail.pin,
        "voicemail_emails": list(doc.voicemail.emails),
        "max_concurrent_calls": doc.max_concurrent_calls,
        "call_waiting": doc.call_waiting,
        "allowed_destinations": [str(c) for c in doc.allowed_destinations],
        "contacts": [c.model_dump(mode="json") for c in doc.contacts],
        "call_handling": doc.call_handling.model_dump(mode="json", exclude_defaults=True),
        "panel_admin": doc.panel_admin,
    }


def apply_document(session: Session, doc: TenantDoc) -> ApplyReport:
    """Make the database describe `doc` (already parsed and valid); report what changed."""
    _check_against_other_tenants(session, doc)
    report = ApplyReport()
    tenant = _load_tenant(session, doc.domain)
    tenant_values = {
        "name": doc.name,
        "timezone": doc.timezone,
        "country": doc.country,
        "main_number": doc.main_number,
        "schedules": [s.model_dump(mode="json", exclude_defaults=True) for s in doc.schedules],
        "holidays": [
            h.model_dump(mode="json", by_alias=True, exclude_defaults=True) for h in doc.holidays
        ],
        "speed_dials": [_dumped(d) for d in doc.speed_dials],
        "directory": [_dumped(d) for d in doc.directory],
    }
    calendar_changed = tenant is not None and (
        tenant.timezone != doc.timezone or tenant.holidays != tenant_values["holidays"]
    )
    if tenant is None:
        tenant = Tenant(
            domain=doc.domain,
            users=[],
            numbers=[],
            gateway=None,
            groups=[],
            queues=[],
            **tenant_values,
        )
        session.add(tenant)
        report.created.append(f"tenant {doc.domain}")
    elif _assign(tenant, tenant_values):
        report.updated.append(f"tenant {doc.domain}")

    users = {u.extension: u for u in tenant.users}
    wanted_users = {u.extension for u in doc.users}
    for ext, gone in list(users.items()):
        if ext not in wanted_users:
            tenant.users.remove(gone)
            del users[ext]
            report.deleted.append(f"user {ext}")
    for position, udoc in enumerate(doc.users):
        values = _user_values(udoc, position)
        existing = users.get(udoc.extension)
        if existing is None:
            users[udoc.extension] = User(extension=udoc.extension, **values)
            tenant.users.append(users[udoc.extension])
            report.created.append(f"user {udoc.extension}")
        elif _assign(existing, values):
            report.updated.append(f"user {udoc.extension}")

    numbers = {n.number: n for n in tenant.numbers}
    wanted_numbers = {n.number for n in doc.numbers}
    for number, unwanted in list(numbers.items()):
        if number not in wanted_numbers:
            tenant.numbers.remove(unwanted)
            del numbers[number]
            report.deleted.append(f"number {number}")
    # Users must have ids before numbers can point at them.
    session.flush()
    for position, ndoc in enumerate(doc.numbers):
        target = users[ndoc.user].id if ndoc.user is not None else None
        routing = _dumped(ndoc, include={"routes", "otherwise"})
        values = {"position": position, "label": ndoc.label, "user_id": target, "routing": routing}
        row = numbers.get(ndoc.number)
        if row is None:
            tenant.numbers.append(PublicNumber(number=ndoc.number, **values))
            report.created.append(f"number {ndoc.number}")
        elif _assign(row, values):
            report.updated.append(f"number {ndoc.number}")

    if doc.gateway is None:
        if tenant.gateway is not None:
            tenant.gateway = None
            report.deleted.append("gateway")
    else:
        gw = doc.gateway
        gw_values = {
            "proxy": gw.proxy,
            "username": gw.username,
            "password": gw.password,
            "register": gw.registration,
            "transport": gw.transport,
            "number_format": gw.number_format,
        }
        if tenant.gateway is None:
            tenant.gateway = Gateway(**gw_values)
            report.created.append("gateway")
        elif _assign(tenant.gateway, gw_values):
            report.updated.append("gateway")

    _apply_units(tenant, doc, users, report)
    session.flush()
    if calendar_changed:
        # Reminders are planned in the tenant's timezone, around its holidays.
        reschedule_tenant(session, doc.domain, datetime.now(UTC))
    return report


def _dumped(model: Any, **options: Any) -> dict[str, Any]:
    """A document part in its canonical stored form (what equals the default left out)."""
    dumped: dict[str, Any] = model.model_dump(mode="json", exclude_defaults=True, **options)
    return dumped


# What the database keeps in columns of its own; the rest of a group's or queue's
# document is stored whole in `settings`.
_UNIT_COLUMNS = {"name", "extension", "short_number", "members", "agents"}


def _match_units(rows: list[Any], items: Sequence[GroupDoc | QueueDoc]) -> dict[str, Any]:
    """The stored row of each document item, by the item's name (casefolded): the row of
    that name, else — a rename — the row not otherwise matched that has its extension.
    A renamed group stays the same row: a new one beside the old would clash with its
    extension, and its members would lose their logged-in state."""
    by_name = {row.name.casefold(): row for row in rows}
    matched = {
        i.name.casefold(): by_name[i.name.casefold()] for i in items if i.name.casefold() in by_name
    }
    taken = {id(row) for row in matched.values()}
    by_extension = {row.extension: row for row in rows if id(row) not in taken}
    for item in items:
        key = item.name.casefold()
        if key not in matched and item.extension in by_extension:
            matched[key] = by_extension.pop(item.extension)
    return matched


def _apply_units(
    tenant: Tenant, doc: TenantDoc, users: dict[str, User], report: ApplyReport
) -> None:
    """Groups and queues, matched by name; members keep their logged-in state."""
    units: list[tuple[str, Sequence[GroupDoc | QueueDoc], list[Any], type, type, str]] = [
        ("group", doc.groups, tenant.groups, HuntGroup, GroupMember, "members"),
        ("queue", doc.queues, tenant.queues, Queue, QueueAgent, "agents"),
    ]
    for kind, items, rows, row_type, person_type, people_of in units:
        existing = _match_units(rows, items)
        for gone in [row for row in rows if row not in existing.values()]:
            rows.remove(gone)
            report.deleted.append(f"{kind} {gone.name}")
        for position, item in enumerate(items):
            values = {
                "position": position,
                "name": item.name,
                "extension": item.extension,
                "short_number": item.short_number,
                "settings": _dumped(item, exclude=_UNIT_COLUMNS),
            }
            row: Any = existing.get(item.name.casefold())
            if row is None:
                row = row_type(**values)
                rows.append(row)
                report.created.append(f"{kind} {item.name}")
                changed = False
            else:
                changed = _assign(row, values)
            people = getattr(row, people_of)
            logged_in = {p.user_id: p.logged_in for p in people}
            wanted_people = [
                person_type(
                    user_id=users[ext].id, position=k, logged_in=logged_in.get(users[ext].id, True)
                )
                for k, ext in enumerate(getattr(item, people_of))
            ]
            now = [(p.user_id, p.position) for p in people]
            if now != [(p.user_id, p.position) for p in wanted_people]:
                people[:] = wanted_people
                changed = True
            if changed and f"{kind} {item.name}" not in report.created:
                report.updated.append(f"{kind} {item.name}")


def _unit_document(
    row: HuntGroup | Queue, people_of: str, people: Sequence[Any], extension_of: dict[int, str]
) -> dict[str, Any]:
    return {
        **row.settings,
        "name": row.name,
        "extension": row.extension,
        "short_number": row.short_number,
        people_of: [extension_of[p.user_id] for p in people],
    }


def _user_doc(u: User) -> UserDoc:
    return UserDoc(
        extension=u.extension,
        name=u.display_name,
        sip_password=u.sip_password,
        public_number=u.public_number,
        voicemail=VoicemailDoc(
            enabled=u.voicemail_enabled,
            pin=u.voicemail_pin,
            emails=list(u.voicemail_emails),
        ),
        max_concurrent_calls=u.max_concurrent_calls,
        call_waiting=u.call_waiting,
        allowed_destinations=u.allowed_destinations,  # type: ignore[arg-type]
        contacts=[ContactDoc.model_validate(c) for c in u.contacts],
        call_handling=CallHandling.model_validate(u.call_handling),
        panel_admin=u.panel_admin,
    )


def export_user(session: Session, domain: str, extension: str) -> UserDoc:
    """One user's part of the tenant document (one indexed query, whatever the tenant)."""
    return _user_doc(find_line(session, domain, extension)[1])


def export_document(session: Session, domain: str) -> TenantDoc:
    tenant = _load_tenant(session, domain)
    if tenant is None:
        raise NotFound(f"no tenant {domain}")
    extension_of = {u.id: u.extension for u in tenant.users}
    gateway = tenant.gateway
    return TenantDoc(
        domain=tenant.domain,
        name=tenant.name,
        timezone=tenant.timezone,
        country=tenant.country,
        main_number=tenant.main_number,
        schedules=[ScheduleDoc.model_validate(s) for s in tenant.schedules],
        holidays=[HolidayDoc.model_validate(h) for h in tenant.holidays],
        gateway=None
        if gateway is None
        else GatewayDoc(
            proxy=gateway.proxy,
            username=gateway.username,
            password=gateway.password,
            registration=gateway.register,
            transport=gateway.transport,  # type: ignore[arg-type]
            number_format=gateway.number_format,  # type: ignore[arg-type]
        ),
        numbers=[
            NumberDoc(
                number=n.number,
                label=n.label,
                user=extension_of.get(n.user_id) if n.user_id is not None else None,
                routes=[NumberRoute.model_validate(r) for r in n.routing.get("routes", [])],
                otherwise=Destination.model_validate(n.routing["otherwise"])
                if "otherwise" in n.routing
                else None,
            )
            for n in sorted(tenant.numbers, key=lambda n: (n.position, n.number))
        ],
        groups=[
            GroupDoc.model_validate(_unit_document(g, "members", g.members, extension_of))
            for g in sorted(tenant.groups, key=lambda g: g.position)
        ],
        queues=[
            QueueDoc.model_validate(_unit_document(q, "agents", q.agents, extension_of))
            for q in sorted(tenant.queues, key=lambda q: q.position)
        ],
        speed_dials=[SpeedDialDoc.model_validate(d) for d in tenant.speed_dials],
        directory=[DirectoryEntryDoc.model_validate(d) for d in tenant.directory],
        users=[_user_doc(u) for u in sorted(tenant.users, key=lambda u: (u.position, u.extension))],
    )


def list_tenants(session: Session, only: str | None = None) -> list[str]:
    query = select(Tenant.domain).order_by(Tenant.domain)
    if only is not None:
        query = query.where(Tenant.domain == only)
    return list(session.scalars(query))


def delete_tenant(
    session: Session, domain: str, media_store: media.MediaStore | None = None
) -> None:
    """Delete the tenant's rows, then (given the store) its media files."""
    tenant = session.scalars(select(Tenant).where(Tenant.domain == domain)).one_or_none()
    if tenant is None:
        raise NotFound(f"no tenant {domain}")
    session.delete(tenant)
    session.flush()
    if media_store is not None:
        media_store.remove_tenant(domain)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, name: str, tenant_domain: str | None) -> str:
    """A new API token; only its hash is stored, so it is shown once, here."""
    tenant_id = None
    if tenant_domain is not None:
        tenant_id = session.scalars(select(Tenant.id).where(Tenant.domain == tenant_domain)).first()
        if tenant_id is None:
            raise NotFound(f"no tenant {tenant_domain}")
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_sha256=_token_hash(token), tenant_id=tenant_id))
    session.flush()
    return token


@dataclass(frozen=True)
class TokenScope:
    """What a token may see: one tenant's domain, or every tenant (domain None)."""

    name: str
    domain: str | None

    def allows(self, domain: str) -> bool:
        return self.domain is None or self.domain == domain


def token_scope(session: Session, token: str) -> TokenScope | None:
    row = session.execute(
        select(ApiToken.name, Tenant.domain)
        .outerjoin(Tenant, Tenant.id == ApiToken.tenant_id)
        .where(ApiToken.token_sha256 == _token_hash(token))
    ).first()
    return None if row is None else TokenScope(row.name, row.domain)


def national_holidays(country: str, year: int) -> list[tuple[date, str]]:
    """The public holidays of `country` in `year` (movable feasts such as Easter Monday
    included), from the `holidays` library."""
    try:
        found = holidays.country_holidays(country, years=year)
    except NotImplementedError:
        raise NotFound(f"no national holidays known for {country}") from None
    return sorted(found.items())


def import_holidays(
    session: Session, domain: str, country: str | None, year: int, extension: str | None = None
) -> ApplyReport:
    """Add a year's national holidays to the tenant's holidays, or to one user's planner
    special days; dates already there are kept once. Goes through the whole-document
    validation like any other change."""
    doc = export_document(session, domain)
    days = national_holidays(country or doc.country, year)
    if extension is None:
        known = {h.date for h in doc.holidays if h.date}
        doc.holidays += [
            HolidayDoc(name=name[:64], date=day) for day, name in days if day not in known
        ]
    else:
        user = next((u for u in doc.users if u.extension == extension), None)
        if user is None:
            raise NotFound(f"no user {extension} in {domain}")
        special = user.call_handling.planner.special_days
        if special is None:
            raise DocumentInvalid(
                [
                    Problem(
                        "call_handling.planner.special_days",
                        "set a rule list for special days first",
                    )
                ]
            )
        special.dates = sorted(set(special.dates) | {day for day, _ in days})
    return apply_document(session, parse_document(dump_document(doc)))


def import_holidays_csv(session: Session, domain: str, text: str) -> ApplyReport:
    """Add the holidays of a CSV file (see `holiday_csv`) to the tenant's; days already
    there are kept once. Any bad row: DocumentInvalid with every line, nothing written."""
    new = holiday_csv.parse_holidays_csv(text)
    doc = export_document(session, domain)
    doc.holidays = holiday_csv.merged(doc.holidays, new)
    return apply_document(session, parse_document(dump_document(doc)))


# --- media ----------------------------------------------------------------------------
@dataclass(frozen=True)
class MediaItem:
    domain: str
    kind: str
    name: str
    duration_ms: int
    size: int
    created_at: datetime
    # The file FreeSWITCH plays, relative to the media directory.
    path: str

    def as_response(self) -> api_models.Media:
        # SQLite gives back naive datetimes; the database stores UTC.
        created = self.created_at if self.created_at.tzinfo else self.created_at.replace(tzinfo=UTC)
        return api_models.Media(
            kind=self.kind,
            name=self.name,
            duration_ms=self.duration_ms,
            size=self.size,
            created_at=created,
            stream=media.stream_name(self.domain, self.name) if self.kind == media.MUSIC else None,
        )


def _tenant_id(session: Session, domain: str) -> int:
    tenant_id = session.scalars(select(Tenant.id).where(Tenant.domain == domain)).first()
    if tenant_id is None:
        raise NotFound(f"no tenant {domain}")
    return tenant_id


def _media_item(domain: str, row: Media) -> MediaItem:
    return MediaItem(
        domain, row.kind, row.name, row.duration_ms, row.size, row.created_at, row.path
    )


def upload_media(
    session: Session, store: media.MediaStore, domain: str, kind: str, name: str, data: bytes
) -> tuple[MediaItem, bool]:
    """Create or replace a tenant's media from WAV or MP3 bytes; True when created.
    Everything cheap is checked before the audio is converted."""
    media.check_kind(kind)
    media.check_name(name)
    tenant_id = _tenant_id(session, domain)
    store.check_fits(domain, kind, name)
    row = session.scalars(
        select(Media).where(Media.tenant_id == tenant_id, Media.kind == kind, Media.name == name)
    ).one_or_none()
    created = row is None
    if created:
        count = session.scalar(
            select(func.count())
            .select_from(Media)
            .where(Media.tenant_id == tenant_id, Media.kind == kind)
        )
        if (count or 0) >= media.MAX_PER_KIND:
            raise media.MediaLimitReached(
                f"{domain} already has {media.MAX_PER_KIND} media of kind {kind}: delete one first"
            )
    converted = media.convert(data)
    path = store.write(domain, kind, name, converted)
    if row is None:
        row = Media(tenant_id=tenant_id, kind=kind, name=name)
        session.add(row)
    row.path = path
    row.duration_ms = converted.duration_ms
    row.size = converted.size
    session.flush()
    return _media_item(domain, row), created


def list_media(session: Session, domain: str) -> list[MediaItem]:
    tenant_id = _tenant_id(session, domain)
    rows = session.scalars(
        select(Media).where(Media.tenant_id == tenant_id).order_by(Media.kind, Media.name)
    )
    return [_media_item(domain, row) for row in rows]


def delete_media(
    session: Session, store: media.MediaStore, domain: str, kind: str, name: str
) -> None:
    """Delete the row, then the files."""
    tenant_id = _tenant_id(session, domain)
    row = session.scalars(
        select(Media).where(Media.tenant_id == tenant_id, Media.kind == kind, Media.name == name)
    ).one_or_none()
    if row is None:
        raise NotFound(f"no {kind} {name} in {domain}")
    session.delete(row)
    session.flush()
    store.remove(domain, kind, name)
