"""What the queue compilers see of the database, and the queries that load it.

A queue row keeps its name and numbers in columns and the rest of its document in
`settings` (defaults left out); rows become `QueueData` with every setting filled in,
so the compilers never touch a session. Queries are SQLAlchemy Core, constant in
number whatever the number of tenants, queues and agents.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, func, or_, select

from provisioning.media import MUSIC
from provisioning.models import Media, Queue, QueueAgent, Tenant, User
from provisioning.tenant_routing import QueueDoc
from xmlcurl.inputs import AgentData, QueueData, queue_doc
from xmlcurl.tenant_rows import (
    media_paths_column,
    parsed_media_paths,
)


def _music_names() -> Any:
    """The tenant's hold music names, `|`-separated (media names never hold `|`)."""
    return (
        select(func.aggregate_strings(Media.name, "|"))
        .where(Media.tenant_id == Tenant.id, Media.kind == MUSIC)
        .scalar_subquery()
    )


_QUEUE_COLUMNS = (
    Tenant.domain,
    Queue.id,
    Queue.name,
    Queue.extension,
    Queue.short_number,
    Queue.settings,
)


def _with_music(
    domain: str, doc: QueueDoc, music: set[str], agents: Iterable[AgentData] = ()
) -> QueueData:
    uploaded = doc.music_on_hold is not None and doc.music_on_hold in music
    return QueueData(domain=domain, doc=doc, agents=tuple(agents), music_uploaded=uploaded)


def load_queues(conn: Connection, only: tuple[str, str] | None = None) -> list[QueueData]:
    """Every queue of every tenant with its agents (or only the queue `(extension,
    domain)`), for callcenter.conf: two queries."""
    query = (
        select(
            *_QUEUE_COLUMNS,
            User.extension.label("agent"),
            QueueAgent.logged_in,
            QueueAgent.paused,
        )
        .join(Tenant, Tenant.id == Queue.tenant_id)
        .outerjoin(QueueAgent, QueueAgent.queue_id == Queue.id)
        .outerjoin(User, User.id == QueueAgent.user_id)
        .order_by(Tenant.domain, Queue.position, Queue.id, QueueAgent.position)
    )
    music_query = (
        select(Tenant.domain, Media.name)
        .join(Tenant, Tenant.id == Media.tenant_id)
        .where(Media.kind == MUSIC)
    )
    if only is not None:
        extension, domain = only
        query = query.where(Tenant.domain == domain, Queue.extension == extension)
        music_query = music_query.where(Tenant.domain == domain)
    music = {(row.domain, row.name) for row in conn.execute(music_query)}
    queues: dict[int, tuple[str, QueueDoc, list[AgentData]]] = {}
    for row in conn.execute(query):
        if row.id not in queues:
            doc = queue_doc(row.name, row.extension, row.short_number, row.settings)
            queues[row.id] = (row.domain, doc, [])
        if row.agent is not None:
            queues[row.id][2].append(
                AgentData(
                    extension=row.agent, logged_in=bool(row.logged_in), paused=bool(row.paused)
                )
            )
    return [
        _with_music(domain, doc, {n for d, n in music if d == domain}, agents)
        for domain, doc, agents in queues.values()
    ]


def load_queue_call(conn: Connection, domain: str, number: str) -> QueueData | None:
    """The queue dialled as `number` (its extension or short number) in the tenant of
    `domain`, without its agents (mod_callcenter has them): one indexed query."""
    row = conn.execute(
        select(
            *_QUEUE_COLUMNS,
            _music_names().label("music"),
            media_paths_column().label("media_paths"),
        )
        .join(Tenant, Tenant.id == Queue.tenant_id)
        .where(
            Tenant.domain == domain,
            or_(Queue.extension == number, Queue.short_number == number),
        )
    ).first()
    if row is None:
        return None
    doc = queue_doc(row.name, row.extension, row.short_number, row.settings)
    queue = _with_music(row.domain, doc, set((row.music or "").split("|")))
    return replace(queue, media_paths=parsed_media_paths(row.media_paths))
