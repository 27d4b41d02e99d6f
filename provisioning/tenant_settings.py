"""A tenant's own settings changed one at a time (call park), as the panel changes them:
the one block checked with the tenant document's rules and messages against what it
must not clash with, found by a few indexed queries (never the whole tenant, which may
hold 100,000 users), and written alone.

Problems carry the document's paths (`park.last_slot`; a clash names its owner as the
document does, `users[12]`, `groups[0].extension`), so every surface words them alike.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from provisioning import validation as v
from provisioning.document import Checker
from provisioning.errors import DocumentInvalid, structure_problem
from provisioning.lookup import NotFound
from provisioning.models import HuntGroup, Queue, Tenant, User
from provisioning.park import MAX_SLOTS, ParkDoc, check_park, dumped, slot_numbers
from provisioning.tenant_routing import RoutingContext


def tenant_of(session: Session, domain: str) -> Tenant:
    tenant = session.scalars(select(Tenant).where(Tenant.domain == domain)).one_or_none()
    if tenant is None:
        raise NotFound(f"no tenant {domain}")
    return tenant


def numbers_taken(
    session: Session, tenant: Tenant, numbers: set[str], *, park_slots: bool = True
) -> dict[str, str]:
    """Which of `numbers` (a few) the tenant already uses, and by what — the document's
    path of it: users' extensions, groups' and queues' numbers and short numbers, speed
    dial codes, and (`park_slots`) call park's slots. Indexed queries for those numbers
    only, never the tenant's 100,000 users."""
    taken: dict[str, str] = {}
    users = session.execute(
        select(User.extension, User.position).where(
            User.tenant_id == tenant.id, User.extension.in_(numbers)
        )
    )
    taken.update({row.extension: f"users[{row.position}]" for row in users})
    for model, kind in ((HuntGroup, "groups"), (Queue, "queues")):
        units = session.execute(
            select(model.extension, model.short_number, model.position).where(
                model.tenant_id == tenant.id,
                or_(model.extension.in_(numbers), model.short_number.in_(numbers)),
            )
        )
        for row in units:
            if row.extension in numbers:
                taken.setdefault(row.extension, f"{kind}[{row.position}].extension")
            if row.short_number in numbers:
                taken.setdefault(row.short_number, f"{kind}[{row.position}].short_number")
    for i, dial in enumerate(tenant.speed_dials or []):
        if dial.get("code") in numbers:
            taken.setdefault(dial["code"], f"speed_dials[{i}]")
    if park_slots and tenant.park is not None:
        park = ParkDoc.model_validate(tenant.park)
        for slot in set(slot_numbers(park.first_slot, park.last_slot)) & numbers:
            taken.setdefault(slot, "park")
    return taken


def park_of(session: Session, domain: str) -> ParkDoc | None:
    """The tenant's park block; None when calls cannot be parked."""
    stored = tenant_of(session, domain).park
    return None if stored is None else ParkDoc.model_validate(stored)


def set_park(session: Session, domain: str, raw: dict[str, Any] | None) -> None:
    """Turn call park off (None) or set its block; DocumentInvalid with every problem,
    nothing written."""
    tenant = tenant_of(session, domain)
    park = None
    if raw is not None:
        try:
            park = ParkDoc.model_validate(raw)
        except PydanticValidationError as exc:
            errors = exc.errors(include_url=False)
            raise DocumentInvalid(
                [structure_problem(".".join(map(str, ("park", *e["loc"]))), e) for e in errors]
            ) from None
    check = Checker()
    if park is not None:
        first, last = park.first_slot, park.last_slot
        counted = v.EXTENSION.fullmatch(first) and v.EXTENSION.fullmatch(last)
        count = int(last) - int(first) + 1 if counted and len(first) == len(last) else 0
        # Slots looked up only for a range the rules can accept (check_park says why not).
        slots = slot_numbers(first, last) if 0 < count <= MAX_SLOTS else ()
        context = RoutingContext(tenant.country, set(), set(), set(), check, check.fail)
        check_park(park, numbers_taken(session, tenant, set(slots), park_slots=False), context)
    if check.problems:
        raise DocumentInvalid(check.problems)
    tenant.park = dumped(park)
