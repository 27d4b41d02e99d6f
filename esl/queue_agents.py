"""Agents' log in / log out, pushed from the database to every node's mod_callcenter.

The database is the source of truth (the REST API writes it). mod_callcenter keeps
agents and tiers in a database of its own, filled from callcenter.conf when it loads;
afterwards it learns of changes only through `callcenter_config`. This periodic task
compares what the database wants with what it last told each node and sends the
difference: an agent's status (`Available` when logged in to any of its queues, `On
Break` when also paused by its star code, else `Logged Out`) and its tiers (one per
queue it is logged in to). After a node (re)connects, everything is sent again. An
agent mod_callcenter does not know yet (added since it loaded) is first loaded from
callcenter.conf (`agent reload`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from provisioning.models import Queue, QueueAgent, Tenant, User
from xmlcurl import fsnames as fs
from xmlcurl.callcenter import agent_name, agent_status, queue_name

from .connection import NodeConnection, PerSession
from .listener import Listener
from .switch import SwitchError

log = logging.getLogger(__name__)

# Status changes reach FreeSWITCH within this many seconds.
AGENTS_EVERY = 2.0

Tier = tuple[str, str]  # (queue, agent)


@dataclass(frozen=True)
class Wanted:
    """What every node's mod_callcenter should hold."""

    statuses: dict[str, str] = field(default_factory=dict)  # agent → status
    tiers: dict[Tier, int] = field(default_factory=dict)  # → position
    # Memberships of agents logged out: no tier (deleted again after a reconnect).
    no_tiers: frozenset[Tier] = frozenset()


def wanted_state(engine: Engine) -> Wanted:
    """Every agent of every tenant, in one query."""
    query = (
        select(
            Tenant.domain,
            Queue.extension,
            User.extension,
            QueueAgent.position,
            QueueAgent.logged_in,
            QueueAgent.paused,
        )
        .select_from(QueueAgent)
        .join(Queue, Queue.id == QueueAgent.queue_id)
        .join(Tenant, Tenant.id == Queue.tenant_id)
        .join(User, User.id == QueueAgent.user_id)
    )
    logged_in: dict[str, bool] = {}
    paused: dict[str, bool] = {}
    tiers: dict[Tier, int] = {}
    no_tiers: set[Tier] = set()
    with engine.connect() as conn:
        for domain, queue_ext, user_ext, position, on, on_break in conn.execute(query):
            agent = agent_name(user_ext, domain)
            logged_in[agent] = logged_in.get(agent, False) or bool(on)
            paused[agent] = paused.get(agent, False) or bool(on_break)
            tier = (queue_name(queue_ext, domain), agent)
            if on:
                tiers[tier] = position + 1
            else:
                no_tiers.add(tier)
    statuses = {agent: agent_status(on, paused[agent]) for agent, on in logged_in.items()}
    return Wanted(statuses, tiers, frozenset(no_tiers))


def _command(node: NodeConnection, *words: str) -> str:
    return node.api(" ".join((fs.CC_API, *words))).strip()


def _set_status(node: NodeConnection, agent: str, status: str) -> bool:
    command = (fs.CC_AGENT_SET_STATUS, agent, f"'{status}'")
    reply = _command(node, *command)
    if reply.startswith(fs.CC_AGENT_NOT_FOUND):
        _command(node, fs.CC_AGENT_RELOAD, agent)
        reply = _command(node, *command)
    if not reply.startswith(fs.REPLY_OK):
        log.warning("agent %s not set %s on %s: %s", agent, status, node.node, reply)
        return False
    return True


def _add_tier(node: NodeConnection, tier: Tier, position: int) -> bool:
    queue, agent = tier
    reply = _command(node, fs.CC_TIER_ADD, queue, agent, "1", str(position))
    if reply.startswith(fs.REPLY_OK) or reply.startswith(fs.CC_TIER_EXISTS):
        return True
    log.warning("tier %s of %s not added on %s: %s", queue, agent, node.node, reply)
    return False


def _del_tier(node: NodeConnection, tier: Tier) -> bool:
    return _command(node, fs.CC_TIER_DEL, *tier).startswith(fs.REPLY_OK)


class QueueAgents:
    """The periodic task: per node, what it was last told, in which session."""

    def __init__(self) -> None:
        self._told: PerSession[Wanted] = PerSession()

    def __call__(self, listener: Listener) -> None:
        wanted = wanted_state(listener.engine)
        for node in listener.connected():
            told = self._told.get(node)
            if told is None:
                # A new session: the node may have missed anything; tell it all.
                told = Wanted(no_tiers=wanted.no_tiers | frozenset(wanted.tiers))
            try:
                told = self._push(node, wanted, told)
            except SwitchError as exc:
                log.warning("queue agents not pushed to %s: %s", node.node, exc)
            self._told.set(node, told)

    @staticmethod
    def _push(node: NodeConnection, wanted: Wanted, told: Wanted) -> Wanted:
        """Send what differs; returns what the node now holds as far as we know."""
        statuses = dict(told.statuses)
        tiers = dict(told.tiers)
        for agent in told.statuses.keys() - wanted.statuses.keys():
            # No longer an agent anywhere: takes no more calls.
            if _set_status(node, agent, fs.CC_STATUS_LOGGED_OUT):
                del statuses[agent]
        for agent, status in wanted.statuses.items():
            if statuses.get(agent) != status and _set_status(node, agent, status):
                statuses[agent] = status
        stale = (told.tiers.keys() | told.no_tiers) - wanted.tiers.keys()
        stale |= {t for t, p in told.tiers.items() if wanted.tiers.get(t, p) != p}
        undeleted = set()
        for tier in sorted(stale):
            tiers.pop(tier, None)
            if not _del_tier(node, tier):
                undeleted.add(tier)
        for tier, position in sorted(wanted.tiers.items()):
            if tiers.get(tier) != position and _add_tier(node, tier, position):
                tiers[tier] = position
        return Wanted(statuses, tiers, frozenset(undeleted))
