"""Panel accounts: users log in with one of their numbers and a password of their own.

The password is kept as an argon2 hash (argon2-cffi's defaults); a user without one
cannot log in. A number is the line's public number in any written form the tenant's
country reads, or `extension@domain`. After `MAX_FAILURES` wrong passwords in a row an
account is locked for `LOCKOUT`, whatever password is given meanwhile: online guessing
gets five tries a quarter of an hour.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioning import service
from provisioning.models import PublicNumber, Tenant, User
from provisioning.validation import InvalidValue, check_panel_password, check_public_number

log = logging.getLogger(__name__)

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)

_HASHER = PasswordHasher()
# Checked when no account matches, so that a wrong number costs what a wrong password does.
_NOBODY = _HASHER.hash("no account has this password")


@dataclass(frozen=True)
class Account:
    """Who is logged in: enough to find the user again, and what they may do."""

    domain: str
    extension: str
    name: str
    admin: bool
    # Changes with the password: a session keeps it and ends when it no longer matches
    # (the password changed elsewhere, or the user was removed and made again).
    password_tag: str = ""


def _line_for(session: Session, number: str, default_country: str) -> tuple[str, User] | None:
    """The tenant's domain and the user `number` names."""
    number = number.strip()
    if "@" in number:
        extension, _, domain = number.partition("@")
        return _line(session, domain.lower(), extension)
    try:
        e164 = check_public_number(number, default_country)
    except InvalidValue:
        return None
    row = session.execute(
        select(Tenant.domain, User)
        .join(User, User.tenant_id == Tenant.id)
        .join(PublicNumber, PublicNumber.user_id == User.id)
        .where(PublicNumber.number == e164)
    ).first()
    return None if row is None else (row.domain, row.User)


def _line(session: Session, domain: str, extension: str) -> tuple[str, User] | None:
    try:
        tenant, user = service.find_line(session, domain, extension)
    except service.NotFound:
        return None
    return tenant.domain, user


def _account(domain: str, user: User) -> Account:
    return Account(
        domain, user.extension, user.display_name, user.panel_admin, _tag(user.panel_password)
    )


def _tag(stored: str | None) -> str:
    return hashlib.sha256((stored or "").encode()).hexdigest()[:16]


def _locked(user: User, now: datetime) -> bool:
    until = user.panel_locked_until
    if until is None:
        return False
    return (until if until.tzinfo else until.replace(tzinfo=UTC)) > now


def log_in(
    session: Session,
    number: str,
    password: str,
    default_country: str,
    now: datetime | None = None,
) -> Account | None:
    """The account `number` names if `password` is its password and the account is not
    locked; None otherwise, in the same time either way. Failures are counted."""
    now = now or datetime.now(UTC)
    found = _line_for(session, number, default_country)
    domain, user = found if found is not None else ("", None)
    stored = user.panel_password if user is not None else None
    try:
        right: bool = _HASHER.verify(stored or _NOBODY, password)
    except (VerificationError, InvalidHashError):
        right = False
    if user is None or stored is None or _locked(user, now):
        return None
    if not right:
        user.panel_failures += 1
        if user.panel_failures >= MAX_FAILURES:
            user.panel_failures = 0
            user.panel_locked_until = now + LOCKOUT
            log.warning("panel account %s locked after %d failures", user.extension, MAX_FAILURES)
        return None
    user.panel_failures = 0
    user.panel_locked_until = None
    if _HASHER.check_needs_rehash(stored):
        user.panel_password = _HASHER.hash(password)
    return _account(domain, user)


def find_account(session: Session, domain: str, extension: str) -> Account | None:
    found = _line(session, domain, extension)
    return None if found is None else _account(*found)


def tenant_accounts(session: Session, domain: str) -> list[Account]:
    users = session.scalars(
        select(User)
        .join(Tenant, Tenant.id == User.tenant_id)
        .where(Tenant.domain == domain)
        .order_by(User.position, User.extension)
    )
    return [_account(domain, u) for u in users]


def set_password(session: Session, domain: str, extension: str, password: str) -> None:
    """Check `password` against the rules (InvalidValue says which one fails) and keep
    its hash."""
    found = _line(session, domain, extension)
    if found is None:
        raise InvalidValue(f"no user {extension}@{domain}")
    user = found[1]
    own = [user.extension, *([user.public_number] if user.public_number else [])]
    own += session.scalars(select(PublicNumber.number).where(PublicNumber.user_id == user.id))
    check_panel_password(password, own_numbers=own)
    user.panel_password = _HASHER.hash(password)
    # A new password (set by an administrator) also lifts a lockout.
    user.panel_failures = 0
    user.panel_locked_until = None
