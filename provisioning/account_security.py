"""What keeps a panel account safe beyond its password: the security e-mail address,
one-time password-reset links, the voicemail PIN a user changes themselves, and failed
log-ins counted per network address as well as per account.

The address is the user's own (seed 003, "Email de sécurité"): asked for at the first
log-in when Centrex can send mail, told of every password and voicemail PIN change,
and the only place a reset link is ever sent. A reset link holds a 256-bit random
token, of which only a hash is kept; it works once, for `RESET_LIFETIME`.

Per address: an address that failed `MAX_ADDRESS_TRIES` times within `ADDRESS_WINDOW`
is refused until the window ends, whichever accounts it tries; so guessing across many
accounts (each under its own lock limit) is stopped too. Each try is counted before
the password is checked, in one statement, and a successful log-in gives its try back:
colleagues behind one office router who type their passwords right cost nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from provisioning import service
from provisioning.models import PanelAddressTries, PasswordReset, PublicNumber, Tenant, User
from provisioning.numbering import line_numbers
from provisioning.validation import InvalidValue, check_email, check_voicemail_pin

RESET_LIFETIME = timedelta(hours=1)
MAX_ADDRESS_TRIES = 20
ADDRESS_WINDOW = timedelta(minutes=15)


class ResetLinkDead(Exception):
    """The link was used already, has expired, or never existed."""


class WrongPin(Exception):
    """The current voicemail PIN given is not the user's."""


@dataclass(frozen=True)
class Recipient:
    """Who a security mail goes to, and the account it speaks of."""

    email: str
    name: str
    # The account as the user knows it: their public number, else extension@domain.
    account: str
    domain: str
    extension: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _user(db: Session, domain: str, extension: str) -> User:
    try:
        return service.find_line(db, domain, extension)[1]
    except service.NotFound:
        raise InvalidValue(f"no user {extension}@{domain}") from None


def _recipient(domain: str, user: User, email: str) -> Recipient:
    account = user.public_number or f"{user.extension}@{domain}"
    return Recipient(email, user.display_name, account, domain, user.extension)


def recipient(db: Session, domain: str, extension: str) -> Recipient | None:
    """Where the user's security mail goes; None when they have not given an address."""
    user = _user(db, domain, extension)
    if not user.security_email:
        return None
    return _recipient(domain, user, user.security_email)


def set_security_email(db: Session, domain: str, extension: str, email: str) -> list[Recipient]:
    """Check and keep the user's security address; returns who must be told: the new
    address, and the old one when there was another (a hijacker changing it is seen)."""
    user = _user(db, domain, extension)
    address = check_email(email)
    old = user.security_email
    user.security_email = address
    told = [_recipient(domain, user, address)]
    if old and old.lower() != address.lower():
        told.append(_recipient(domain, user, old))
    return told


def set_voicemail_pin(db: Session, domain: str, extension: str, current: str, new: str) -> None:
    """The user's own PIN change: the current PIN must be given (compared in constant
        time, WrongPin otherwise), the new one passes the document's PIN rules (InvalidValue
    says which fails); one user written."""
    user = _user(db, domain, extension)
    stored = user.voicemail_pin or ""
    if not stored or not hmac.compare_digest(stored.encode(), current.encode()):
        raise WrongPin()
    routed = db.scalars(select(PublicNumber.number).where(PublicNumber.user_id == user.id))
    own = line_numbers(user.extension, user.public_number, *routed)
    user.voicemail_pin = check_voicemail_pin(new, own_numbers=own)
    user.version = user.version + 1


def start_password_reset(
    db: Session, domain: str, extension: str, now: datetime | None = None
) -> tuple[Recipient, str] | None:
    """A new reset link's token for the user, and where to send it; None if the user
    has no security address (nobody else may receive a link). Earlier links of the
    user stop working: only the newest mail counts."""
    now = now or datetime.now(UTC)
    user = _user(db, domain, extension)
    if not user.security_email:
        return None
    db.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id))
    token = secrets.token_urlsafe(32)
    db.add(
        PasswordReset(
            token_sha256=_token_hash(token), user_id=user.id, expires_at=now + RESET_LIFETIME
        )
    )
    return _recipient(domain, user, user.security_email), token


def reset_link_owner(db: Session, token: str, now: datetime | None = None) -> Recipient:
    """Whose live link this is (ResetLinkDead otherwise); nothing is used up."""
    now = now or datetime.now(UTC)
    row = db.execute(
        select(Tenant.domain, User)
        .join(User, User.tenant_id == Tenant.id)
        .join(PasswordReset, PasswordReset.user_id == User.id)
        .where(PasswordReset.token_sha256 == _token_hash(token), PasswordReset.expires_at > now)
    ).first()
    if row is None or not row.User.security_email:
        raise ResetLinkDead()
    return _recipient(row.domain, row.User, row.User.security_email)


def use_reset_link(db: Session, token: str, now: datetime | None = None) -> Recipient:
    """Use up a live link (every link of its user, in fact) and return whose it is;
    the caller sets the new password in the same transaction, so that a password the
    rules refuse rolls the use back and the link stays usable. Of two requests racing
    with one link, one only finds it."""
    owner = reset_link_owner(db, token, now)
    user = _user(db, owner.domain, owner.extension)
    used = db.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id))
    if not used.rowcount:  # type: ignore[attr-defined]
        raise ResetLinkDead()
    return owner


def take_address_try(db: Session, address: str, now: datetime | None = None) -> bool:
    """Count a try from `address` (one statement, so concurrent tries each count);
    False when the address has used up its tries for this window."""
    now = now or datetime.now(UTC)
    address = address[:64]
    expired = PanelAddressTries.window_start <= now - ADDRESS_WINDOW
    counted = db.execute(
        update(PanelAddressTries)
        .where(PanelAddressTries.address == address)
        .values(
            tries=case((expired, 1), else_=PanelAddressTries.tries + 1),
            window_start=case((expired, now), else_=PanelAddressTries.window_start),
        )
        .returning(PanelAddressTries.tries)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if counted is None:
        try:
            with db.begin_nested():
                db.execute(
                    insert(PanelAddressTries).values(address=address, window_start=now, tries=1)
                )
            counted = 1
        except IntegrityError:
            # Another try from the same address made the row meanwhile: count on it.
            return take_address_try(db, address, now)
    return counted <= MAX_ADDRESS_TRIES


def give_address_try_back(db: Session, address: str) -> None:
    """A try that succeeded does not count against its address."""
    db.execute(
        update(PanelAddressTries)
        .where(PanelAddressTries.address == address[:64], PanelAddressTries.tries > 0)
        .values(tries=PanelAddressTries.tries - 1)
        .execution_options(synchronize_session=False)
    )
