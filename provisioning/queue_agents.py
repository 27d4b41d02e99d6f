"""Queue agents logging in and out, and the tenant's queues as the API shows them.

The database is the source of truth: a login or logout is written here at once, and
the event listener brings every FreeSWITCH node's mod_callcenter in line
(`esl.queue_agents`). Logging in twice, or out twice, changes nothing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioning import api_models
from provisioning.lookup import unknown_tenant
from provisioning.models import Queue, QueueAgent, Tenant, User
from provisioning.service import NotFound
from provisioning.tenant_routing import QueueDoc


def _queues(session: Session, domain: str) -> tuple[Tenant, list[Queue]]:
    tenant = session.scalars(select(Tenant).where(Tenant.domain == domain)).one_or_none()
    if tenant is None:
        raise NotFound(unknown_tenant(domain))
    queues = session.scalars(
        select(Queue).where(Queue.tenant_id == tenant.id).order_by(Queue.position)
    ).all()
    return tenant, list(queues)


def _users(session: Session, tenant: Tenant) -> dict[int, User]:
    return {u.id: u for u in session.scalars(select(User).where(User.tenant_id == tenant.id))}


def _agents(session: Session, queue_ids: list[int]) -> dict[int, list[QueueAgent]]:
    rows = session.scalars(
        select(QueueAgent).where(QueueAgent.queue_id.in_(queue_ids)).order_by(QueueAgent.position)
    )
    agents: dict[int, list[QueueAgent]] = {queue_id: [] for queue_id in queue_ids}
    for agent in rows:
        agents[agent.queue_id].append(agent)
    return agents


def list_queues(session: Session, domain: str) -> list[api_models.QueueState]:
    """Each queue with its settings of interest and its agents' logged-in state."""
    tenant, queues = _queues(session, domain)
    users = _users(session, tenant)
    agents = _agents(session, [q.id for q in queues])
    found = []
    for queue in queues:
        doc = QueueDoc.model_validate(
            {**queue.settings, "name": queue.name, "extension": queue.extension}
        )
        found.append(
            api_models.QueueState(
                name=queue.name,
                extension=queue.extension,
                short_number=queue.short_number,
                strategy=doc.strategy,
                max_wait=doc.max_wait,
                wrap_up=doc.wrap_up,
                agents=[
                    api_models.QueueAgent(
                        extension=users[a.user_id].extension,
                        name=users[a.user_id].display_name,
                        logged_in=a.logged_in,
                        paused=a.paused,
                    )
                    for a in agents[queue.id]
                ],
                agents_logged_in=sum(a.logged_in for a in agents[queue.id]),
            )
        )
    return found


def set_logged_in(
    session: Session, domain: str, queue_name: str, extension: str, logged_in: bool
) -> api_models.AgentChange:
    """Log the agent `extension` in to (or out of) the queue named `queue_name`."""
    _, queues = _queues(session, domain)
    queue = next((q for q in queues if q.name.casefold() == queue_name.casefold()), None)
    if queue is None:
        raise NotFound(f"no queue {queue_name}")
    agent = session.scalars(
        select(QueueAgent)
        .join(User, User.id == QueueAgent.user_id)
        .where(QueueAgent.queue_id == queue.id, User.extension == extension)
    ).one_or_none()
    if agent is None:
        raise NotFound(f"{extension} is not an agent of queue {queue.name}")
    agent.logged_in = logged_in
    return api_models.AgentChange(queue=queue.name, extension=extension, logged_in=logged_in)


def set_logged_in_by_number(
    session: Session, domain: str, number: str, extension: str, logged_in: bool
) -> api_models.AgentChange:
    """`set_logged_in` for the queue dialled as `number` (its extension or short
    number), as a queue log-in code names it."""
    _, queues = _queues(session, domain)
    queue = next((q for q in queues if number in (q.extension, q.short_number)), None)
    if queue is None:
        raise NotFound(f"no queue {number}")
    return set_logged_in(session, domain, queue.name, extension, logged_in)


def set_paused(session: Session, domain: str, extension: str, paused: bool) -> int:
    """Put the agent `extension` on a break (or back): offered no calls meanwhile, in
    any of its queues (mod_callcenter's status is the agent's). The number of its
    queues; NotFound when it is the agent of none."""
    tenant = session.scalars(select(Tenant).where(Tenant.domain == domain)).one_or_none()
    if tenant is None:
        raise NotFound(f"no tenant {domain}")
    agents = session.scalars(
        select(QueueAgent)
        .join(User, User.id == QueueAgent.user_id)
        .where(User.tenant_id == tenant.id, User.extension == extension)
    ).all()
    if not agents:
        raise NotFound(f"{extension} is the agent of no queue")
    for agent in agents:
        agent.paused = paused
    return len(agents)
