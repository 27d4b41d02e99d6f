"""A line's reminders and wake-up calls (MISSION C7): listed with their next time,
added, edited, switched off and deleted, one reminder per save, with the checks of
the REST API (provisioning.reminders)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectChoice

from admin.concepts import Concept, NavEntry
from admin.problems import place_problems
from admin.reminders.forms import KINDS, DeleteReminderForm, ReminderForm
from admin.shared import account_page, find_owner, form_problems, log, may_see, sessions
from provisioning import reminders
from provisioning.accounts import Account
from provisioning.document import DocumentInvalid
from provisioning.lookup import NotFound
from provisioning.media import ANNOUNCEMENT
from provisioning.models import Media, Reminder, Tenant
from provisioning.validation import whole_number

blueprint = Blueprint("reminders", __name__)
CONCEPT = Concept(blueprint, (NavEntry(_l("My reminders"), "panel.reminders.page", own_line=True),))


def _announcements(domain: str) -> list[SelectChoice]:
    with sessions().begin() as db:
        names = db.scalars(
            select(Media.name)
            .join(Tenant, Tenant.id == Media.tenant_id)
            .where(Tenant.domain == domain, Media.kind == ANNOUNCEMENT)
            .order_by(Media.name)
        ).all()
    return [SelectChoice("", _("The standard wake-up message"))] + [
        SelectChoice(n, n) for n in names
    ]


def _form(domain: str, reminder: Reminder | None = None, formdata: bool = True) -> ReminderForm:
    if reminder is None:
        form = ReminderForm() if formdata else ReminderForm(formdata=None)
    else:
        form = ReminderForm(
            formdata=request.form if formdata and request.method == "POST" else None,
            label=reminder.label,
            kind=reminder.kind,
            date=reminder.on_date,
            time=reminder.at_time,
            message=reminder.message or "",
            enabled=reminder.enabled,
        )
    form.message.choices = _announcements(domain)
    return form


def _save(form: ReminderForm, write: Any) -> list[str]:
    """Write the form's reminder with `write(db, document, now)`; the problems the
    checks found, beside their fields or returned."""
    try:
        with sessions().begin() as db:
            write(db, form.as_document(), datetime.now(UTC))
    except DocumentInvalid as invalid:
        return place_problems(form, invalid.problems, ReminderForm.PROBLEM_FIELDS)
    return []


@blueprint.route("/lines/<extension>/reminders", methods=["GET", "POST"])
@account_page
def page(account: Account, extension: str) -> Any:
    may_see(account, extension)
    add = _form(account.domain, formdata=request.method == "POST")
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        change = request.form.get("change")
        if change == "delete":
            delete = DeleteReminderForm()
            reminder = whole_number(delete.id.data or "", -1)
            if delete.validate_on_submit() and reminder >= 0:
                try:
                    with sessions().begin() as db:
                        reminders.delete_reminder(db, account.domain, extension, reminder)
                except NotFound:
                    abort(404)
                flash(_("Reminder deleted."))
                return redirect(url_for("panel.reminders.page", extension=extension))
            problems = form_problems(delete)
        elif add.validate_on_submit():

            def create(db: Any, document: dict[str, Any], now: datetime) -> None:
                reminders.create_reminder(db, account.domain, extension, document, now)

            problems = _save(add, create)
            if not problems and not add.errors:
                log.info(
                    "panel: %s@%s added a reminder to %s",
                    account.extension,
                    account.domain,
                    extension,
                )
                flash(_("Reminder added."))
                return redirect(url_for("panel.reminders.page", extension=extension))
    with sessions().begin() as db:
        owner = find_owner(db, account, extension)
        listed = reminders.list_reminders(db, account.domain, extension)
        shown = [reminders.as_response(r) for r in listed]
    return render_template(
        "reminders/list.html",
        account=account,
        owner=owner,
        reminders=shown,
        kinds=KINDS,
        add=add,
        delete=DeleteReminderForm(formdata=None),
        problems=problems,
    ), status


@blueprint.route("/lines/<extension>/reminders/<int:reminder_id>", methods=["GET", "POST"])
@account_page
def edit(account: Account, extension: str, reminder_id: int) -> Any:
    may_see(account, extension)
    try:
        with sessions().begin() as db:
            owner = find_owner(db, account, extension)
            current = reminders.get_reminder(db, account.domain, extension, reminder_id)
            form = _form(account.domain, current)
    except NotFound:
        abort(404)
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():

            def replace(db: Any, document: dict[str, Any], now: datetime) -> None:
                reminders.replace_reminder(
                    db, account.domain, extension, reminder_id, document, now
                )

            problems = _save(form, replace)
            if not problems and not form.errors:
                flash(_("Reminder saved."))
                return redirect(url_for("panel.reminders.page", extension=extension))
        else:
            problems = form_problems(form) if not form.errors else []
    return render_template(
        "reminders/edit.html",
        account=account,
        owner=owner,
        form=form,
        form_id=reminder_id,
        problems=problems,
    ), status
