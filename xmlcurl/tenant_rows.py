"""Columns some fetches add to the tenant row they read: which media the tenant
uploaded, and its groups' and queues' numbers by name (for calls handed on to one)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, func, literal_column, select
from sqlalchemy.orm import aliased

from provisioning.models import HuntGroup, Media, Queue, Tenant


def media_paths_column() -> Any:
    """The tenant's uploaded media (paths under the media directory, `|`-separated: media
    paths never hold one), for the tenant row a query reads: announcements, ringback
    tones and hold music play only if uploaded, else the stock sound does."""
    separator: Any = literal_column("'|'")
    return (
        select(func.aggregate_strings(Media.path, separator))
        .where(Media.tenant_id == Tenant.id)
        .scalar_subquery()
    )


@lru_cache(maxsize=4096)
def parsed_media_paths(text: str | None) -> frozenset[str]:
    return frozenset(text.split("|")) if text else frozenset()


def _unit_numbers(unit: type[HuntGroup] | type[Queue]) -> Any:
    """`name=number|name=number…` of the tenant's groups (or queues), as one column:
    the map comes with the row a query reads instead of costing a query of its own."""
    # Its own alias: the queries it joins may read groups or queues themselves.
    unit = aliased(unit)
    # Names never hold `|` (see validation); numbers are digits.
    pair = unit.name + literal_column("'='") + unit.extension
    # Literal separators: the prepared statement takes no parameters but its own.
    separator: Any = literal_column("'|'")
    return (
        select(func.aggregate_strings(pair, separator))
        .where(unit.tenant_id == Tenant.id)
        .correlate(Tenant)
        .scalar_subquery()
    )


def unit_number_columns() -> tuple[Any, Any]:
    """The tenant's group and queue numbers by name, for the queries whose calls may be
    handed on to one (public numbers, groups' and queues' overflow): not read on other
    calls, whose query would aggregate them for nothing."""
    return (
        _unit_numbers(HuntGroup).label("group_numbers"),
        _unit_numbers(Queue).label("queue_numbers"),
    )


@lru_cache(maxsize=4096)
def parsed_unit_numbers(groups: str | None, queues: str | None) -> dict[str, str]:
    pairs = (p.rpartition("=") for text in (groups, queues) if text for p in text.split("|"))
    return {name.casefold(): number for name, _, number in pairs}


def load_unit_numbers(conn: Connection, domain: str) -> dict[str, str]:
    """The tenant's group and queue numbers by case-folded name: one indexed query."""
    row = conn.execute(select(*unit_number_columns()).where(Tenant.domain == domain)).first()
    return {} if row is None else parsed_unit_numbers(row.group_numbers, row.queue_numbers)
