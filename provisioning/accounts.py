"""Panel accounts: users log in with one of their numbers and a password of their own.

The password is kept as an argon2 hash (argon2-cffi's defaults); a user without one
cannot log in. A number is the line's public number in any written form the tenant's
country reads, or `extension@domain`. After `MAX_FAILURES` wrong passwords in a row an
account is locked for `LOCKOUT`, whatever password is given meanwhile: online guessing
gets five tries a quarter of an hour, however many guesses arrive at once (each try is
counted in the database before its password is checked).

A log-in opens a session kept in the database (`PanelSession`); the browser's cookie
holds only its random token. Log-out deletes it, a password change deletes every
session of the account, and a session ends by itself after `SESSION_LIFETIME`.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from provisioning import account_security, service
from provisioning.errors import said
from provisioning.models import PanelSession, PublicNumber, Tenant, User
from provisioning.numbering import line_numbers
from provisioning.validation import InvalidValue, check_panel_password, check_public_number

log = logging.getLogger(__name__)

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)

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
    # Where security mail goes (account_security); None until the user gives one.
    security_email: str | None = None


class TooManyTries(Exception):
    """The network address the log-in comes from used up its tries for now."""


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
    return Account(domain, user.extension, user.display_name, user.panel_admin, user.security_email)


def _take_a_try(session: Session, user_id: int, now: datetime) -> int | None:
    """Count a try against the account, before its password is checked, in one
    statement: concurrent guesses each get a number of their own. None: locked."""
    return session.execute(
        update(User)
        .where(
            User.id == user_id,
            or_(User.panel_locked_until.is_(None), User.panel_locked_until <= now),
        )
        .values(panel_failures=User.panel_failures + 1)
        .returning(User.panel_failures)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()


def log_in(
    sessions: sessionmaker[Session],
    number: str,
    password: str,
    default_country: str,
    now: datetime | None = None,
    address: str | None = None,
) -> Account | None:
    """The account `number` names if `password` is its password and the account is not
    locked; None otherwise, in the same time either way. The try is counted (and
    committed) before the password is checked, so that no more than `MAX_FAILURES`
    guesses are ever checked in a row, even all at once; a right password clears the
    count. No transaction is open while the hash is checked. With the network
    `address` it comes from, the try counts against that address too (TooManyTries
    when it has none left; see account_security)."""
    now = now or datetime.now(UTC)
    if address is not None:
        with sessions.begin() as session:
            if not account_security.take_address_try(session, address, now):
                raise TooManyTries()
    with sessions.begin() as session:
        found = _line_for(session, number, default_country)
        domain, user = found if found is not None else ("", None)
        stored = user.panel_password if user is not None else None
        tries = _take_a_try(session, user.id, now) if user is not None and stored else None
        account = _account(domain, user) if user is not None else None
        user_id = user.id if user is not None else None
    checked = tries is not None and tries <= MAX_FAILURES
    try:
        right: bool = _HASHER.verify(stored if checked and stored else _NOBODY, password)
    except (VerificationError, InvalidHashError):
        right = False
    if not checked or account is None or stored is None:
        return None
    with sessions.begin() as session:
        if right:
            values: dict[str, object] = {"panel_failures": 0, "panel_locked_until": None}
            if _HASHER.check_needs_rehash(stored):
                values["panel_password"] = _HASHER.hash(password)
            session.execute(update(User).where(User.id == user_id).values(**values))
            if address is not None:
                account_security.give_address_try_back(session, address)
            return account
        if tries == MAX_FAILURES:
            session.execute(
                update(User)
                .where(User.id == user_id)
                .values(panel_failures=0, panel_locked_until=now + LOCKOUT)
            )
            log.warning(
                "panel account %s@%s locked after %d failures",
                account.extension,
                account.domain,
                MAX_FAILURES,
            )
    return None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, account: Account, now: datetime | None = None) -> str:
    """A new session of `account`; returns the token the browser keeps. Sessions that
    ended by themselves are cleared on the way."""
    now = now or datetime.now(UTC)
    session.execute(delete(PanelSession).where(PanelSession.expires_at <= now))
    _, user = service.find_line(session, account.domain, account.extension)
    token = secrets.token_urlsafe(32)
    session.add(
        PanelSession(
            token_sha256=_token_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    return token


def session_account(session: Session, token: str, now: datetime | None = None) -> Account | None:
    """The account of a live session, read again (an admin flag may have changed); None
    if the session was closed, ended, or its user is gone."""
    now = now or datetime.now(UTC)
    row = session.execute(
        select(Tenant.domain, User)
        .join(User, User.tenant_id == Tenant.id)
        .join(PanelSession, PanelSession.user_id == User.id)
        .where(PanelSession.token_sha256 == _token_hash(token), PanelSession.expires_at > now)
    ).first()
    return None if row is None else _account(row.domain, row.User)


def close_session(session: Session, token: str) -> None:
    session.execute(delete(PanelSession).where(PanelSession.token_sha256 == _token_hash(token)))


def find_by_number(session: Session, number: str, default_country: str) -> Account | None:
    """The account a log-in form's number names (as `log_in` reads it), locked or not."""
    found = _line_for(session, number, default_country)
    return None if found is None else _account(*found)


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
        raise InvalidValue(
            said(
                "unknown_account",
                "no user %(extension)s@%(domain)s",
                extension=extension,
                domain=domain,
            )
        )
    user = found[1]
    routed = session.scalars(select(PublicNumber.number).where(PublicNumber.user_id == user.id))
    own = line_numbers(user.extension, user.public_number, *routed)
    check_panel_password(password, own_numbers=own)
    user.panel_password = _HASHER.hash(password)
    # A new password (set by an administrator) also lifts a lockout, and ends every
    # session of the account: whoever knew the old one is out.
    user.panel_failures = 0
    user.panel_locked_until = None
    session.execute(delete(PanelSession).where(PanelSession.user_id == user.id))
