"""Log in, log out, change one's password, choose the panel's language."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from admin.concepts import Concept
from admin.languages import remember_language
from admin.messages import word
from admin.security import mails
from admin.session.forms import LanguageForm, LoginForm, LogoutForm, PasswordForm
from admin.shared import LOGIN, account_page, log, sessions, settings, start_session
from provisioning import account_security, accounts
from provisioning.accounts import Account
from provisioning.validation import InvalidValue

blueprint = Blueprint("session", __name__)
CONCEPT = Concept(blueprint)


def header_forms() -> dict[str, Any]:
    """The forms every page's header holds: log-out, and the language switch coming
    back to this page."""
    here = request.full_path if request.query_string else request.path
    return {
        "logout": LogoutForm(formdata=None),
        "switch": LanguageForm(formdata=None, next=here),
    }


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        try:
            account = accounts.log_in(
                sessions(),
                form.number.data or "",
                form.password.data or "",
                settings().default_country,
                address=request.remote_addr or "",
            )
        except accounts.TooManyTries:
            log.warning("panel log-in refused: too many tries from %s", request.remote_addr)
            form.password.errors = [_("Too many attempts from your address; try again later.")]
            return render_template("session/login.html", form=form), 429
        if account is None:
            log.info("panel log-in refused for %r from %s", form.number.data, request.remote_addr)
            form.password.errors = [_("Unknown number or wrong password.")]
        else:
            start_session(account)
            log.info("panel log-in of %s@%s", account.extension, account.domain)
            return redirect(url_for("panel.home"))
    page = render_template("session/login.html", form=form)
    return page, 200 if request.method == "GET" else 400


@blueprint.post("/logout")
def logout() -> Any:
    if LogoutForm().validate_on_submit():
        token = session.get("sid")
        if isinstance(token, str):
            with sessions().begin() as db:
                accounts.close_session(db, token)
        session.clear()
    return redirect(url_for(LOGIN))


@blueprint.post("/language")
def language() -> Any:
    """The language the user chose, kept in a cookie of its own (it outlives log-outs);
    back to the page the switch was on."""
    form = LanguageForm()
    home = url_for("panel.home")
    if not form.validate_on_submit():
        return redirect(home)
    back = form.next.data or ""
    answer = redirect(back if back.startswith(home) else home)
    remember_language(answer, form.language.data or "", settings().secure_cookies)
    return answer


@blueprint.route("/password", methods=["GET", "POST"])
@account_page
def password(account: Account) -> Any:
    form = PasswordForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            right = accounts.log_in(
                sessions(),
                f"{account.extension}@{account.domain}",
                form.current.data or "",
                settings().default_country,
            )
            if right is None:
                form.current.errors = [_("Wrong password.")]
            else:
                try:
                    with sessions().begin() as db:
                        accounts.set_password(
                            db, account.domain, account.extension, form.new.data or ""
                        )
                except InvalidValue as exc:
                    form.new.errors = [_("The new password %(problem)s.", problem=word(exc))]
                else:
                    # Every session of the account ended with the change; this one
                    # goes on as a new one.
                    start_session(account)
            if not form.errors:
                log.info("panel: %s@%s changed their password", account.extension, account.domain)
                with sessions().begin() as db:
                    told = account_security.recipient(db, account.domain, account.extension)
                if told is not None:
                    mails.password_changed(settings(), told)
                flash(_("Your password has been changed."))
                return redirect(url_for("panel.home"))
    page = render_template("session/password.html", account=account, form=form)
    return page, status
