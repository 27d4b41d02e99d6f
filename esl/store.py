"""Live state in the database: registrations, call legs and the line states derived
from them, shared by every Centrex server and read by the routing compiler.

Changes are applied in batches, one transaction each. A batch is first folded into
its net effect — the last state of each leg and registration it names — and written
with a fixed number of statements whatever its size, so a burst of events costs
little more than one. A line's state is recomputed from its rows rather than counted
up and down, so a lost or repeated event cannot leave a line busy for ever.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    delete,
    exists,
    func,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from centrex.db import in_slots, make_engine, prepared, slot_values, slots, typed_rows, typed_run
from provisioning import groups
from provisioning.line_status import line_state
from provisioning.models import Channel, LineState, Registration, Tenant, User

from .handlers import (
    OUTBOUND,
    Change,
    ChannelGone,
    ChannelSeen,
    GroupAnswered,
    GroupLogin,
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
        return line_state(self.active_calls, self.ringing_calls)


# Upserts: the table, its conflict key, the columns a conflict updates.
_UPSERTS: dict[str, tuple[Any, list[str], tuple[str, ...]]] = {
    "registration": (
        Registration,
        ["node", "call_id"],
        ("user_id", "contact", "user_agent", "network_ip", "network_port", "expires_at"),
    ),
    "channel": (Channel, ["uuid"], ("answered", "held", "peer_number", "peer_name")),
    "call_end": (LineState, ["user_id"], ("last_call_end",)),
    "line_state": (
        LineState,
        ["user_id"],
        ("active_calls", "ringing_calls", "registered", "updated_at"),
    ),
}


@functools.cache
def _upsert_for(dialect_name: str, what: str) -> Any:
    table, key, updated = _UPSERTS[what]
    insert = (postgresql if dialect_name == "postgresql" else sqlite).insert(table)
    return insert.on_conflict_do_update(
        index_elements=key, set_={c: insert.excluded[c] for c in updated}
    )


@functools.cache
def _upsert_unnested(what: str, columns: tuple[str, ...]) -> Any:
    """PostgreSQL: every row in one statement, each column bound as one array and
    unnested by the server, whose text is the same whatever the number of rows."""
    table, key, updated = _UPSERTS[what]
    pg = postgresql.dialect()
    # Arrays of the columns' types without their lengths: a value too long fails as
    # it would in a row of its own, instead of being cut by the cast.
    types = {
        c: re.sub(r"[(][0-9]+[)]", "", table.__table__.c[c].type.compile(dialect=pg))
        for c in columns
    }
    arrays = ", ".join(f"CAST(:{c} AS {types[c]}[])" for c in columns)
    return text(
        f"INSERT INTO {table.__tablename__} ({', '.join(columns)}) "
        f"SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in updated)
    )


def _upsert(conn: Connection, what: str, rows: list[dict[str, Any]]) -> None:
    """Insert or update rows (distinct keys). Statements are built once: building one
    costs more than running it. On PostgreSQL the rows go in one statement instead of
    one each (which the server runs one after the other); SQLite runs in our process,
    where a statement per row costs little."""
    if conn.dialect.name == "postgresql":
        columns = tuple(rows[0])
        prepared(_upsert_unnested(what, columns)).run(
            conn, {c: [row[c] for row in rows] for c in columns}
        )
    else:
        conn.execute(_upsert_for(conn.dialect.name, what), rows)


# The statements of every stretch, built once per length of their lists: each list is
# an IN of fixed places (centrex.db.in_slots). An expanding IN would have its SQL
# rendered again at every execution, and be a new statement to PostgreSQL for every
# length.
@functools.cache
def _known_legs(size: int) -> Any:
    return select(Channel).where(in_slots(Channel.uuid, "uuid", size))


@functools.cache
def _ended_legs(size: int) -> Any:
    return delete(Channel).where(in_slots(Channel.uuid, "uuid", size))


@functools.cache
def _line_states(size: int, kept: bool) -> Any:
    """A line's state from its rows, for every user touched, in one statement (one
    round trip on PostgreSQL): its calls, those still ringing a phone, whether it is
    registered. `kept`: written to the lines' rows by the same statement."""
    states = (
        select(
            User.id,
            User.tenant_id,
            User.extension,
            Tenant.domain,
            select(func.count())
            .where(Channel.user_id == User.id)
            .scalar_subquery()
            .label("active_calls"),
            select(func.count())
            .where(
                Channel.user_id == User.id,
                Channel.direction == OUTBOUND,
                Channel.answered.is_(False),
            )
            .scalar_subquery()
            .label("ringing_calls"),
            exists()
            .where(Registration.user_id == User.id, Registration.expires_at > bindparam("now"))
            .label("registered"),
        )
        .join(Tenant, User.tenant_id == Tenant.id)
        .where(in_slots(User.id, "user", size))
    )
    return _line_states_kept(states) if kept else states


def _line_states_kept(line_states: Any) -> Any:
    """PostgreSQL: the states, written to the lines' rows by the statement that reads
    them (one round trip, not two)."""
    states = line_states.cte("states")
    columns = ("active_calls", "ringing_calls", "registered")
    written = postgresql.insert(LineState).from_select(
        ["user_id", *columns, "updated_at"],
        select(states.c.id, *(states.c[c] for c in columns), bindparam("now")),
    )
    written = written.on_conflict_do_update(
        index_elements=["user_id"],
        set_={c: written.excluded[c] for c in (*columns, "updated_at")},
    )
    return select(states).add_cte(written.cte("written"))


# Lookups by pairs of columns, written as one IN per column (each an index's key
# part; the exact pairs are kept after): a row-value IN is a scan of the whole table
# on SQLite, whatever the index.
@functools.cache
def _users_of_lines(domains: int, extensions: int) -> Any:
    return (
        select(User.id, User.extension, Tenant.domain)
        .join(Tenant, User.tenant_id == Tenant.id)
        .where(
            in_slots(Tenant.domain, "domain", domains),
            in_slots(User.extension, "extension", extensions),
        )
    )


@functools.cache
def _registrations_of(nodes: int, call_ids: int) -> Any:
    return select(Registration.node, Registration.call_id, Registration.user_id).where(
        in_slots(Registration.node, "node", nodes),
        in_slots(Registration.call_id, "call_id", call_ids),
    )


# Places of one IN at most: a node's listing names all its phones and legs at once, and
# a statement may bind only so many values (32,766 on SQLite).
_MOST_PLACES = 256


def _parts(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), _MOST_PLACES):
        yield values[start : start + _MOST_PLACES]


def _slotted(lists: dict[str, list[Any]]) -> Iterator[tuple[tuple[int, ...], dict[str, Any]]]:
    """For a lookup by several lists (one IN each, at most _MOST_PLACES places): the
    places of each IN and the parameters, for every combination of their parts."""
    for combination in itertools.product(*(list(_parts(v)) for v in lists.values())):
        params: dict[str, Any] = {}
        for name, values in zip(lists, combination, strict=True):
            params.update(slot_values(name, values))
        yield tuple(slots(len(values)) for values in combination), params


def _nodes_and_call_ids(keys: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    pairs = list(keys)
    return {
        "node": list({node for node, _ in pairs}),
        "call_id": list({call_id for _, call_id in pairs}),
    }


def _registrations_named(keys: Iterable[tuple[str, str]]) -> list[Any]:
    named = _nodes_and_call_ids(keys)
    return [Registration.node.in_(named["node"]), Registration.call_id.in_(named["call_id"])]


@contextmanager
def _pipelined(conn: Connection) -> Iterator[None]:
    """On PostgreSQL, statements whose results are not read (writes) sent without
    waiting for each answer (psycopg's pipeline mode): one round trip for them all."""
    if conn.dialect.name != "postgresql":
        yield
        return
    dbapi = conn.dialect.loaded_dbapi
    try:
        with conn.connection.driver_connection.pipeline():  # type: ignore[union-attr]
            yield
    except dbapi.Error as exc:  # raised when the pipeline syncs, outside SQLAlchemy
        raise DBAPIError.instance(None, None, exc, dbapi.Error) from exc


_FLUSH_WAIT = text("SET LOCAL synchronous_commit = on")


def live_state_engine(engine: Engine) -> Engine:
    """The engine live state is written with. On PostgreSQL, a pool of its own whose
    connections commit without waiting for the WAL to be on disk: live state
    (registrations, legs, line states) is rebuilt from the nodes. A crash of the
    database server can then lose the last few hundred milliseconds of such commits
    (never corrupt them, nor anything else's); the listener, connected again, lists
    every node, which replaces them (`Listener._database_connected`; a line's last call
    end may stay at the call before). Nothing else depends on them: the call log comes
    from call records, not from events. Set once per connection, not per transaction,
    and no connection is tried before use: a stretch that fails on one lost with the
    server has the nodes listed again, as any failed stretch does. SQLite: `engine`."""
    if engine.dialect.name != "postgresql":
        return engine
    return make_engine(
        engine.url.render_as_string(hide_password=False),
        pre_ping=False,
        session_settings={"synchronous_commit": "off"},
    )


def _kept_for_good(conn: Connection) -> None:
    """A stretch that writes group state (a member's log-in, the last to answer), which
    no listing gives back, waits for its commit to be on disk."""
    if conn.dialect.name == "postgresql":
        conn.execute(_FLUSH_WAIT)


def _same_phone(known: Registered, new: Registered) -> bool:
    """One phone on one node: same line, same network address. A phone that registers
    again under a new Call-ID replaces its previous registration (the node's own table
    keeps one row per phone), and FreeSWITCH sends no event for the one replaced."""
    return (
        bool(new.network_ip)
        and (known.node, known.line, known.network_ip, known.network_port)
        == (new.node, new.line, new.network_ip, new.network_port)
        and known.call_id != new.call_id
    )


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class _Leg:
    """A leg's net state after a batch (None: not said by this batch)."""

    node: str
    line: LineRef | None = None
    direction: str | None = None
    started_at: datetime | None = None
    caller_leg: str = ""
    answered: bool = False
    held: bool | None = None
    peer_number: str | None = None
    peer_name: str | None = None
    gone_at: datetime | None = None


@dataclass
class _Net:
    registrations: dict[tuple[str, str], Registered | None] = field(default_factory=dict)
    legs: dict[str, _Leg] = field(default_factory=dict)
    # Group routing state, written as it comes (the last change of a batch wins).
    groups: list[GroupAnswered | GroupLogin] = field(default_factory=list)

    @classmethod
    def of(cls, changes: Iterable[Change]) -> _Net:
        net = cls()
        for change in changes:
            if isinstance(change, Registered):
                # The same phone under a new Call-ID (rebooted): FreeSWITCH replaced its
                # row without an unregister event.
                for key, known in net.registrations.items():
                    if known is not None and _same_phone(known, change):
                        net.registrations[key] = None
                net.registrations[(change.node, change.call_id[:255])] = change
            elif isinstance(change, Unregistered):
                net.registrations[(change.node, change.call_id[:255])] = None
            elif isinstance(change, ChannelSeen):
                leg = net.legs.setdefault(change.uuid, _Leg(change.node))
                if change.line is not None and leg.line is None:
                    leg.line, leg.direction, leg.started_at = (
                        change.line,
                        change.direction,
                        change.at,
                    )
                    leg.caller_leg = change.caller_leg[:64]
                leg.answered = leg.answered or change.answered
                leg.held = change.held
                leg.peer_number = change.peer_number[:64] or leg.peer_number
                leg.peer_name = change.peer_name[:255] or leg.peer_name
            elif isinstance(change, ChannelGone):
                net.legs.setdefault(change.uuid, _Leg(change.node)).gone_at = change.at
            elif isinstance(change, GroupAnswered | GroupLogin):
                net.groups.append(change)
        return net

    def lines(self) -> set[LineRef]:
        lines = {r.line for r in self.registrations.values() if r is not None}
        return lines | {leg.line for leg in self.legs.values() if leg.line is not None}


class LiveStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = live_state_engine(engine)
        self._own_engine = self.engine is not engine

    def close(self) -> None:
        if self._own_engine:
            self.engine.dispose()

    def apply(self, changes: Sequence[Change], now: datetime) -> list[LineStatus]:
        """Write a batch of changes; the states of the lines they touched."""
        ((_, statuses),) = self.apply_nodes([("", changes)], now) or [("", [])]
        return statuses

    def apply_nodes(
        self, by_node: Sequence[tuple[str, Sequence[Change]]], now: datetime
    ) -> list[tuple[str, list[LineStatus]]]:
        """Write the changes several nodes made, in one transaction and with the same
        statements as one node's: for each node, the states of the lines its changes
        touched. What nodes hold is disjoint (a leg is on one node, a registration is
        keyed by its node), so they fold apart; group state is written in the order it
        came."""
        nets = [(node, _Net.of(changes)) for node, changes in by_node]
        nets = [(node, net) for node, net in nets if net.registrations or net.legs or net.groups]
        if not nets:
            return []
        with self.engine.begin() as conn:
            if any(net.groups for _, net in nets):
                _kept_for_good(conn)
            touched = self._write(conn, [net for _, net in nets])
            statuses = {s.user_id: s for s in self._refresh(conn, set().union(*touched), now)}
        return [
            (node, [statuses[u] for u in sorted(users) if u in statuses])
            for (node, _), users in zip(nets, touched, strict=True)
        ]

    def replace_node(
        self,
        node: str,
        registrations: Iterable[Registered],
        channels: Iterable[ChannelSeen],
        now: datetime,
    ) -> list[LineStatus]:
        """What a node holds after a (re)connect replaces all we knew of it."""
        net = _Net.of([*registrations, *channels])
        with self.engine.begin() as conn:
            before = set(
                conn.scalars(select(Registration.user_id).where(Registration.node == node))
            ) | set(conn.scalars(select(Channel.user_id).where(Channel.node == node)))
            conn.execute(delete(Registration).where(Registration.node == node))
            conn.execute(delete(Channel).where(Channel.node == node))
            (touched,) = self._write(conn, [net])
            return self._refresh(conn, before | touched, now)

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

    def _owners(self, conn: Connection, lines: set[LineRef]) -> dict[LineRef, int]:
        if not lines:
            return {}
        lists = {
            "domain": list({r.domain for r in lines}),
            "extension": list({r.extension for r in lines}),
        }
        found = {
            LineRef(ext, domain): user_id
            for sizes, params in _slotted(lists)
            for user_id, ext, domain in typed_rows(conn, _users_of_lines(*sizes), params)
        }
        return {line: user_id for line, user_id in found.items() if line in lines}

    def _write(self, conn: Connection, nets: Sequence[_Net]) -> list[set[int]]:
        """Write the net effects of several nodes together (a statement per table, not
        per node); for each, the users whose lines it touched. What is read comes first,
        then the writes, which PostgreSQL is sent in one go (their results are not
        waited for one by one)."""
        owners = self._owners(conn, set().union(*(net.lines() for net in nets)))
        for net in nets:
            self._write_groups(conn, net)
        touched: list[set[int]] = [set() for _ in nets]
        self._registered_before(conn, nets, touched)
        uuids = [uuid for net in nets for uuid in net.legs]
        known = {
            row.uuid: row
            for part in _parts(uuids)
            for row in typed_rows(conn, _known_legs(slots(len(part))), slot_values("uuid", part))
        }
        with _pipelined(conn):
            self._write_registrations(conn, nets, owners, touched)
            self._write_legs(conn, nets, owners, known, touched)
        return touched

    def _registered_before(
        self, conn: Connection, nets: Sequence[_Net], touched: list[set[int]]
    ) -> None:
        """The users of the registrations named, as they stood."""
        whose = {key: index for index, net in enumerate(nets) for key in net.registrations}
        if not whose:
            return
        for sizes, params in _slotted(_nodes_and_call_ids(whose)):
            for known in typed_rows(conn, _registrations_of(*sizes), params):
                index = whose.get((known.node, known.call_id))
                if index is not None:
                    touched[index].add(known.user_id)

    def _write_registrations(
        self,
        conn: Connection,
        nets: Sequence[_Net],
        owners: dict[LineRef, int],
        touched: list[set[int]],
    ) -> None:
        if not any(net.registrations for net in nets):
            return
        gone = [key for net in nets for key, r in net.registrations.items() if r is None]
        if gone:
            conn.execute(
                delete(Registration).where(
                    *_registrations_named(gone),
                    tuple_(Registration.node, Registration.call_id).in_(gone),
                )
            )
        rows = []
        for index, net in enumerate(nets):
            for (node, call_id), r in net.registrations.items():
                user_id = owners.get(r.line) if r is not None else None
                if r is None or user_id is None:
                    continue
                touched[index].add(user_id)
                rows.append(
                    dict(
                        node=node,
                        call_id=call_id,
                        user_id=user_id,
                        contact=r.contact[:1024],
                        user_agent=r.user_agent[:255],
                        network_ip=r.network_ip[:64],
                        network_port=r.network_port,
                        expires_at=r.expires_at,
                    )
                )
        if rows:
            # Earlier registrations of these phones under other Call-IDs are replaced.
            phones = [r for r in rows if r["network_ip"]]
            if phones:
                conn.execute(
                    delete(Registration).where(
                        Registration.user_id.in_({r["user_id"] for r in phones}),
                        tuple_(
                            Registration.node,
                            Registration.user_id,
                            Registration.network_ip,
                            Registration.network_port,
                        ).in_(
                            [
                                (r["node"], r["user_id"], r["network_ip"], r["network_port"])
                                for r in phones
                            ]
                        ),
                        tuple_(Registration.node, Registration.call_id).not_in(
                            [(r["node"], r["call_id"]) for r in phones]
                        ),
                    )
                )
            _upsert(conn, "registration", rows)

    def _write_groups(self, conn: Connection, net: _Net) -> None:
        for change in net.groups:
            if isinstance(change, GroupAnswered):
                groups.store_last_answerer(conn, change.domain, change.group, change.member)
            else:
                groups.store_logged_in(
                    conn, change.domain, change.group, change.member, change.logged_in
                )

    def _write_legs(
        self,
        conn: Connection,
        nets: Sequence[_Net],
        owners: dict[LineRef, int],
        known: dict[str, Any],
        touched: list[set[int]],
    ) -> None:
        ended: dict[int, datetime] = {}
        gone: list[str] = []
        rows = []
        for index, net in enumerate(nets):
            for uuid, leg in net.legs.items():
                old = known.get(uuid)
                if old is not None:
                    user_id: int | None = old.user_id
                else:
                    user_id = owners.get(leg.line) if leg.line is not None else None
                if user_id is None:
                    continue  # not a Centrex user's leg, or one that ended before we knew it
                touched[index].add(user_id)
                answered = leg.answered or (old is not None and old.answered)
                if leg.gone_at is not None:
                    gone.append(uuid)
                    if answered:
                        ended[user_id] = max(leg.gone_at, ended.get(user_id, leg.gone_at))
                    continue
                rows.append(
                    dict(
                        uuid=uuid,
                        node=old.node if old is not None else leg.node,
                        user_id=user_id,
                        direction=old.direction if old is not None else leg.direction,
                        started_at=old.started_at if old is not None else leg.started_at,
                        caller_leg=old.caller_leg if old is not None else leg.caller_leg,
                        answered=answered,
                        held=leg.held if leg.held is not None else bool(old and old.held),
                        peer_number=leg.peer_number or (old.peer_number if old is not None else ""),
                        peer_name=leg.peer_name or (old.peer_name if old is not None else ""),
                    )
                )
        for part in _parts(gone):
            typed_run(conn, _ended_legs(slots(len(part))), slot_values("uuid", part))
        if rows:
            _upsert(conn, "channel", rows)
        if ended:
            _upsert(
                conn,
                "call_end",
                [{"user_id": u, "active_calls": 0, "last_call_end": t} for u, t in ended.items()],
            )

    def _refresh(self, conn: Connection, user_ids: set[int], now: datetime) -> list[LineStatus]:
        if not user_ids:
            return []
        postgres = conn.dialect.name == "postgresql"
        statuses = [
            LineStatus(
                user_id, tenant_id, LineRef(extension, domain), calls, ringing, bool(registered)
            )
            for part in _parts(list(user_ids))
            for user_id, tenant_id, extension, domain, calls, ringing, registered in typed_rows(
                conn,
                _line_states(slots(len(part)), postgres),
                {**slot_values("user", part), "now": now},
            )
        ]
        if statuses and not postgres:
            _upsert(
                conn,
                "line_state",
                [
                    {
                        "user_id": s.user_id,
                        "active_calls": s.active_calls,
                        "ringing_calls": s.ringing_calls,
                        "registered": s.registered,
                        "updated_at": now,
                    }
                    for s in statuses
                ],
            )
        return statuses
