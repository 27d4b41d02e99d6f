"""One user's settings changed on their own: checked against the tenant around the user
with the same rules as the tenant document, and only that user's row written.

A save in the panel, a REST call for one user, a star code dialled from a phone: each is
one use case here. They cost a few indexed queries whatever the tenant's size (the
document's whole-tenant apply is for `centrex apply` and the document's PUT). Every
change carries the version it was made from: a change made from a stale view (another
admin, `centrex apply` or a star code saved meanwhile) is refused (`StaleVersion`),
never silently undoes the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from provisioning import validation as v
from provisioning.call_handling import (
    CallHandling,
    Context,
    Fail,
    check_call_handling,
    forwarding_circle,
    unconditional_forward,
)
from provisioning.caller_id_policy import presented, withheld_by_policy
from provisioning.destinations import VOICEMAIL
from provisioning.document import DEFAULT_SCHEDULE, DocumentInvalid, Problem
from provisioning.errors import DomainError, said, structure_problem
from provisioning.lookup import find_line
from provisioning.models import PublicNumber, Tenant, User
from provisioning.numbering import (
    BARRABLE,
    Category,
    allowed_from_barring,
    barring_from_allowed,
)

_PATH = "call_handling"


class StaleVersion(DomainError):
    """The user changed since the version the change was made from: nothing written."""

    def __init__(self, extension: str, current: int):
        """`current`: the version the user is at now; 0 when they were removed."""
        if current == 0:
            message = said(
                "user_removed",
                "user %(extension)s was removed meanwhile; nothing written",
                extension=extension,
            )
        else:
            message = said(
                "stale_version",
                "user %(extension)s was changed meanwhile (now version %(version)d); nothing "
                "written: read it again and redo the change",
                extension=extension,
                version=current,
            )
        super().__init__(message)
        self.current = current


@dataclass(frozen=True)
class CallHandlingState:
    """A user's call handling as stored (canonical form), call waiting, and the version
    they are at."""

    call_handling: dict[str, Any]
    version: int
    call_waiting: bool = True


def call_handling_of(session: Session, domain: str, extension: str) -> CallHandlingState:
    _, user = find_line(session, domain, extension)
    return CallHandlingState(dict(user.call_handling or {}), user.version, user.call_waiting)


class AskedOneAtATime:
    """Values of the tenant (its extensions, its public numbers), asked one at a time:
    a tenant may have 100,000 of them, a change names a few."""

    def __init__(self, session: Session, column: Any, tenant_column: Any, tenant_id: int) -> None:
        self._session, self._tenant_id = session, tenant_id
        self._column, self._tenant_column = column, tenant_column
        self._known: dict[str, bool] = {}

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        if value not in self._known:
            found = self._session.scalar(
                select(self._column).where(
                    self._tenant_column == self._tenant_id, self._column == value
                )
            )
            self._known[value] = found is not None
        return self._known[value]


def _context(session: Session, tenant: Tenant, user: User, fail: Fail) -> Context:
    schedules = {str(s.get("name", "")).casefold() for s in tenant.schedules or []}
    return Context(
        country=tenant.country,
        extension=user.extension,
        extensions=AskedOneAtATime(session, User.extension, User.tenant_id, tenant.id),
        numbers=AskedOneAtATime(session, PublicNumber.number, PublicNumber.tenant_id, tenant.id),
        schedules=schedules | {DEFAULT_SCHEDULE.casefold()},
        contacts={str(c.get("name", "")).casefold() for c in user.contacts or []},
        allowed_destinations=frozenset(Category(c) for c in user.allowed_destinations or []),
        home=tenant.main_number,
        voicemail_enabled=user.voicemail_enabled,
        fail=fail,
    )


def unconditional_forwards(
    session: Session, tenant_id: int, extension: str, changed: CallHandling
) -> Callable[[str], str | None]:
    """Each line's unconditional forward: the changed one as it will be, the others as
    stored (read one hop at a time, as the circle is followed)."""

    def forward_of(ext: str) -> str | None:
        if ext == extension:
            return unconditional_forward(ext, changed.forward_always)
        stored = session.scalar(
            select(User.call_handling).where(User.tenant_id == tenant_id, User.extension == ext)
        )
        fwd = (stored or {}).get("forward_always")
        if not isinstance(fwd, dict) or fwd.get("schedule") is not None:
            return None
        to = str(fwd.get("to", ""))
        return to if to.isdigit() and to != ext else None

    return forward_of


def _field(loc: tuple[Any, ...]) -> str:
    """A pydantic error's location as a path of the user's own fields."""
    return _PATH + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


def set_call_handling(
    session: Session,
    domain: str,
    extension: str,
    raw: dict[str, Any],
    *,
    version: int | None,
    call_waiting: bool | None = None,
) -> CallHandlingState:
    """Replace the user's call handling with `raw` (the document's `call_handling`
    form), checked as the document checks it, and call waiting when given; errors name
    the user's own fields (`call_handling.forward_always.to`). `version`: the version
    the change was made from (None: whatever it is now, for administrators' scripts)."""
    tenant, user = find_line(session, domain, extension)
    if version is not None and user.version != version:
        raise StaleVersion(extension, user.version)
    try:
        handling = CallHandling.model_validate(raw)
    except ValidationError as exc:
        raise DocumentInvalid(
            [structure_problem(_field(e["loc"]), e) for e in exc.errors()]
        ) from None
    problems: list[Problem] = []
    ctx = _context(
        session, tenant, user, lambda path, message: problems.append(Problem(path, message))
    )
    check_call_handling(handling, ctx, _PATH)
    circle = forwarding_circle(
        extension, unconditional_forwards(session, tenant.id, extension, handling)
    )
    if circle is not None:
        problems.append(Problem(f"{_PATH}.forward_always.to", v.forwarding_loop(circle)))
    if problems:
        raise DocumentInvalid(problems)
    stored = handling.model_dump(mode="json", exclude_defaults=True)
    waiting = user.call_waiting if call_waiting is None else call_waiting
    written: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(User)
        .where(User.id == user.id, User.version == user.version)
        .values(call_handling=stored, call_waiting=waiting, version=User.version + 1)
        .execution_options(synchronize_session=False)
    )
    if written.rowcount != 1:  # changed between our read and this write
        raise StaleVersion(extension, user.version + 1)
    return CallHandlingState(stored, user.version + 1, waiting)


def set_do_not_disturb(
    session: Session, domain: str, extension: str, on: bool
) -> CallHandlingState:
    """Do-not-disturb on or off (a star code, a BLF key, the switchboard), keeping its
    priority callers; the rest of the call handling as it is now."""
    state = call_handling_of(session, domain, extension)
    handling = dict(state.call_handling)
    dnd = dict(handling.get("do_not_disturb") or {})
    dnd["enabled"] = on
    handling["do_not_disturb"] = dnd
    return set_call_handling(session, domain, extension, handling, version=state.version)


class NothingToReuse(DocumentInvalid):
    """A forward turned on without a number, and none was ever set: nothing written."""


def set_forward(
    session: Session, domain: str, extension: str, kind: str, on: bool, to: str | None = None
) -> CallHandlingState:
    """A forward (`always`, `busy`, `no_answer`) on to `to` — or, without one, to the
    number it was last set to (seed 003 §2.5.2) — or off, its number remembered. A
    forward turned on from the phone is for every call, whenever: any schedule it had
    is dropped; its other options are kept. Checked as every change of the user's call
    handling is (barring, loops, valid numbers); the rest stays as it is now."""
    key = f"forward_{kind}"
    state = call_handling_of(session, domain, extension)
    handling = dict(state.call_handling)
    current = dict(handling.get(key) or {})
    remembered = dict(handling.get("remembered_forwards") or {})
    if on:
        target = to or remembered.get(kind) or current.get("to")
        if not target:
            raise NothingToReuse(
                [Problem(f"{_PATH}.{key}.to", "no number given, and none to reuse")]
            )
        current.pop("schedule", None)
        if kind == "no_answer" and (target == VOICEMAIL) != (current.get("to") == VOICEMAIL):
            # Delays to voicemail and to a number have different bounds: the default.
            current.pop("after", None)
            current.pop("rings", None)
        handling[key] = {**current, "to": target}
        remembered[kind] = target
    else:
        handling.pop(key, None)
        if current.get("to"):
            remembered[kind] = current["to"]
    handling["remembered_forwards"] = remembered
    return set_call_handling(session, domain, extension, handling, version=state.version)


@dataclass(frozen=True)
class CallBarringState:
    """A user's barred call categories (the document's `call_barring`), and the version
    they are at."""

    barred: frozenset[Category]
    version: int


def call_barring_of(session: Session, domain: str, extension: str) -> CallBarringState:
    _, user = find_line(session, domain, extension)
    allowed = frozenset(Category(c) for c in user.allowed_destinations or [])
    return CallBarringState(frozenset(barring_from_allowed(allowed)), user.version)


def set_call_barring(
    session: Session, domain: str, extension: str, barred: list[str], *, version: int | None
) -> CallBarringState:
    """Bar these categories for the user (an administrator's change: users do not unbar
    themselves). The user's forwards are checked against it as the document checks
    them: a forward to what becomes barred is named, nothing written."""
    tenant, user = find_line(session, domain, extension)
    if version is not None and user.version != version:
        raise StaleVersion(extension, user.version)
    problems: list[Problem] = []
    categories: set[Category] = set()
    for i, name in enumerate(barred):
        if name not in BARRABLE:
            problems.append(Problem(f"call_barring[{i}]", f"{name!r} is no barrable category"))
        else:
            categories.add(Category(name))
    if problems:
        raise DocumentInvalid(problems)
    allowed = allowed_from_barring(categories)
    ctx = _context(
        session, tenant, user, lambda path, message: problems.append(Problem(path, message))
    )
    ctx.allowed_destinations = allowed
    check_call_handling(CallHandling.model_validate(user.call_handling or {}), ctx, _PATH)
    if problems:
        raise DocumentInvalid(problems)
    written: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(User)
        .where(User.id == user.id, User.version == user.version)
        .values(allowed_destinations=sorted(allowed), version=User.version + 1)
        .execution_options(synchronize_session=False)
    )
    if written.rowcount != 1:  # changed between our read and this write
        raise StaleVersion(extension, user.version + 1)
    return CallBarringState(frozenset(categories), user.version + 1)


@dataclass(frozen=True)
class OutgoingPresentation:
    """What the user's outside calls present now, and why."""

    number: str | None  # None: withheld
    # Set by the tenant's outgoing caller ID policy, not by the user's own settings.
    by_policy: bool


def outgoing_presentation_of(session: Session, domain: str, extension: str) -> OutgoingPresentation:
    tenant, user = find_line(session, domain, extension)
    caller_id = CallHandling.model_validate(user.call_handling or {}).caller_id
    policy = user.caller_id_policy
    by_policy = policy is not None and not caller_id.withhold and not caller_id.outgoing_number
    if caller_id.withhold or withheld_by_policy(caller_id.outgoing_number, policy):
        return OutgoingPresentation(None, by_policy)
    number = presented(
        chosen=caller_id.outgoing_number,
        policy=policy,
        public_number=user.public_number,
        main_number=tenant.main_number,
    )
    return OutgoingPresentation(number, by_policy)
