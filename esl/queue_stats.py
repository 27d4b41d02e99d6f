"""Queue statistics for the operator view: agents logged in, callers waiting, waits.

Agents logged in come from the database (the source of truth). Callers waiting come
from mod_callcenter itself: `callcenter_config queue list members <queue>` on each
connected node lists its members table, from which callers still waiting (`Waiting`,
or `Trying` while an agent's phone rings) and when they joined are read. Asking is
preferred to following `callcenter::info` events (member-queue-start/-end): the table is
the truth after a listener restart, a dropped connection or a missed event, with no
state to rebuild; a node is asked only when someone looks, at most once per queue every
`CACHE_SECONDS`. Members are counted once across nodes (by member uuid), so nodes
sharing mod_callcenter's database through ODBC are not counted twice.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from provisioning.models import Queue, QueueAgent, Tenant
from provisioning.validation import whole_number
from xmlcurl import fsnames as fs
from xmlcurl.callcenter import queue_name

from .listener import Listener
from .switch import Switch, SwitchError

CACHE_SECONDS = 2.0


@dataclass(frozen=True)
class Member:
    uuid: str
    joined_epoch: int
    state: str


def parse_members(output: str) -> list[Member]:
    """The rows of `queue list members`: `|`-separated with a header row, then `+OK`.
    Columns are read by position from the header; those after the caller's name are
    counted from the right, as a caller name may hold `|`."""
    lines = [line for line in output.splitlines() if line and not line.startswith("+OK")]
    if not lines:
        return []
    header = lines[0].split("|")
    try:
        uuid_at = header.index(fs.CC_MEMBER_UUID)
        joined_at = header.index(fs.CC_MEMBER_JOINED_EPOCH) - len(header)
        state_at = header.index(fs.CC_MEMBER_STATE) - len(header)
    except ValueError:
        return []
    members = []
    for line in lines[1:]:
        cells = line.split("|")
        joined = whole_number(cells[joined_at], -1) if len(cells) >= len(header) else -1
        if joined < 0:
            continue
        members.append(Member(cells[uuid_at], joined, cells[state_at]))
    return members


def summarise(members: Iterable[Member], now: datetime) -> dict[str, Any]:
    waits = [
        max(0, int(now.timestamp()) - m.joined_epoch)
        for m in {m.uuid: m for m in members}.values()
        if m.state in fs.CC_MEMBER_WAITING_STATES
    ]
    return {
        "callers_waiting": len(waits),
        "average_wait_seconds": round(sum(waits) / len(waits)) if waits else 0,
        "longest_wait_seconds": max(waits, default=0),
    }


class MembersCache:
    """Members of each queue on each node, asked at most once every CACHE_SECONDS."""

    def __init__(self, seconds: float = CACHE_SECONDS) -> None:
        self._seconds = seconds
        self._seen: dict[tuple[str, str], tuple[float, list[Member]]] = {}

    def members(self, nodes: Iterable[Switch], queue: str) -> list[Member]:
        found: list[Member] = []
        now = time.monotonic()
        for node in nodes:
            at, members = self._seen.get((node.node, queue), (-self._seconds, []))
            if now - at >= self._seconds:
                try:
                    output = node.api(f"{fs.CC_API} {fs.CC_QUEUE_LIST_MEMBERS} {queue}")
                except SwitchError:
                    output = ""
                members = parse_members(output)
                self._seen[(node.node, queue)] = (now, members)
            found += members
        return found


_CACHES: weakref.WeakKeyDictionary[Listener, MembersCache] = weakref.WeakKeyDictionary()


def queue_statistics(conn: Connection, domain: str, listener: Listener) -> list[dict[str, Any]]:
    """Each queue of the tenant: its agents logged in, callers waiting and their waits
    (one query, and one API call per queue and node when the cache is stale)."""
    cache = _CACHES.setdefault(listener, MembersCache())
    logged_in = func.count(QueueAgent.user_id).filter(QueueAgent.logged_in.is_(True))
    rows = conn.execute(
        select(Queue.name, Queue.extension, logged_in.label("logged_in"))
        .join(Tenant, Tenant.id == Queue.tenant_id)
        .outerjoin(QueueAgent, QueueAgent.queue_id == Queue.id)
        .where(Tenant.domain == domain)
        .group_by(Queue.id, Queue.name, Queue.extension, Queue.position)
        .order_by(Queue.position)
    )
    nodes = listener.connected()
    now = listener.clock()
    return [
        {
            "name": row.name,
            "extension": row.extension,
            "agents_logged_in": row.logged_in,
            **summarise(cache.members(nodes, queue_name(row.extension, domain)), now),
        }
        for row in rows
    ]
