"""Finding one item of a tenant, for the use cases that act on one (reminders,
click-to-call, panel accounts, exports): below the service, so that any of them can
ask without importing the whole of it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioning.models import Tenant, User


class NotFound(LookupError):
    """The named tenant (or item) does not exist, or is not visible to the caller."""


def find_line(session: Session, domain: str, extension: str) -> tuple[Tenant, User]:
    """The tenant of `domain` and its user `extension` (one indexed query)."""
    row = session.execute(
        select(Tenant, User)
        .join(User, User.tenant_id == Tenant.id)
        .where(Tenant.domain == domain, User.extension == extension)
    ).one_or_none()
    if row is None:
        raise NotFound(f"no user {extension} in {domain}")
    return row.Tenant, row.User
