"""What changed on lines since the listener last looked (`line_changes`, written by the
database's triggers, migration 0032), and the key states of only those lines.

The listener used to rebuild every user's key states on a timer: a scan of the whole
users table (15 ms at 100,000 users) in the hub every few seconds. Now it reads the
rows past the last id it saw — an index range, empty most of the time — and
recomputes the keys of the lines named there (`key_states_of`), or of a whole tenant
for a row without extension.

Ids are handed out when a transaction writes, not when it commits: on PostgreSQL a
long transaction (an apply of many users) may commit its rows after a later, shorter
one was read. An id skipped over is therefore a gap, looked for again on every read
for `GAP_WAIT` seconds (a rolled-back transaction leaves one that never fills).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, or_, select

from provisioning.models import GroupMember, HuntGroup, LineChange, Tenant, User
from xmlcurl import fsnames as fs

from .keys import Key, key_states

# How long a skipped id may still arrive (the longest write transaction expected).
GAP_WAIT = 600.0
# More gaps than this: the oldest are given up (a storm of rolled-back writes).
MAX_GAPS = 10_000
# Rows older than this are deleted (every listener has long read them).
KEEP = timedelta(days=1)


@dataclass(frozen=True)
class Changed:
    """Lines whose keys may have changed: one by one, and whole tenants."""

    lines: frozenset[tuple[str, str]] = frozenset()  # (domain, extension)
    tenants: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.lines or self.tenants)

    def __len__(self) -> int:
        return len(self.lines) + len(self.tenants)


class ChangeCursor:
    """Reads `line_changes` past what it has already read."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last: int | None = None  # None: not started
        self._gaps: dict[int, float] = {}  # a skipped id → when it was first missed

    @property
    def started(self) -> bool:
        return self._last is not None

    def start(self, conn: Connection) -> None:
        """From now on: what is already logged is in whatever the caller reads next."""
        self._last = conn.scalar(select(func.max(LineChange.id))) or 0
        self._gaps.clear()

    def read(self, conn: Connection) -> Changed:
        if self._last is None:
            raise RuntimeError("read before start")
        now = self._clock()
        self._gaps = {i: at for i, at in self._gaps.items() if now - at < GAP_WAIT}
        query = select(LineChange.id, LineChange.domain, LineChange.extension).order_by(
            LineChange.id
        )
        if self._gaps:
            query = query.where(or_(LineChange.id > self._last, LineChange.id.in_(self._gaps)))
        else:
            query = query.where(LineChange.id > self._last)
        lines: set[tuple[str, str]] = set()
        tenants: set[str] = set()
        expected = self._last + 1
        for id_, domain, extension in conn.execute(query):
            if id_ > self._last:
                for skipped in range(expected, id_):
                    self._gaps[skipped] = now
                expected = id_ + 1
                self._last = id_
            else:
                self._gaps.pop(id_, None)
            if extension is None:
                tenants.add(domain)
            else:
                lines.add((domain, extension))
        if len(self._gaps) > MAX_GAPS:
            for skipped in sorted(self._gaps)[: len(self._gaps) - MAX_GAPS]:
                del self._gaps[skipped]
        return Changed(frozenset(lines), frozenset(tenants))


def prune(conn: Connection, now: datetime) -> int:
    """Delete rows every listener has long read."""
    result = conn.execute(delete(LineChange).where(LineChange.at < now - KEEP))
    return result.rowcount or 0


def in_scope(key: Key, changed: Changed) -> bool:
    """Whether `key` is one of the keys `changed` may have moved (as last published)."""
    if key.domain in changed.tenants:
        return True
    if key.proto == fs.PROTO_DND:
        return (key.domain, key.user) in changed.lines
    member = key.user.partition("-")[2]
    return bool(member) and (key.domain, member) in changed.lines


@dataclass(frozen=True)
class Rekeyed:
    """Keys `changed` may have moved (`scope`) and the state now of those that have
    one (a key of the scope missing from `states` is off)."""

    scope: frozenset[Key]
    states: dict[Key, bool]


def key_states_of(conn: Connection, changed: Changed, published: Iterable[Key]) -> Rekeyed:
    """The keys `changed` may have moved: those of its lines (DND, their group log-in
    keys) and of the groups they are or were members of (a group's key is lit while
    any member is logged in). A handful of indexed queries per tenant named, whatever
    the number of users."""
    published = list(published)
    by_domain: dict[str, set[str]] = {}
    for domain, extension in changed.lines:
        if domain not in changed.tenants:
            by_domain.setdefault(domain, set()).add(extension)
    # Groups the lines were members of when the keys were last published.
    groups: dict[str, set[str]] = {}
    for key in published:
        if key.proto == fs.PROTO_GROUP and in_scope(key, changed):
            groups.setdefault(key.domain, set()).add(key.user.partition("-")[0])

    dnd_rows: list[tuple[str, str, dict | None]] = []
    member_rows: list[tuple[str, str, str, bool]] = []
    members = (
        select(Tenant.domain, HuntGroup.extension, User.extension, GroupMember.logged_in)
        .join(HuntGroup, GroupMember.group_id == HuntGroup.id)
        .join(User, GroupMember.user_id == User.id)
        .join(Tenant, HuntGroup.tenant_id == Tenant.id)
    )
    dnd = select(User.extension, Tenant.domain, User.call_handling).join(
        Tenant, User.tenant_id == Tenant.id
    )
    for domain in sorted(changed.tenants):
        dnd_rows += conn.execute(dnd.where(Tenant.domain == domain)).all()
        member_rows += conn.execute(members.where(Tenant.domain == domain)).all()
    for domain, extensions in sorted(by_domain.items()):
        tenant_id = conn.scalar(select(Tenant.id).where(Tenant.domain == domain))
        if tenant_id is None:
            continue
        of_lines = (User.tenant_id == tenant_id) & User.extension.in_(sorted(extensions))
        dnd_rows += conn.execute(dnd.where(of_lines)).all()
        now_in = conn.scalars(
            select(HuntGroup.extension)
            .join(GroupMember, GroupMember.group_id == HuntGroup.id)
            .join(User, GroupMember.user_id == User.id)
            .where(of_lines)
        ).all()
        wanted = groups.setdefault(domain, set())
        wanted |= set(now_in)
        if wanted:
            member_rows += conn.execute(
                members.where(
                    HuntGroup.tenant_id == tenant_id, HuntGroup.extension.in_(sorted(wanted))
                )
            ).all()
    states = key_states(dnd_rows, member_rows)
    scope = {key for key in published if in_scope(key, changed)}
    scope |= {Key(fs.PROTO_GROUP, g, d) for d, gs in groups.items() for g in gs}
    return Rekeyed(frozenset(scope | set(states)), states)
