"""The call log: FreeSWITCH's call records stored as entries per user, and read back.

`record_cdr` stores what one record says (`store_leg`, once it is read; esl.cdr decides
which entries, and how they merge); it is idempotent, entry by entry, and safe when the
same record is stored twice at once.
`import_error_dir` takes the records mod_xml_cdr could not post (its err-log-dir: nothing
in FreeSWITCH ever posts them again). `query_calls` and `calls_csv` read the log of a
tenant or of one user, a month at a time in the tenant's timezone.

Functions take the session explicitly and leave committing to the caller, except
`import_error_dir`, which commits each file's record before deleting the file.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from centrex import metrics
from centrex.db import in_slots, prepared, slot_values, slots, typed_run
from esl.cdr import (
    Entry,
    Kind,
    Leg,
    NotACdr,
    TenantLines,
    candidate_extensions,
    classify,
    parse_cdr,
    tenant_hints,
)
from provisioning import api_models
from provisioning.call_kinds import CallDirection
from provisioning.errors import DomainError, said
from provisioning.lookup import unknown_tenant
from provisioning.models import CallRecord, PublicNumber, Tenant, User
from provisioning.numbering import to_e164
from provisioning.service import NotFound
from xmlcurl import fsnames as fs
from xmlcurl.dialplan import public_number_candidates

log = logging.getLogger(__name__)

# A record is a few tens of kB; a file far larger is not one.
MAX_RECORD_BYTES = 8 * 1024 * 1024
# An unreadable file younger than this may still be being written by FreeSWITCH.
SETTLE_SECONDS = 60
REJECTED_DIR = "rejected"
MAX_PAGE = 1000
MAX_EXPORT = 100_000


class InvalidQuery(DomainError, ValueError):
    """A filter of the call log is malformed; the message says which and why."""


# --- storing -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Recorded:
    """What one record gave: the leg, and the entries it reported (extension, kind)."""

    uuid: str
    entries: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class _Tenant:
    id: int
    lines: TenantLines
    user_ids: dict[str, int]


# Built once per length of their lists (centrex.db.slots): building a statement, and
# SQLAlchemy's cache key for it, cost more than running it. A record's tenant and the
# lines it could concern come in one indexed query (by domain and extension), always as
# stored now: nothing to keep in step with changes.
@lru_cache(maxsize=64)
def _lines_by_domain(domains: int, extensions: int) -> Select[int, str, str, str, int]:
    return (
        select(Tenant.id, Tenant.domain, Tenant.country, User.extension, User.id.label("user_id"))
        .outerjoin(
            User,
            and_(
                User.tenant_id == Tenant.id,
                in_slots(User.extension, "e", extensions),
            ),
        )
        .where(in_slots(Tenant.domain, "d", domains))
    )


@lru_cache(maxsize=64)
def _tenant_by_public_number(numbers: int) -> Select[int, str, str]:
    return (
        select(Tenant.id, Tenant.domain, Tenant.country)
        .join(PublicNumber, PublicNumber.tenant_id == Tenant.id)
        .where(in_slots(PublicNumber.number, "n", numbers))
        .limit(1)
    )


@lru_cache(maxsize=64)
def _lines_of_tenant(extensions: int) -> Select[str, int]:
    return select(User.extension, User.id).where(
        User.tenant_id == bindparam("tenant_id"),
        in_slots(User.extension, "e", extensions),
    )


@lru_cache(maxsize=64)
def _public_lines(numbers: int) -> Select[str, str, int]:
    return (
        select(PublicNumber.number, User.extension, User.id)
        .join(User, User.id == PublicNumber.user_id)
        .where(
            PublicNumber.tenant_id == bindparam("tenant_id"),
            in_slots(PublicNumber.number, "n", numbers),
        )
    )


@lru_cache(maxsize=4096)
def _public_forms(dialled: str, country: str) -> tuple[str, ...]:
    """`public_number_candidates`, kept: parsing a number costs more than the lookup."""
    return public_number_candidates(dialled, country)


def _load_tenant(connection: Connection, leg: Leg, default_country: str) -> _Tenant | None:
    """The leg's tenant, with just the lines and public numbers the leg could concern:
    tenants by the domains the leg names first (in the leg's order), else by the public
    numbers it dialled. Core statements: the ORM's handling of a result costs more than
    the query."""
    hints = tenant_hints(leg)
    # No line has an empty extension: the value an empty list is looked up with.
    extensions = sorted(candidate_extensions(leg)) or [""]
    tenant: tuple[int, str, str] | None = None
    user_ids: dict[str, int] = {}
    if hints.domains:
        rows = prepared(_lines_by_domain(slots(len(hints.domains)), slots(len(extensions)))).rows(
            connection, {**slot_values("d", hints.domains), **slot_values("e", extensions)}
        )
        by_domain = {row.domain: row for row in rows}
        found = next((by_domain[d] for d in hints.domains if d in by_domain), None)
        if found is not None:
            tenant = (found.id, found.domain, found.country)
            user_ids = {r.extension: r.user_id for r in rows if r.id == found.id and r.user_id}
    if tenant is None:
        forms = {n for d in hints.public_destinations for n in _public_forms(d, default_country)}
        if not forms:
            return None
        found_rows = prepared(_tenant_by_public_number(slots(len(forms)))).rows(
            connection, slot_values("n", sorted(forms))
        )
        if not found_rows:
            return None
        row = found_rows[0]
        tenant = (row.id, row.domain, row.country)
        user_ids = dict(
            prepared(_lines_of_tenant(slots(len(extensions)))).rows(
                connection, {"tenant_id": row.id, **slot_values("e", extensions)}
            )
        )
    tenant_id, domain, country = tenant
    public_lines = {}
    if hints.public_destinations:
        forms_of = {
            dialled: {*_public_forms(dialled, country), *_public_forms(dialled, default_country)}
            for dialled in hints.public_destinations
        }
        numbers = sorted(set().union(*forms_of.values())) or [""]
        reached = {
            number: (extension, user_id)
            for number, extension, user_id in prepared(_public_lines(slots(len(numbers)))).rows(
                connection, {"tenant_id": tenant_id, **slot_values("n", numbers)}
            )
        }
        for dialled, candidates in forms_of.items():
            for number in sorted(candidates & reached.keys())[:1]:
                extension, user_id = reached[number]
                public_lines[dialled] = extension
                user_ids[extension] = user_id
    lines = TenantLines(domain, country, frozenset(user_ids), public_lines)
    return _Tenant(tenant_id, lines, user_ids)


@cache
def _upsert(dialect_name: str) -> Any:
    """Insert an entry, or replace the call's entry for its user if the new one is more
    telling: one statement, so that concurrent stores of the same record cannot clash.
    Built once per dialect; the values come with each execution."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    table = CallRecord.__table__
    statement = dialect.insert(table)
    new = statement.excluded
    # (Every expression of the update reads the entry as it was.)
    more_telling = table.c.precedence < new.precedence
    kept = {"id", "call_uuid", "user_id", "route"}
    replaced: dict[str, Any] = {
        c.name: case((more_telling, new[c.name]), else_=c) for c in table.c if c.name not in kept
    }
    # Only the caller's leg knows the routing decisions: they are kept whichever leg
    # reports first, and a more telling report brings its own if it has any.
    replaced["route"] = case(
        (table.c.route == "", new.route),
        (and_(more_telling, new.route != ""), new.route),
        else_=table.c.route,
    )
    return statement.on_conflict_do_update(
        index_elements=[table.c.call_uuid, table.c.user_id], set_=replaced
    )


def _row(tenant: _Tenant, leg: Leg, entry: Entry) -> dict[str, Any]:
    return {
        "tenant_id": tenant.id,
        "user_id": tenant.user_ids[entry.extension],
        "extension": entry.extension,
        "call_uuid": leg.call_uuid,
        "leg_uuid": leg.uuid,
        "kind": str(entry.kind),
        "precedence": entry.precedence,
        "direction": entry.direction,
        "peer_number": entry.peer_number,
        "peer_name": entry.peer_name,
        "started_at": entry.started_at,
        "answered_at": entry.answered_at,
        "ended_at": entry.ended_at,
        "duration": entry.duration,
        "billsec": entry.billsec,
        "hangup_cause": entry.hangup_cause,
        "node": leg.node,
        "route": entry.route,
    }


def record_cdr(connection: Connection, xml: bytes, default_country: str = "FR") -> Recorded:
    """Store the call-log entries one record gives (`NotACdr` if it is none)."""
    return store_leg(connection, parse_cdr(xml), default_country)


def store_leg(connection: Connection, leg: Leg, default_country: str = "FR") -> Recorded:
    """Store the call-log entries of a record as read, in the connection's transaction
    (a core one: an ORM session would cost more than the statements), or each entry on
    its own on a connection in autocommit: storing an entry again changes nothing.
    `default_country` reads public numbers carriers send in national form, as routing
    does."""
    tenant = _load_tenant(connection, leg, default_country)
    if tenant is None:
        return Recorded(leg.uuid)
    entries = classify(leg, tenant.lines)
    if entries:
        rows = [_row(tenant, leg, entry) for entry in entries]
        typed_run(connection, _upsert(connection.dialect.name), rows)
    return Recorded(leg.uuid, tuple((e.extension, str(e.kind)) for e in entries))


# --- FreeSWITCH's err-log-dir ---------------------------------------------------------------
@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # moved into rejected/
    left: list[str] = field(default_factory=list)  # for a later run
    error: str | None = None  # why the import stopped early (the database failed)

    def __str__(self) -> str:
        text = (
            f"imported {len(self.imported)}, rejected {len(self.rejected)}"
            f" (moved to {REJECTED_DIR}/), left {len(self.left)}"
        )
        return text + (f"; stopped: {self.error}" if self.error else "")


def _set_aside(path: Path, reason: str, report: ImportReport) -> None:
    """Move a file that is no record into rejected/, unless FreeSWITCH may still be
    writing it."""
    try:
        if time.time() - path.stat().st_mtime < SETTLE_SECONDS:
            report.left.append(path.name)
            return
        aside = path.parent / REJECTED_DIR
        aside.mkdir(exist_ok=True)
        path.replace(aside / path.name)
    except FileNotFoundError:
        return  # another run took it meanwhile
    report.rejected.append(path.name)
    log.warning("call record %s is not one (%s): moved to %s/", path.name, reason, aside)


def import_error_dir(
    engine: Engine, directory: str | Path, default_country: str = "FR"
) -> ImportReport:
    """Import every `[a_]<uuid>.cdr.xml` FreeSWITCH left in `directory`, each in its own
    transaction; a file is deleted only once its record is committed (importing it again
    would change nothing). A file that is no record is moved into `rejected/`, unless it
    is younger than SETTLE_SECONDS (FreeSWITCH may still be writing it). The first
    database failure stops the run: the files stay for the next one.

    Meant to be run every minute or so by the event listener when `settings.cdr_error_dir`
    is set (with `settings.default_country`), and by `centrex cdr import`. Several
    processes may run it at once: a record stored twice changes nothing, and a file
    another run took is skipped."""
    report = ImportReport()
    paths = sorted(Path(directory).glob("*" + fs.CDR_FILE_SUFFIX))
    for number, path in enumerate(paths):
        try:
            with path.open("rb") as fh:
                data = fh.read(MAX_RECORD_BYTES + 1)
            if len(data) > MAX_RECORD_BYTES:
                raise NotACdr("larger than any call record")
            with engine.begin() as connection:
                record_cdr(connection, data, default_country)
            path.unlink(missing_ok=True)
            report.imported.append(path.name)
        except FileNotFoundError:
            continue  # another run took it meanwhile
        except NotACdr as exc:
            _set_aside(path, str(exc), report)
        except SQLAlchemyError as exc:
            report.error = f"database: {type(exc).__name__}"
            report.left += [p.name for p in paths[number:]]
            log.warning("call records import stopped, %d left: %s", len(paths) - number, exc)
            break
        except OSError as exc:
            log.warning("call record %s left in place: %s", path.name, exc)
            report.left.append(path.name)
    if report.imported or report.rejected:
        log.info("call records imported from %s: %s", directory, report)
    metrics.imported(report)
    return report


# --- reading -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CallView:
    """One entry as shown: times in the tenant's timezone, the peer's name looked up."""

    id: int
    call_uuid: str
    extension: str
    kind: str
    direction: str
    peer_number: str
    peer_name: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    duration: int
    billsec: int
    hangup_cause: str
    route: str = ""

    def as_response(self) -> api_models.Call:
        return api_models.Call(
            id=self.id,
            call=self.call_uuid,
            user=self.extension,
            kind=Kind(self.kind),
            direction=CallDirection(self.direction),
            peer_number=self.peer_number,
            peer_name=self.peer_name,
            started_at=self.started_at,
            answered_at=self.answered_at,
            ended_at=self.ended_at,
            duration=self.duration,
            billsec=self.billsec,
            hangup_cause=self.hangup_cause,
            route=self.route,
        )

    def as_dict(self) -> dict[str, Any]:
        return self.as_response().body()


@dataclass(frozen=True)
class CallPage:
    total: int
    limit: int
    offset: int
    calls: list[CallView]

    def as_response(self) -> api_models.CallPage:
        return api_models.CallPage(
            total=self.total,
            limit=self.limit,
            offset=self.offset,
            calls=[c.as_response() for c in self.calls],
        )


_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def month_bounds(month: str, timezone: str) -> tuple[datetime, datetime]:
    """`YYYY-MM` → its first instant and the next month's, in UTC, for a month read in
    `timezone` (so a call at 00:30 on the 1st, local time, belongs to that month)."""
    match = _MONTH.fullmatch(month)
    if match is None or not 1 <= int(match[2]) <= 12:
        raise InvalidQuery(
            said("month_format", "month must be YYYY-MM, got %(month)r", month=month)
        )
    year, number = int(match[1]), int(match[2])
    zone = ZoneInfo(timezone)
    start = datetime(year, number, 1, tzinfo=zone)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _number_terms(text: str, country: str) -> set[str]:
    digits = "".join(c for c in text if c.isdigit() or c == "+")
    if not digits.strip("+"):
        return set()
    terms = {digits}
    if digits.startswith("0") and not digits.startswith("00"):
        terms.add(digits[1:])  # national prefix: stored numbers are E.164
    international = to_e164(digits, country)
    if international:
        terms.add(international)
    return terms


def _contact_numbers(contacts: Iterable[dict[str, Any]], name_part: str) -> set[str]:
    return {
        str(n)
        for c in contacts
        if name_part in str(c.get("name", "")).casefold()
        for n in c.get("numbers", [])
    }


def _search(session: Session, tenant: Tenant, user: User | None, text: str) -> ColumnElement[bool]:
    """The peer's number or caller-ID name holds `text`, or the peer is a colleague, or
    (in one user's log) a contact, whose name holds it."""
    lowered = text.casefold()
    conditions: list[Any] = [func.lower(CallRecord.peer_name).contains(lowered, autoescape=True)]
    conditions += [
        CallRecord.peer_number.contains(t, autoescape=True)
        for t in _number_terms(text, tenant.country)
    ]
    colleagues = session.execute(
        select(User.extension, User.public_number).where(
            User.tenant_id == tenant.id,
            func.lower(User.display_name).contains(lowered, autoescape=True),
        )
    ).all()
    numbers = {n for row in colleagues for n in row if n}
    if user is not None:
        numbers |= _contact_numbers(user.contacts, lowered)
    if numbers:
        conditions.append(CallRecord.peer_number.in_(numbers))
    return or_(*conditions)


def _filtered(
    session: Session,
    tenant: Tenant,
    user: str | None,
    month: str | None,
    kind: str | None,
    search: str | None,
) -> Select[CallRecord]:
    query = select(CallRecord).where(CallRecord.tenant_id == tenant.id)
    line = None
    if user is not None:
        line = session.scalars(
            select(User).where(User.tenant_id == tenant.id, User.extension == user)
        ).one_or_none()
        if line is None:
            raise NotFound(f"no user {user} in {tenant.domain}")
        query = query.where(CallRecord.user_id == line.id)
    if month:
        start, end = month_bounds(month, tenant.timezone)
        query = query.where(CallRecord.started_at >= start, CallRecord.started_at < end)
    if kind:
        if kind not in {k.value for k in Kind}:
            raise InvalidQuery(
                said(
                    "call_kind",
                    "kind must be one of %(kinds)s, got %(kind)r",
                    kinds=", ".join(Kind),
                    kind=kind,
                )
            )
        query = query.where(CallRecord.kind == kind)
    if search and search.strip():
        query = query.where(_search(session, tenant, line, search.strip()))
    return query


def _names(
    session: Session, tenant: Tenant, rows: list[CallRecord]
) -> dict[tuple[int | None, str], str]:
    """Names for the peers of `rows`: the user's own contact, else a colleague (by
    extension or public number)."""
    peers = {r.peer_number for r in rows if r.peer_number}
    if not peers:
        return {}
    colleagues: dict[str, str] = {}
    for extension, public, name in session.execute(
        select(User.extension, User.public_number, User.display_name).where(
            User.tenant_id == tenant.id,
            or_(User.extension.in_(peers), User.public_number.in_(peers)),
        )
    ):
        colleagues[extension] = name
        if public:
            colleagues.setdefault(public, name)
    owners = {r.user_id for r in rows if r.user_id is not None}
    contacts: dict[int, dict[str, str]] = {}
    for user_id, entries in session.execute(
        select(User.id, User.contacts).where(User.id.in_(owners))
    ):
        contacts[user_id] = {str(n): str(c["name"]) for c in entries for n in c.get("numbers", [])}
    names = {}
    for r in rows:
        found = contacts.get(r.user_id or 0, {}).get(r.peer_number) or colleagues.get(r.peer_number)
        if found:
            names[(r.user_id, r.peer_number)] = found
    return names


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive values: they were stored in UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _views(session: Session, tenant: Tenant, rows: list[CallRecord]) -> list[CallView]:
    zone = ZoneInfo(tenant.timezone)
    names = _names(session, tenant, rows)

    def local(value: datetime) -> datetime:
        return _utc(value).astimezone(zone)

    return [
        CallView(
            id=r.id,
            call_uuid=r.call_uuid,
            extension=r.extension,
            kind=r.kind,
            direction=r.direction,
            peer_number=r.peer_number,
            peer_name=names.get((r.user_id, r.peer_number), r.peer_name),
            started_at=local(r.started_at),
            answered_at=local(r.answered_at) if r.answered_at else None,
            ended_at=local(r.ended_at),
            duration=r.duration,
            billsec=r.billsec,
            hangup_cause=r.hangup_cause,
            route=r.route,
        )
        for r in rows
    ]


def _tenant(session: Session, domain: str) -> Tenant:
    tenant = session.scalars(select(Tenant).where(Tenant.domain == domain)).one_or_none()
    if tenant is None:
        raise NotFound(unknown_tenant(domain))
    return tenant


def query_calls(
    session: Session,
    tenant: str,
    user: str | None = None,
    month: str | None = None,
    kind: str | None = None,
    search: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> CallPage:
    """The tenant's call log, or one user's (`user`: an extension), latest first:
    optionally one month (`YYYY-MM`, in the tenant's timezone), one kind, and entries
    whose peer matches `search`."""
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidQuery(
            said(
                "page_bounds",
                "limit must be 1 to %(max)d and offset at least 0",
                max=MAX_PAGE,
            )
        )
    found = _tenant(session, tenant)
    query = _filtered(session, found, user, month, kind, search)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(
        session.scalars(
            query.order_by(CallRecord.started_at.desc(), CallRecord.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
    return CallPage(total, limit, offset, _views(session, found, rows))


CSV_COLUMNS = (
    "started_at",
    "user",
    "kind",
    "direction",
    "peer_number",
    "peer_name",
    "answered_at",
    "ended_at",
    "duration",
    "billsec",
    "hangup_cause",
    "route",
)
_PLAIN_NUMBER = re.compile(r"\+?[0-9]+")


def _cell(value: Any) -> str:
    """A CSV cell that spreadsheets will not run: text a caller chose (a caller-ID name
    such as `=HYPERLINK(…)`) is quoted with a leading apostrophe."""
    text = "" if value is None else str(value)
    if text[:1] in {"=", "+", "-", "@", "\t", "\r"} and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def calls_csv(
    session: Session,
    tenant: str,
    user: str | None = None,
    month: str | None = None,
    kind: str | None = None,
    search: str | None = None,
) -> str:
    """The same entries as `query_calls` (all of them, up to MAX_EXPORT), as CSV."""
    found = _tenant(session, tenant)
    query = _filtered(session, found, user, month, kind, search)
    rows = list(
        session.scalars(
            query.order_by(CallRecord.started_at.desc(), CallRecord.id.desc()).limit(MAX_EXPORT)
        )
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for call in _views(session, found, rows):
        row = call.as_dict()
        writer.writerow([_cell(row[c]) for c in CSV_COLUMNS])
    return out.getvalue()
