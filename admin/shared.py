"""What every concept of the panel uses: the panel's blueprint (security headers, off
without a secret key), who is logged in and their session, the `account_page` decorator,
access to a line, CSV downloads."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from admin.languages import TenantPlace, use_catalogues
from centrex import mail
from centrex.config import Settings
from provisioning import accounts
from provisioning.accounts import Account
from provisioning.document import DEFAULT_SCHEDULE
from provisioning.models import Tenant

log = logging.getLogger(__name__)

LOGIN = "panel.session.login"

SECURITY_HEADERS = {
    # Pages of this origin only: no framing, no inline or outside scripts.
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def panel_blueprint() -> Blueprint:
    """The panel's blueprint, which the concepts' blueprints are nested in: the base
    template and the stylesheet, and what every page of the panel gets."""
    panel = Blueprint("panel", __name__, template_folder="templates", static_folder="static")

    @panel.before_request
    def _panel_on() -> Response | None:
        if not current_app.secret_key:
            return Response(
                "The panel is off: set CENTREX_SECRET_KEY.", status=503, mimetype="text/plain"
            )
        use_catalogues()
        return None

    @panel.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        return response

    return panel


def sessions() -> sessionmaker[Session]:
    found: sessionmaker[Session] = current_app.extensions["centrex"].sessions
    return found


def settings() -> Settings:
    found: Settings = current_app.extensions["centrex"].settings
    return found


def current_account() -> Account | None:
    """Who this page is for (set by `account_page`); None on the log-in page."""
    account: Account | None = g.get("panel_account")
    return account


def _tenant_place(db: Session, domain: str) -> TenantPlace:
    row = db.execute(
        select(Tenant.country, Tenant.timezone, Tenant.name).where(Tenant.domain == domain)
    ).one()
    return TenantPlace(row.country, row.timezone, row.name)


def _logged_in() -> tuple[Account, TenantPlace] | None:
    """The account of this browser's session, read again: the session may have been
    closed (log-out, a password change), the user gone or their admin flag changed."""
    token = session.get("sid")
    if not isinstance(token, str):
        return None
    with sessions().begin() as db:
        account = accounts.session_account(db, token)
        return None if account is None else (account, _tenant_place(db, account.domain))


def tenant_schedules(db: Session, domain: str) -> list[str]:
    """The names of the tenant's schedules, in the document's order, and the default
    office hours unless it defines its own (what settings bound to a schedule offer)."""
    schedules = db.scalar(select(Tenant.schedules).where(Tenant.domain == domain)) or []
    names = [s["name"] for s in schedules]
    if DEFAULT_SCHEDULE.casefold() not in {n.casefold() for n in names}:
        names.append(DEFAULT_SCHEDULE)
    return names


def start_session(account: Account) -> None:
    with sessions().begin() as db:
        token = accounts.open_session(db, account)
    session.clear()
    session.permanent = True
    session["sid"] = token


# The first log-in's step, the one page open to a user without a security address.
FIRST_EMAIL = "panel.security.first_email"


def account_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """A page for logged-in users only, called with their account; the others are sent
    to the log-in page. When Centrex sends mail, a user who has not given a security
    e-mail address is sent to give one first (seed 003: a mandatory step)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        found = _logged_in()
        if found is None:
            session.clear()
            return redirect(url_for(LOGIN))
        account = found[0]
        asked = not account.security_email and request.endpoint != FIRST_EMAIL
        if asked and mail.can_send(settings()):
            return redirect(url_for(FIRST_EMAIL))
        g.panel_account, g.panel_tenant = found
        return view(account, *args, **kwargs)

    return wrapper


def admins_only(account: Account) -> None:
    if not account.admin:
        abort(403)


def may_see(account: Account, extension: str) -> None:
    """One's own line; any line of one's tenant for its admins (the domain is always the
    session's: never another tenant's)."""
    if extension != account.extension and not account.admin:
        abort(403)


def find_owner(db: Session, account: Account, extension: str) -> Account:
    """The line's user, in the session's tenant; 404 if there is none."""
    owner = accounts.find_account(db, account.domain, extension)
    if owner is None:
        abort(404)
    return owner


def csv_file(text: str, name: str) -> Response:
    return Response(
        text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def form_problems(*forms: FlaskForm) -> list[str]:
    """The forms' own errors, each after its field's label; when none is left but the
    CSRF token's, that the form did not arrive whole."""
    found = [
        f"{form[name].label.text}: {', '.join(errors)}"
        for form in forms
        for name, errors in form.errors.items()
        if name != "csrf_token"
    ]
    return found or [_("The form was not sent whole; please try again.")]
