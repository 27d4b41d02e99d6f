"""Finding one item of a tenant, for the use cases that act on one (reminders,
click-to-call, panel accounts, exports): below the service, so that any of them can
ask without importing the whole of it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioning.errors import DomainError, Said, said
from provisioning.models import Tenant, User


class NotFound(DomainError, LookupError):
    """The named tenant (or item) does not exist, or is not visible to the caller."""


def unknown_tenant(domain: str) -> Said:
    return said("unknown_tenant", "no tenant %(domain)s", domain=domain)


def find_line(session: Session, domain: str, extension: str) -> tuple[Tenant, User]:
    """The tenant of `domain` and its user `extension` (one indexed query)."""
    row = session.execute(
        select(Tenant, User)
        .join(User, User.tenant_id == Tenant.id)
        .where(Tenant.domain == domain, User.extension == extension)
    ).one_or_none()
    if row is None:
        raise NotFound(
            said(
                "unknown_line",
                "no user %(extension)s in %(domain)s",
                extension=extension,
                domain=domain,
            )
        )
    return row.Tenant, row.User
