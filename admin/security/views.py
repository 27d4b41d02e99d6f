"""Account security: the security e-mail address (asked for at the first log-in when
Centrex sends mail), the voicemail PIN, and the forgotten password by a one-time
link; every change is told to the security address (seed 003 §2.11)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin.concepts import Concept, NavEntry
from admin.messages import word
from admin.security import mails
from admin.security.forms import (
    ForgotPasswordForm,
    ResetPasswordForm,
    SecurityEmailForm,
    VoicemailPinForm,
)
from admin.shared import LOGIN, account_page, log, sessions, settings
from centrex import mail
from provisioning import account_security, accounts
from provisioning.account_security import ResetLinkDead, WrongPin
from provisioning.accounts import Account
from provisioning.validation import InvalidValue

blueprint = Blueprint("security", __name__)
CONCEPT = Concept(blueprint, (NavEntry(_l("Security"), "panel.security.page"),))


def _page(account: Account, status: int = 200, **forms: Any) -> Any:
    context = {
        "email_form": SecurityEmailForm(formdata=None, email=account.security_email or ""),
        "pin_form": VoicemailPinForm(formdata=None),
        **forms,
    }
    return render_template("security/page.html", account=account, **context), status


@blueprint.get("/security")
@account_page
def page(account: Account) -> Any:
    return _page(account)


def _save_email(account: Account, form: SecurityEmailForm) -> bool:
    """Keep the address the form holds and tell the old and new ones; False (with the
    error beside the field) when it is no address."""
    try:
        with sessions().begin() as db:
            told = account_security.set_security_email(
                db, account.domain, account.extension, form.email.data or ""
            )
    except InvalidValue as exc:
        form.email.errors = [_("The address %(problem)s.", problem=word(exc))]
        return False
    log.info("panel: %s@%s set their security e-mail", account.extension, account.domain)
    for recipient in told:
        mails.security_email_changed(settings(), recipient, told[0].email)
    return True


@blueprint.post("/security/email")
@account_page
def email(account: Account) -> Any:
    form = SecurityEmailForm()
    if form.validate_on_submit() and _save_email(account, form):
        flash(_("Your security e-mail address has been saved; a confirmation was sent to it."))
        return redirect(url_for("panel.security.page"))
    return _page(account, 400, email_form=form)


@blueprint.route("/security/first-email", methods=["GET", "POST"], endpoint="first_email")
@account_page
def first_email(account: Account) -> Any:
    """The first log-in's step: no page of the panel opens before the address is given."""
    if account.security_email:
        return redirect(url_for("panel.home"))
    form = SecurityEmailForm()
    if form.validate_on_submit() and _save_email(account, form):
        flash(_("A confirmation has been sent to your security e-mail address."))
        return redirect(url_for("panel.home"))
    status = 400 if request.method == "POST" else 200
    return render_template("security/first_email.html", account=account, form=form), status


@blueprint.post("/security/voicemail-pin")
@account_page
def voicemail_pin(account: Account) -> Any:
    form = VoicemailPinForm()
    if form.validate_on_submit():
        try:
            with sessions().begin() as db:
                current, new = form.current.data or "", form.new.data or ""
                account_security.set_voicemail_pin(
                    db, account.domain, account.extension, current, new
                )
                told = account_security.recipient(db, account.domain, account.extension)
        except WrongPin:
            form.current.errors = [_("Wrong PIN.")]
        except InvalidValue as exc:
            form.new.errors = [_("The new PIN %(problem)s.", problem=word(exc))]
        else:
            log.info("panel: %s@%s changed their voicemail PIN", account.extension, account.domain)
            if told is not None:
                mails.voicemail_pin_changed(settings(), told)
            flash(_("Your voicemail PIN has been changed."))
            return redirect(url_for("panel.security.page"))
    return _page(account, 400, pin_form=form)


def _resets_by_mail() -> bool:
    """Reset links go out only with the panel's address configured: one built from the
    request's Host header would let anyone have a real user mailed a link to their own
    site, and the token with it."""
    return mail.can_send(settings()) and bool(settings().panel_url)


def _link(token: str) -> str:
    return settings().panel_url + url_for("panel.security.reset", token=token)


@blueprint.route("/forgot", methods=["GET", "POST"])
def forgot() -> Any:
    """Ask for a reset link. The answer is the same whether the number is known or not
    (nobody learns which numbers have accounts), and every request counts against the
    address it comes from, so that nobody floods a user with mail."""
    if not _resets_by_mail():
        return render_template("security/forgot.html", form=None), 200
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        with sessions().begin() as db:
            allowed = account_security.take_address_try(db, request.remote_addr or "")
            found = accounts.find_by_number(db, form.number.data or "", settings().default_country)
            link = (
                account_security.start_password_reset(db, found.domain, found.extension)
                if allowed and found is not None
                else None
            )
        if not allowed:
            form.number.errors = [_("Too many attempts from your address; try again later.")]
            return render_template("security/forgot.html", form=form), 429
        if link is not None:
            recipient, token = link
            hours = int(account_security.RESET_LIFETIME.total_seconds() // 3600)
            mails.reset_link(settings(), recipient, _link(token), hours)
            log.info("panel: reset link sent for %s@%s", recipient.extension, recipient.domain)
        flash(
            _(
                "If this number has an account with a security e-mail address, a link to "
                "choose a new password has been sent to it."
            )
        )
        return redirect(url_for(LOGIN))
    status = 400 if request.method == "POST" else 200
    return render_template("security/forgot.html", form=form), status


@blueprint.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> Any:
    if len(token) > 100:
        abort(404)
    try:
        with sessions().begin() as db:
            owner = account_security.reset_link_owner(db, token)
    except ResetLinkDead:
        return render_template("security/reset.html", form=None), 410
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            with sessions().begin() as db:
                owner = account_security.use_reset_link(db, token)
                accounts.set_password(db, owner.domain, owner.extension, form.new.data or "")
        except ResetLinkDead:
            return render_template("security/reset.html", form=None), 410
        except InvalidValue as exc:
            form.new.errors = [_("The new password %(problem)s.", problem=word(exc))]
        else:
            log.info("panel: %s@%s chose a new password by link", owner.extension, owner.domain)
            mails.password_changed(settings(), owner)
            flash(_("Your password has been changed; log in with it."))
            return redirect(url_for(LOGIN))
    status = 400 if request.method == "POST" else 200
    return render_template("security/reset.html", form=form, owner=owner), status
