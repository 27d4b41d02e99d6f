"""A column some fetches add to the tenant row they read: which media the tenant
uploaded."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import func, literal_column, select

from provisioning.models import Media, Tenant


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
