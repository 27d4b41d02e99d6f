"""One user's whole entry of the tenant document (name, SIP password, numbers, voicemail
PIN and e-mails, contacts, call handling…) replaced, patched or created on its own.

The entry is checked with the document's own rules and messages (`parse_user`), against
the tenant around it asked a few indexed queries at a time, and only that user's row is
written: a save costs the same in a tenant of 100 users or of 100,000. As in
`line_settings`, a change carries the version it was made from, and one made from a
stale view (another admin, `centrex apply`, a star code) is refused (`StaleVersion`).
What spans users is checked here, where what changed is known: a forwarding loop the
user's forward would close, the user's voicemail turned off while the tenant's routing
sends calls to it, a new user's extension taken by a group, a queue or a speed dial.
Removing a user stays with the document (numbers, groups and queues refer to users).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, func, insert, select, update
from sqlalchemy.orm import Session

from provisioning import service
from provisioning import validation as v
from provisioning.call_handling import forwarding_circle
from provisioning.destinations import KINDS, Destination
from provisioning.document import (
    DEFAULT_SCHEDULE,
    DocumentInvalid,
    Problem,
    UserDoc,
    UserSurroundings,
    parse_user,
)
from provisioning.errors import said
from provisioning.line_settings import AskedOneAtATime, StaleVersion, unconditional_forwards
from provisioning.lookup import NotFound, find_line
from provisioning.models import HuntGroup, PublicNumber, Queue, Tenant, User
from provisioning.tenant_routing import NumberRoute, RoutingContext


@dataclass(frozen=True)
class UserState:
    """A user's entry as the tenant document writes it (defaults left out), and the
    version it is at."""

    user: dict[str, Any]
    version: int


@dataclass(frozen=True)
class UserSaved:
    """What a save did: the user created, or changed (False: it was already so, and
    nothing was written), and the version the user is at now."""

    extension: str
    created: bool
    changed: bool
    version: int


def dumped(user: UserDoc) -> dict[str, Any]:
    """A user's entry in the document's canonical form (`dump_document`'s)."""
    data: dict[str, Any] = user.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return data


def user_of(session: Session, domain: str, extension: str) -> UserState:
    _, user = find_line(session, domain, extension)
    return UserState(dumped(service.user_doc(user)), user.version)


def replace_user(
    session: Session, domain: str, extension: str, raw: Any, *, version: int | None
) -> UserSaved:
    """Make the user `extension` be `raw` (their entry of the tenant document, whole:
    what it leaves out takes its default), creating them when there is none. `version`:
    the version the change was made from (None: whatever it is now); one given for a user
    who does not exist (any more) is stale."""
    try:
        tenant, user = find_line(session, domain, extension)
    except NotFound:
        tenant = _tenant(session, domain)
        if version is not None:
            raise StaleVersion(extension, 0) from None
        return _create(session, tenant, extension, raw)
    return _replace(session, tenant, user, raw, version)


def patch_user(
    session: Session, domain: str, extension: str, patch: Any, *, version: int | None
) -> UserSaved:
    """Change the user by a JSON merge patch (RFC 7396) of their entry as `user_of`
    gives it: a member replaces, null removes (the default again), objects merge, lists
    are replaced whole."""
    if not isinstance(patch, dict):
        raise DocumentInvalid(
            [Problem("", said("patch_not_object", "a merge patch of a user must be a JSON object"))]
        )
    tenant, user = find_line(session, domain, extension)
    merged = merge_patch(dumped(service.user_doc(user)), patch)
    return _replace(session, tenant, user, merged, version)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396, section 2."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result


def _tenant(session: Session, domain: str) -> Tenant:
    tenant = session.scalars(select(Tenant).where(Tenant.domain == domain)).one_or_none()
    if tenant is None:
        raise NotFound(f"no tenant {domain}")
    return tenant


def _parsed(session: Session, tenant: Tenant, extension: str, raw: Any) -> UserDoc:
    """`raw` checked as the document checks a user's entry, against the tenant."""
    if isinstance(raw, dict):
        raw = {"extension": extension, **raw}
        if str(raw["extension"]) != extension:
            raise DocumentInvalid(
                [
                    Problem(
                        "extension",
                        said(
                            "extension_fixed",
                            "is %(extension)s: an extension cannot be changed",
                            extension=extension,
                        ),
                    )
                ]
            )
    schedules = {str(s.get("name", "")).casefold() for s in tenant.schedules or []}
    around = UserSurroundings(
        country=tenant.country,
        schedules=schedules | {DEFAULT_SCHEDULE.casefold()},
        numbers=AskedOneAtATime(session, PublicNumber.number, PublicNumber.tenant_id, tenant.id),
        extensions=AskedOneAtATime(session, User.extension, User.tenant_id, tenant.id),
    )
    return parse_user(raw, around)


def _forwarding_loop(session: Session, tenant: Tenant, doc: UserDoc) -> list[Problem]:
    forwards = unconditional_forwards(session, tenant.id, doc.extension, doc.call_handling)
    circle = forwarding_circle(doc.extension, forwards)
    if circle is None:
        return []
    return [Problem("call_handling.forward_always.to", v.forwarding_loop(circle))]


def _replace(
    session: Session, tenant: Tenant, user: User, raw: Any, version: int | None
) -> UserSaved:
    if version is not None and user.version != version:
        raise StaleVersion(user.extension, user.version)
    doc = _parsed(session, tenant, user.extension, raw)
    problems = _forwarding_loop(session, tenant, doc)
    if user.voicemail_enabled and not doc.voicemail.enabled:
        problems += _voicemail_still_used(session, tenant, user.extension)
    if problems:
        raise DocumentInvalid(problems)
    values = service.user_values(doc, user.position)
    if all(getattr(user, column) == value for column, value in values.items()):
        return UserSaved(user.extension, created=False, changed=False, version=user.version)
    written: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(User)
        .where(User.id == user.id, User.version == user.version)
        .values(**values, version=User.version + 1)
        .execution_options(synchronize_session=False)
    )
    if written.rowcount != 1:  # changed or removed between our read and this write
        raise StaleVersion(user.extension, user.version + 1)
    return UserSaved(user.extension, created=False, changed=True, version=user.version + 1)


def _create(session: Session, tenant: Tenant, extension: str, raw: Any) -> UserSaved:
    doc = _parsed(session, tenant, extension, raw)
    problems = _forwarding_loop(session, tenant, doc)
    taken = _taken_by(session, tenant, doc.extension)
    if taken is not None:
        problems.insert(0, Problem("extension", v.extension_taken(doc.extension, taken)))
    if problems:
        raise DocumentInvalid(problems)
    # Last in the document, as a user added at its end. (The one statement here whose
    # cost grows with the tenant: an aggregate over its users' index entries.)
    last = session.scalar(select(func.max(User.position)).where(User.tenant_id == tenant.id))
    position = 0 if last is None else last + 1
    session.execute(
        insert(User).values(
            tenant_id=tenant.id,
            extension=doc.extension,
            caller_id_policy=service.caller_id_policy_of(tenant, doc.extension),
            **service.user_values(doc, position),
        )
    )
    return UserSaved(doc.extension, created=True, changed=True, version=1)


def _taken_by(session: Session, tenant: Tenant, extension: str) -> str | None:
    """What else of the tenant is dialled as `extension` (a group's or queue's number,
    a speed dial), as the document names it; None if nothing."""
    for model, kind in ((HuntGroup, "groups"), (Queue, "queues")):
        rows = session.execute(
            select(model.position, model.extension, model.short_number).where(
                model.tenant_id == tenant.id,
                (model.extension == extension) | (model.short_number == extension),
            )
        ).all()
        if rows:
            index = _index(session, model, tenant.id, rows[0].position)
            field = "extension" if rows[0].extension == extension else "short_number"
            return f"{kind}[{index}].{field}"
    for i, dial in enumerate(tenant.speed_dials or []):
        if dial.get("code") == extension:
            return f"speed_dials[{i}]"
    return None


def _index(session: Session, model: type[HuntGroup] | type[Queue], tenant_id: int, at: int) -> int:
    """A group's or queue's index in the document (they are listed by position)."""
    before = session.scalar(
        select(func.count())
        .select_from(model)
        .where(model.tenant_id == tenant_id, model.position < at)
    )
    return before or 0


def _voicemail_still_used(session: Session, tenant: Tenant, extension: str) -> list[Problem]:
    """The tenant's routing that sends calls to the user's voicemail box (numbers by
    schedule, groups' and queues' overflow), refused as the document refuses it once
    the box is off. Read only when a box is turned off: the tenant's numbers are many."""
    problems: list[Problem] = []
    no_box = RoutingContext(
        country=tenant.country,
        users=set(),
        voicemail_users=set(),  # the user's box is off; the others' are not asked
        schedules=set(),
        check=lambda _path, rule, value, *args, **kw: rule(value, *args, **kw),
        fail=lambda path, message: problems.append(Problem(path, message)),
    )
    for path, destination in _routing(session, tenant.id):
        if destination.voicemail == extension:
            KINDS["voicemail"].check(destination, path, no_box)
    return problems


def _routing(session: Session, tenant_id: int) -> Iterator[tuple[str, Destination]]:
    """Every destination of the tenant's routing, with its path in the document."""
    numbers = session.execute(
        select(PublicNumber.routing)
        .where(PublicNumber.tenant_id == tenant_id)
        .order_by(PublicNumber.position, PublicNumber.number)
    )
    for i, (routing,) in enumerate(numbers):
        for k, route in enumerate(routing.get("routes", [])):
            yield f"numbers[{i}].routes[{k}].to", NumberRoute.model_validate(route).to
        if "otherwise" in routing:
            yield f"numbers[{i}].otherwise", Destination.model_validate(routing["otherwise"])
    for model, kind in ((HuntGroup, "groups"), (Queue, "queues")):
        settings = session.scalars(
            select(model.settings).where(model.tenant_id == tenant_id).order_by(model.position)
        )
        for i, found in enumerate(settings):
            if "overflow" in found:
                yield f"{kind}[{i}].overflow", Destination.model_validate(found["overflow"])
