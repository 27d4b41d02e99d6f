"""Live state in the database: registrations, call legs and the line states derived
from them, shared by every Centrex server and read by the routing compiler.

Changes are applied in batches, one transaction each, in the order they happened.
A line's state is recomputed from its rows rather than counted up and down, so a lost
or repeated event cannot leave a line busy for ever.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from provisioning.models import Channel, LineState, Registration, Tenant, User

from .handlers import (
    OUTBOUND,
    Change,
    ChannelGone,
    ChannelSeen,
    LineRef,
    Registered,
    Unregistered,
)


@dataclass(frozen=True)
class LineStatus:
    """A line's state after a change, for presence and the activity view."""

    user_id: int
    tenant_id: int
    line: LineRef
    active_calls: int
    ringing_calls: int
    registered: bool

    @property
    def state(self) -> str:
        if self.active_calls > self.ringing_calls:
            return "busy"
        if self.ringing_calls:
            return "ringing"
        return "idle"


def _insert(conn: Connection, table: Any) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class LiveStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def apply(self, changes: Sequence[Change], now: datetime) -> list[LineStatus]:
        """Write a batch of changes; the states of the lines they touched."""
        with self.engine.begin() as conn:
            owners = self._owners(conn, changes)
            touched: set[int] = set()
            for change in changes:
                touched |= self._apply_one(conn, change, owners)
            return self._refresh(conn, touched, now)

    def replace_node(
        self,
        node: str,
        registrations: Iterable[Registered],
        channels: Iterable[ChannelSeen],
        now: datetime,
    ) -> list[LineStatus]:
        """What a node holds after a (re)connect replaces all we knew of it."""
        listed: list[Change] = [*registrations, *channels]
        with self.engine.begin() as conn:
            before = set(
                conn.scalars(select(Registration.user_id).where(Registration.node == node))
            ) | set(conn.scalars(select(Channel.user_id).where(Channel.node == node)))
            conn.execute(delete(Registration).where(Registration.node == node))
            conn.execute(delete(Channel).where(Channel.node == node))
            owners = self._owners(conn, listed)
            touched = set(before)
            for change in listed:
                touched |= self._apply_one(conn, change, owners)
            return self._refresh(conn, touched, now)

    def expire(self, now: datetime) -> list[LineStatus]:
        """Registrations past their expiry (the node went away without telling)."""
        with self.engine.begin() as conn:
            gone = set(
                conn.scalars(select(Registration.user_id).where(Registration.expires_at < now))
            )
            if not gone:
                return []
            conn.execute(delete(Registration).where(Registration.expires_at < now))
            return self._refresh(conn, gone, now)

    # Internals.

    def _owners(self, conn: Connection, changes: Iterable[Change]) -> dict[LineRef, int]:
        lines = {
            c.line
            for c in changes
            if isinstance(c, Registered | ChannelSeen) and c.line is not None
        }
        if not lines:
            return {}
        rows = conn.execute(
            select(User.id, User.extension, Tenant.domain)
            .join(Tenant, User.tenant_id == Tenant.id)
            .where(
                or_(
                    *(and_(Tenant.domain == r.domain, User.extension == r.extension) for r in lines)
                )
            )
        )
        return {LineRef(ext, domain): user_id for user_id, ext, domain in rows}

    def _apply_one(self, conn: Connection, change: Change, owners: dict[LineRef, int]) -> set[int]:
        if isinstance(change, Registered):
            user_id = owners.get(change.line)
            if user_id is None:
                return set()
            values = dict(
                user_id=user_id,
                contact=change.contact[:1024],
                user_agent=change.user_agent[:255],
                network_ip=change.network_ip[:64],
                network_port=change.network_port,
                expires_at=change.expires_at,
            )
            previous = conn.scalar(
                select(Registration.user_id).where(
                    Registration.node == change.node, Registration.call_id == change.call_id[:255]
                )
            )
            conn.execute(
                _insert(conn, Registration)
                .values(node=change.node, call_id=change.call_id[:255], **values)
                .on_conflict_do_update(index_elements=["node", "call_id"], set_=values)
            )
            return {user_id} | ({previous} if previous else set())
        if isinstance(change, Unregistered):
            where = (Registration.node == change.node, Registration.call_id == change.call_id[:255])
            users = set(conn.scalars(select(Registration.user_id).where(*where)))
            conn.execute(delete(Registration).where(*where))
            return users
        if isinstance(change, ChannelSeen):
            state = dict(
                answered=change.answered,
                held=change.held,
                peer_number=change.peer_number[:64],
                peer_name=change.peer_name[:255],
            )
            if change.line is None:
                user_id = conn.scalar(select(Channel.user_id).where(Channel.uuid == change.uuid))
                if user_id is None:
                    return set()
                conn.execute(update(Channel).where(Channel.uuid == change.uuid).values(**state))
                return {user_id}
            user_id = owners.get(change.line)
            if user_id is None:
                return set()
            conn.execute(
                _insert(conn, Channel)
                .values(
                    uuid=change.uuid,
                    node=change.node,
                    user_id=user_id,
                    direction=change.direction,
                    started_at=change.at,
                    **state,
                )
                .on_conflict_do_update(index_elements=["uuid"], set_=state)
            )
            return {user_id}
        if isinstance(change, ChannelGone):
            row = conn.execute(
                select(Channel.user_id, Channel.answered).where(Channel.uuid == change.uuid)
            ).first()
            if row is None:
                return set()
            conn.execute(delete(Channel).where(Channel.uuid == change.uuid))
            if row.answered:
                self._upsert_line_state(conn, row.user_id, last_call_end=change.at)
            return {row.user_id}
        return set()

    def _upsert_line_state(self, conn: Connection, user_id: int, **values: object) -> None:
        conn.execute(
            _insert(conn, LineState)
            .values({"user_id": user_id, "active_calls": 0, **values})
            .on_conflict_do_update(index_elements=["user_id"], set_=values)
        )

    def _refresh(self, conn: Connection, user_ids: set[int], now: datetime) -> list[LineStatus]:
        if not user_ids:
            return []
        ringing = case(
            (and_(Channel.direction == OUTBOUND, Channel.answered.is_(False)), 1), else_=0
        )
        calls = {
            user_id: (total, int(ring or 0))
            for user_id, total, ring in conn.execute(
                select(Channel.user_id, func.count(), func.sum(ringing))
                .where(Channel.user_id.in_(user_ids))
                .group_by(Channel.user_id)
            )
        }
        registered = set(
            conn.scalars(
                select(Registration.user_id)
                .where(Registration.user_id.in_(user_ids), Registration.expires_at > now)
                .distinct()
            )
        )
        statuses = []
        for user_id, tenant_id, extension, domain in conn.execute(
            select(User.id, User.tenant_id, User.extension, Tenant.domain)
            .join(Tenant, User.tenant_id == Tenant.id)
            .where(User.id.in_(user_ids))
        ):
            total, ring = calls.get(user_id, (0, 0))
            status = LineStatus(
                user_id, tenant_id, LineRef(extension, domain), total, ring, user_id in registered
            )
            self._upsert_line_state(
                conn,
                user_id,
                active_calls=total,
                ringing_calls=ring,
                registered=status.registered,
                updated_at=now,
            )
            statuses.append(status)
        return statuses
