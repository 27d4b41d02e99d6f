"""The listener: follows every FreeSWITCH node and keeps Centrex's live state.

One greenlet per node keeps its event socket open (`esl.connection`); they only queue
what arrives. One consumer greenlet turns queued events into changes (`esl.handlers`),
writes them in batches (`esl.store`), answers presence probes, lights BLF keys and wakes
whoever watches the tenants concerned; a stretch of events is one transaction, at most
one per 40 ms unless 64 events wait. After every (re)connect a node is listed (sofia's
registrations, `show channels`) and what we knew of it is replaced, in queue order, so
nothing stale survives a drop or a FreeSWITCH restart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import gevent
import gevent.event
import gevent.queue
from sqlalchemy import Engine, String, cast, event, select
from sqlalchemy.exc import SQLAlchemyError

from centrex import metrics
from centrex.config import Settings
from provisioning.models import GroupMember, HuntGroup, Registration, Tenant, User
from provisioning.validation import whole_number
from xmlcurl import fsnames as fs

from . import presence
from .connection import NodeConnection, PerSession
from .events import Event
from .handlers import (
    SUBSCRIBED_EVENTS,
    SUBSCRIBED_SUBCLASSES,
    Change,
    ChannelGone,
    ChannelSeen,
    LineRef,
    ProbeAsked,
    Registered,
    changes,
    channels_listed,
    sofia_profiles,
    sofia_registrations_listed,
)
from .holders import PING_EVERY, Holders, holders_for
from .keys import Key, key_states
from .line_changes import ChangeCursor, key_states_of, prune
from .store import LineStatus, LiveStore
from .switch import Switch, SwitchError

log = logging.getLogger(__name__)


# Beyond this many lines changed at once, all keys are computed again in one go.
_LINES_ONE_BY_ONE = 500
# How often logged line changes older than a day are deleted (seconds).
_PRUNE_EVERY = 3600.0
# How many ended legs are remembered, so that a listing that still shows one (the node
# writes its channels table through a queue) does not bring it back.
_GONE_REMEMBERED = 10_000


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Received:
    node: str
    event: Event
    at: float  # time.monotonic() when it came off the socket


@dataclass(frozen=True)
class _Listing:
    node: str
    registrations: list[Registered]
    channels: list[ChannelSeen]


class TenantWatch:
    """Wakes whoever follows a tenant's activity when its live state changes."""

    def __init__(self) -> None:
        self._versions: dict[int, int] = {}
        self._changed: dict[int, gevent.event.Event] = {}

    def version(self, tenant_id: int) -> int:
        return self._versions.get(tenant_id, 0)

    def touch(self, tenant_ids: set[int]) -> None:
        for tenant_id in tenant_ids:
            self._versions[tenant_id] = self.version(tenant_id) + 1
            event = self._changed.pop(tenant_id, None)
            if event is not None:
                event.set()

    def wait(self, tenant_id: int, seen: int, timeout: float) -> int:
        """The tenant's version once it differs from `seen`, or after `timeout`."""
        if self.version(tenant_id) == seen:
            self._changed.setdefault(tenant_id, gevent.event.Event()).wait(timeout)
        return self.version(tenant_id)


@dataclass
class Stats:
    """What the benchmark and the health check read."""

    events: int = 0
    batches: int = 0
    lags: list[float] = field(default_factory=list)  # seconds, event fired to written

    def record_lag(self, seconds: float) -> None:
        self.lags.append(seconds)
        metrics.event_committed(seconds)
        if len(self.lags) > 100_000:
            del self.lags[:50_000]


class Listener:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = utcnow,
        timeout: float = 5.0,
        backoff: tuple[float, float] = (0.5, 30.0),
        batch_size: int = 500,
        stretch: float = 0.04,
        full_stretch: int = 64,
        keys_every: float = 1.0,
        expire_every: float = 30.0,
        periodic: Sequence[tuple[float, Callable[[Listener], None]]] = (),
        on_job_done: Callable[[Listener, Event], None] | None = None,
        holders: Callable[[Engine], Holders] = holders_for,
    ) -> None:
        self.engine = engine
        self.store = LiveStore(engine)
        self.clock = clock
        self.watch = TenantWatch()
        self.stats = Stats()
        self._batch_size = batch_size
        self._stretch = stretch  # seconds
        self._full_stretch = full_stretch  # events
        self._enough_queued = gevent.event.Event()
        self._queue: gevent.queue.Queue[_Received | _Listing] = gevent.queue.Queue()
        # Events each node sent while it was being listed: they may be newer than the
        # listing, so they are queued after it.
        self._held: dict[str, list[_Received]] = {}
        self._gone: dict[str, None] = {}  # legs seen ending, oldest first
        self._keys: dict[Key, bool] | None = None  # as last published
        self._changes = ChangeCursor()  # lines changed since the keys were computed
        self._pruned = 0.0
        self._tasks = [
            (keys_every, Listener.refresh_keys),
            (expire_every, Listener.expire_registrations),
            *periodic,
        ]
        self._on_job_done = on_job_done
        self._greenlets: list[gevent.Greenlet] = []
        self._busy = False
        self._relist_pending = False
        self._holders_for = holders
        self._holders: Holders | None = None
        self.held: set[str] = set()  # nodes this listener follows now
        self._outbox: dict[str, list[bytes]] = {}  # presence to send, by node
        self._lines_told: PerSession[dict[LineRef, str]] = PerSession()
        self.nodes = {
            address: NodeConnection(
                address,
                settings.esl_password,
                events=SUBSCRIBED_EVENTS + ([fs.EVENT_BACKGROUND_JOB] if on_job_done else []),
                subclasses=SUBSCRIBED_SUBCLASSES,
                on_event=self._received,
                on_connect=self._list_node,
                timeout=timeout,
                backoff=backoff,
            )
            for address in settings.esl_nodes
        }

    # Lifetime.

    def start(self) -> None:
        """Raises `holders.AnotherListener` when this database allows one listener only
        and another runs."""
        self._holders = self._holders_for(self.engine)
        if self.engine.dialect.name == "postgresql":
            with self.store.engine.connect():  # the pool's first connection, before listening
                pass
            event.listen(self.store.engine, "connect", self._database_connected)
        self._greenlets = [gevent.spawn(self._consume)]
        self._greenlets += [gevent.spawn(self._hold, node) for node in self.nodes.values()]
        self._greenlets += [gevent.spawn(self._every, s, task) for s, task in self._tasks]

    def stop(self) -> None:
        for node in self.nodes.values():
            node.stop()
        gevent.killall(self._greenlets, timeout=5)
        if event.contains(self.store.engine, "connect", self._database_connected):
            event.remove(self.store.engine, "connect", self._database_connected)
        self.store.close()
        if self._holders is not None:
            self._holders.close()
            self._holders = None

    def _hold(self, node: NodeConnection) -> None:
        """Follow the node while this listener holds it; while another does, try to take
        it over (`esl.holders`). A node taken over is listed on connect, like any
        reconnect: what the last holder wrote is replaced by what the node holds now."""
        assert self._holders is not None
        holders = self._holders
        while True:
            if not holders.claim(node.node):
                gevent.sleep(PING_EVERY)
                continue
            self.held.add(node.node)
            log.info("following %s", node.node)
            node.resume()
            runner = gevent.spawn(node.run)
            try:
                while holders.holds(node.node):
                    gevent.sleep(PING_EVERY)
                log.warning("%s is no longer ours: let go", node.node)
            finally:
                self.held.discard(node.node)
                node.stop()
                runner.kill(timeout=5)
                holders.release(node.node)

    def idle(self) -> bool:
        """Nothing queued (tests and the benchmark wait for this)."""
        return self._queue.empty() and not self._busy

    # What the rest of Centrex may ask for.

    def connected(self) -> list[NodeConnection]:
        return [n for n in self.nodes.values() if n.connected.is_set()]

    def switch_for_user(self, user_id: int) -> Switch | None:
        """The node where the user's phone is registered, else any connected node."""
        with self.engine.connect() as conn:
            registered_on = set(
                conn.scalars(select(Registration.node).where(Registration.user_id == user_id))
            )
        live = self.connected()
        preferred = [n for n in live if n.node in registered_on]
        choices = preferred or live
        return choices[0] if choices else None

    # Feeding the queue (node greenlets).

    def _received(self, node: NodeConnection, event: Event) -> None:
        metrics.event_received(event.name)
        received = _Received(node.node, event, time.monotonic())
        held = self._held.get(node.node)
        if held is not None:
            held.append(received)
        else:
            self._queue.put(received)
            if self._queue.qsize() >= self._full_stretch:
                self._enough_queued.set()

    def _list_node(self, node: NodeConnection) -> None:
        # A leg that ends while the node is listed would otherwise have its end written
        # before the listing that still shows it, and stay for ever.
        if node.node in self._held:  # already being listed: that listing queues them
            self._queue_listing(node)
            return
        self._held[node.node] = []
        try:
            self._queue_listing(node)
        finally:
            for received in self._held.pop(node.node):
                self._queue.put(received)

    def _queue_listing(self, node: NodeConnection) -> None:
        registrations = self._registrations_of(node)

        def owner(uuid: str) -> str:
            user = node.api(f"uuid_getvar {uuid} {fs.V_USER_NAME}").strip()
            domain = node.api(f"uuid_getvar {uuid} {fs.V_DOMAIN_NAME}").strip()
            return f"{user}@{domain}"

        channels = channels_listed(node.api(fs.SHOW_CHANNELS), node.node, owner)
        self._queue.put(_Listing(node.node, registrations, channels))
        log.info(
            "node %s listed: %d registrations, %d calls of Centrex users",
            node.node,
            len(registrations),
            len(channels),
        )

    def _registrations_of(self, node: NodeConnection) -> list[Registered]:
        # Sofia's tables, not the core's `show registrations`: sofia writes a phone's row
        # before its 200 OK and its event, so a phone that registers while we list is
        # either listed or told of by an event held until after the listing.
        switchname = node.api(fs.API_SWITCHNAME).strip()
        now = self.clock()
        return [
            registration
            for profile in sofia_profiles(node.api(fs.SOFIA_PROFILES))
            for registration in sofia_registrations_listed(
                node.api(fs.SOFIA_REGISTRATIONS.format(profile=profile)),
                node.node,
                switchname,
                now,
            )
        ]

    # The consumer.

    def _consume(self) -> None:
        began = 0.0
        while True:
            item = self._queue.get()
            self._busy = True
            try:
                # One transaction per stretch at most: under a stream of events, tiny
                # transactions would cost more than the events in them (a transaction's
                # fixed cost, about 1 ms, is most of a call's at a node's usual rates).
                # A stretch ends early once it is full: at high rates transactions are
                # large anyway, and waiting would only add lag.
                wait = began + self._stretch - time.monotonic()
                if wait > 0 and self._queue.qsize() + 1 < self._full_stretch:
                    self._enough_queued.clear()
                    self._enough_queued.wait(wait)
                began = time.monotonic()
                batch = [item]
                while len(batch) < self._batch_size and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                self._process(batch)
            except SQLAlchemyError:
                log.exception("live state not written; nodes will be listed again")
                self._relist_later()
            except Exception:
                # A fault of ours: what the stretch held is lost, so list the nodes again.
                log.exception("live state update failed; nodes will be listed again")
                self._relist_later()
            finally:
                self._busy = False

    def _process(self, batch: list[_Received | _Listing]) -> None:
        now = self.clock()
        run: list[_Received] = []
        # What a node said before it was let go is its next holder's to write.
        for item in [i for i in batch if i.node in self.held]:
            if isinstance(item, _Listing):
                self._apply_run(run, now)
                run = []
                channels = [c for c in item.channels if c.uuid not in self._gone]
                statuses = self.store.replace_node(item.node, item.registrations, channels, now)
                self._after(item.node, statuses)
                self._republish_keys(item.node)
            else:
                run.append(item)
        self._apply_run(run, now)
        self.stats.batches += 1

    def _apply_run(self, run: list[_Received], now: datetime) -> None:
        """Events of any nodes, written in one transaction."""
        if not run:
            return
        found: dict[str, list[Change]] = {}
        probes: list[ProbeAsked] = []
        for received in run:
            try:
                found_here = changes(received.event, received.node, now)
            except Exception:
                # One event read wrong must not cost the others of the stretch.
                log.exception(
                    "event %s from %s not understood; skipped", received.event.name, received.node
                )
                continue
            for change in found_here:
                if isinstance(change, ProbeAsked):
                    probes.append(change)
                    continue
                if isinstance(change, ChannelGone):
                    self._remember_gone(change.uuid)
                found.setdefault(received.node, []).append(change)
            if received.event.name == fs.EVENT_BACKGROUND_JOB and self._on_job_done:
                self._on_job_done(self, received.event)
        written = self.store.apply_nodes(list(found.items()), now)
        done, wall = time.monotonic(), time.time()
        for received in run:
            # From when FreeSWITCH fired the event when it says so (that includes time in
            # socket buffers), else from when it was read.
            fired = whole_number(received.event.get(fs.EV_TIMESTAMP))
            lag = wall - fired / 1e6 if fired else done - received.at
            self.stats.record_lag(lag)
        self.stats.events += len(run)
        for node, statuses in written:
            self._after(node, statuses)
        for probe in probes:
            self._answer_probe(probe)

    def _remember_gone(self, uuid: str) -> None:
        self._gone[uuid] = None
        if len(self._gone) > _GONE_REMEMBERED:
            del self._gone[next(iter(self._gone))]

    def _after(self, node: str, statuses: list[LineStatus]) -> None:
        if not statuses:
            return
        self.watch.touch({s.tenant_id for s in statuses})
        # A node lights keys for its own calls; the other nodes hear of them from us,
        # each line's state once per change: what a node was told in its current
        # session is remembered, and a state it holds already is not sent again.
        origin = self.nodes.get(node)
        if origin is not None:
            # The node just showed its phones this line itself (its own call): what
            # we told it before no longer stands.
            told_origin = self._lines_told.get(origin)
            if told_origin is not None:
                for status in statuses:
                    told_origin.pop(status.line, None)
        others = [(n, self._told(n)) for n in self.connected() if n.node != node]
        if not others:
            return
        for status in statuses:
            line, state = status.line, status.state
            command = None  # encoded once, the same bytes for every node
            for other, told in others:
                if told.get(line) == state:
                    continue
                told[line] = state
                if command is None:
                    command = presence.command(presence.line_presence(line, state))
                self._send_presence(other, command)

    def _told(self, node: NodeConnection) -> dict[LineRef, str]:
        """The line states sent to the node in its current session."""
        told = self._lines_told.get(node)
        if told is None:
            told = {}
            self._lines_told.set(node, told)
        return told

    def _send_presence(self, node: NodeConnection, command: bytes) -> None:
        """Queued, and sent once the current work is done: one write per node for all
        of it, whose replies nobody waits for (a node's cost stays a write, however
        many nodes there are and however slow one answers)."""
        if not self._outbox:
            gevent.spawn(self._send_queued)
        self._outbox.setdefault(node.node, []).append(command)

    def _send_queued(self) -> None:
        outbox, self._outbox = self._outbox, {}
        for address, commands in outbox.items():
            try:
                self.nodes[address].send_unanswered(commands, fs.EVENT_PRESENCE_IN)
            except SwitchError as exc:
                log.warning("presence not sent to %s: %s", address, exc)

    # Keys Centrex lights itself (esl.keys): do not disturb, group log-in.

    def _key_states(self) -> dict[Key, bool]:
        """Every key's state (a scan of every user: at start only). Changes logged
        from now on are read by `refresh_keys`."""
        with self.engine.connect() as conn:
            self._changes.start(conn)
            dnd_rows = conn.execute(
                select(User.extension, Tenant.domain, User.call_handling)
                .join(Tenant, User.tenant_id == Tenant.id)
                .where(cast(User.call_handling, String).like("%do_not_disturb%"))
            ).all()
            member_rows = conn.execute(
                select(Tenant.domain, HuntGroup.extension, User.extension, GroupMember.logged_in)
                .join(HuntGroup, GroupMember.group_id == HuntGroup.id)
                .join(User, GroupMember.user_id == User.id)
                .join(Tenant, HuntGroup.tenant_id == Tenant.id)
            ).all()
        return key_states(dnd_rows, member_rows)

    def _answer_probe(self, probe: ProbeAsked) -> None:
        node = self.nodes.get(probe.node)
        if node is None:
            return
        if self._keys is None:
            self._keys = self._key_states()
        on = self._keys.get(probe.key, False)
        self._send_presence(node, presence.command(presence.key_presence(probe.key, on)))

    def refresh_keys(self) -> None:
        """Light or put out the keys whose state changed since last published: those
        of the lines the database logged as changed since the last look."""
        rekeyed = None
        if self._keys is not None and self._changes.started:
            try:
                with self.engine.begin() as conn:
                    lines = self._changes.read(conn)
                    if not lines:
                        return
                    if len(lines) <= _LINES_ONE_BY_ONE:
                        rekeyed = key_states_of(conn, lines, self._keys)
                    if time.monotonic() - self._pruned > _PRUNE_EVERY:
                        prune(conn, self.clock())
                        self._pruned = time.monotonic()
            except SQLAlchemyError:
                # The changes read are gone from the cursor: next time, every key.
                self._changes = ChangeCursor()
                raise
        before = self._keys or {}
        if rekeyed is None:  # at start, or after a change of many lines (an apply)
            states = self._key_states()
            scope = set(before) | set(states)
        else:
            states, scope = rekeyed.states, set(rekeyed.scope)
        changed = {k for k in scope if before.get(k, False) != states.get(k, False)}
        self._keys = {k: on for k, on in before.items() if k not in scope} | states
        for key in sorted(changed):
            command = presence.command(presence.key_presence(key, states.get(key, False)))
            for node in self.connected():
                self._send_presence(node, command)

    def _republish_keys(self, address: str) -> None:
        """A node that (re)started knows none of our lit keys."""
        node = self.nodes.get(address)
        for key, on in sorted((self._keys or {}).items()):
            if node is not None and on:
                self._send_presence(node, presence.command(presence.key_presence(key, True)))

    # Housekeeping.

    def expire_registrations(self) -> None:
        statuses = self.store.expire(self.clock())
        for status in statuses:
            self.watch.touch({status.tenant_id})

    def _database_connected(self, _dbapi_connection: object, _record: object) -> None:
        """A new connection of live state's to PostgreSQL, maybe after the server
        restarted: live state is committed without waiting for the disk
        (`esl.store.live_state_engine`), so a crash may have lost the last commits;
        every node is listed again, which replaces them. (Also when the pool merely
        grows: a listing more, nothing wrong.)"""
        self._relist_later()

    def _relist_later(self, seconds: float = 5.0) -> None:
        if not self._relist_pending:
            self._relist_pending = True
            gevent.spawn_later(seconds, self._relist_all)

    def _relist_all(self) -> None:
        self._relist_pending = False
        for node in self.connected():
            try:
                self._list_node(node)
            except SwitchError as exc:
                log.warning("node %s not listed: %s", node.node, exc)

    def _every(self, seconds: float, task: Callable[[Listener], None]) -> None:
        while True:
            gevent.sleep(seconds)
            try:
                task(self)
            except Exception:
                log.exception("periodic %s failed", getattr(task, "__name__", task))
