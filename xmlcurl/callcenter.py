"""callcenter.conf: the tenants' queues, agents and tiers for FreeSWITCH's mod_callcenter.

Pure: loaded queues in, the configuration out. Names are global in mod_callcenter, so
a queue is `<queue extension>@<domain>` and an agent (one per user, whatever the number
of its queues, so that wrap-up time and idle time follow the person) is
`<extension>@<domain>`. An agent is `Available` when logged in to at least one of its
queues, else `Logged Out`; it has a tier in each queue it is logged in to (level 1,
position in list order), none in the others — the tiers say where it takes calls.

mod_callcenter keeps agents and tiers in its own database and imports those of the XML
when it loads; with `truncate-*-on-load` it first empties its tables, so each load
starts from exactly what Centrex serves. Later changes reach it through the listener
(`esl.queue_agents`). A `load_queue` fetch (first call to a queue it does not know, or
`callcenter_config queue load|reload <queue>`) asks for one queue: the answer holds
that queue with its agents and tiers only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from provisioning.tenant_routing import RING_SECONDS, QueueStrategy
from xmlcurl import fsnames as fs
from xmlcurl.inputs import QueueData
from xmlcurl.local_stream import hold_music_url

STRATEGIES = {
    QueueStrategy.LONGEST_IDLE: fs.CC_LONGEST_IDLE,
    QueueStrategy.SIMULTANEOUS: fs.CC_RING_ALL,
    QueueStrategy.CYCLIC: fs.CC_ROUND_ROBIN,
    QueueStrategy.HIERARCHICAL: fs.CC_TOP_DOWN,
    QueueStrategy.FEWEST_CALLS: fs.CC_FEWEST_CALLS,
    QueueStrategy.LEAST_TALK_TIME: fs.CC_LEAST_TALK_TIME,
    QueueStrategy.RANDOM: fs.CC_RANDOM,
}
STOCK_HOLD_MUSIC = fs.LOCAL_STREAM_URL + fs.STREAM_MOH
# With no agent logged in, callers go to the overflow after this long (plus
# mod_callcenter's 5 s grace) instead of waiting out the whole max wait.
NO_AGENT_WAIT = 30
NO_AGENT_GRACE = 5
# An agent who declined or was busy is not offered another call for this long; one who
# did not answer lets the others take a turn first.
REJECT_DELAY = 10
BUSY_DELAY = 10
NO_ANSWER_DELAY = 5
# The queue's route keeps max_wait itself (`xmlcurl.queue`); mod_callcenter's own
# limit, this much later, only backs it up (it would wait for a ringing offer to end).
MAX_WAIT_BACKSTOP = 3
# Callers who hung up stay in the member list this long (mod_callcenter's default).
DISCARD_ABANDONED_AFTER = 60
# The longest an agent's phone may ring (20 rings); each contact sets its own.
AGENT_ORIGINATE_TIMEOUT = 20 * RING_SECONDS
DB_NAME = "callcenter"
INSTANCE_ID = "single_box"


@dataclass(frozen=True)
class QueueDefinition:
    name: str
    params: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class AgentDefinition:
    name: str
    contact: str
    status: str
    wrap_up_time: int
    reject_delay_time: int = REJECT_DELAY
    busy_delay_time: int = BUSY_DELAY
    no_answer_delay_time: int = NO_ANSWER_DELAY
    # Unanswered offers before mod_callcenter changes the status itself: never (0).
    max_no_answer: int = 0


@dataclass(frozen=True)
class Tier:
    agent: str
    queue: str
    position: int
    level: int = 1


@dataclass(frozen=True)
class CallcenterConfiguration:
    settings: tuple[tuple[str, str], ...]
    queues: tuple[QueueDefinition, ...] = ()
    agents: tuple[AgentDefinition, ...] = ()
    tiers: tuple[Tier, ...] = ()


SETTINGS = (
    (fs.CC_DBNAME, DB_NAME),
    (fs.CC_INSTANCE_ID, INSTANCE_ID),
    (fs.CC_TRUNCATE_AGENTS, "true"),
    (fs.CC_TRUNCATE_TIERS, "true"),
    (fs.CC_RESERVE_AGENTS, "false"),
    (fs.CC_AGENT_ORIGINATE_TIMEOUT, str(AGENT_ORIGINATE_TIMEOUT)),
)


def queue_name(extension: str, domain: str) -> str:
    return f"{extension}@{domain}"


def agent_name(extension: str, domain: str) -> str:
    return f"{extension}@{domain}"


def parse_queue_name(name: str) -> tuple[str, str] | None:
    """(extension, domain) of a queue name, None if it cannot be one of ours."""
    extension, at, domain = name.partition("@")
    if not (at and extension.isdigit() and domain):
        return None
    return extension, domain.lower()


def agent_status(logged_in: bool, paused: bool = False) -> str:
    """Logged in to any of its queues: available, or on a break; else logged out."""
    if not logged_in:
        return fs.CC_STATUS_LOGGED_OUT
    return fs.CC_STATUS_ON_BREAK if paused else fs.CC_STATUS_AVAILABLE


def agent_contact(extension: str, domain: str, rings: int) -> str:
    """What mod_callcenter originates to offer a call: every registered phone of the
    line, for the queue's rings (`leg_timeout`; `agent-originate-timeout` caps it)."""
    seconds = rings * RING_SECONDS
    return f"[{fs.V_LEG_TIMEOUT}={seconds}]{fs.USER_ENDPOINT}{extension}@{domain}"


def hold_music(queue: QueueData) -> str:
    if queue.music_uploaded and queue.doc.music_on_hold:
        return hold_music_url(queue.domain, queue.doc.music_on_hold)
    return STOCK_HOLD_MUSIC


def queue_params(queue: QueueData) -> tuple[tuple[str, str], ...]:
    doc = queue.doc
    no_agent_wait = min(NO_AGENT_WAIT, doc.max_wait) if doc.max_wait else NO_AGENT_WAIT
    return (
        (fs.CC_STRATEGY, STRATEGIES[doc.strategy]),
        (fs.CC_MOH_SOUND, hold_music(queue)),
        (fs.CC_TIME_BASE_SCORE, "queue"),
        (fs.CC_TIER_RULES_APPLY, "false"),
        (fs.CC_TIER_RULE_WAIT_SECOND, "0"),
        (fs.CC_TIER_RULE_WAIT_MULTIPLY_LEVEL, "false"),
        (fs.CC_TIER_RULE_NO_AGENT_NO_WAIT, "true"),
        (fs.CC_DISCARD_ABANDONED_AFTER, str(DISCARD_ABANDONED_AFTER)),
        (fs.CC_ABANDONED_RESUME_ALLOWED, "false"),
        (fs.CC_MAX_WAIT_TIME, str(doc.max_wait + MAX_WAIT_BACKSTOP if doc.max_wait else 0)),
        (fs.CC_MAX_WAIT_NO_AGENT, str(no_agent_wait)),
        (fs.CC_MAX_WAIT_NO_AGENT_REACHED, str(NO_AGENT_GRACE)),
        # Only used past max-no-answer, which Centrex leaves at 0 (never): agents'
        # status is Centrex's alone.
        (fs.CC_AGENT_NO_ANSWER_STATUS, fs.CC_STATUS_ON_BREAK),
        (fs.CC_SKIP_AGENTS_WITH_EXTERNAL_CALLS, "true"),
    )


def compile_callcenter(queues: Iterable[QueueData]) -> CallcenterConfiguration:
    """The configuration of these queues, with their agents and tiers. An agent in
    several queues is defined once, with the rings and wrap-up time of its first."""
    definitions: list[QueueDefinition] = []
    agents: dict[str, AgentDefinition] = {}
    logged_in: dict[str, bool] = {}
    paused: dict[str, bool] = {}
    tiers: list[Tier] = []
    for queue in queues:
        name = queue_name(queue.doc.extension, queue.domain)
        definitions.append(QueueDefinition(name, queue_params(queue)))
        for position, agent in enumerate(queue.agents, start=1):
            agent_id = agent_name(agent.extension, queue.domain)
            logged_in[agent_id] = logged_in.get(agent_id, False) or agent.logged_in
            paused[agent_id] = paused.get(agent_id, False) or agent.paused
            if agent_id not in agents:
                contact = agent_contact(agent.extension, queue.domain, queue.doc.agent_rings)
                agents[agent_id] = AgentDefinition(agent_id, contact, "", queue.doc.wrap_up)
            if agent.logged_in:
                tiers.append(Tier(agent_id, name, position))
    return CallcenterConfiguration(
        SETTINGS,
        tuple(definitions),
        tuple(
            replace(a, status=agent_status(logged_in[a.name], paused[a.name]))
            for a in agents.values()
        ),
        tuple(tiers),
    )
