"""A line's page: its forwarding, do-not-disturb, call waiting and caller ID, for its
user and the tenant's admins (acting for them)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from admin.concepts import Concept, NavEntry
from admin.languages import phone_number
from admin.lines.forms import ForwardingForm
from admin.lines.forwarding import (
    FORWARDS,
    ForwardFields,
    ForwardingFields,
    call_handling_for,
    fields_of,
    kept_elsewhere,
)
from admin.problems import place_problems
from admin.shared import account_page, find_owner, may_see, sessions, tenant_schedules
from provisioning import line_settings
from provisioning.accounts import Account
from provisioning.document import DocumentInvalid

log = logging.getLogger(__name__)

blueprint = Blueprint("lines", __name__)
# The line's tabs (admin/templates/lines/_handling_tabs.html) keep "My line" current.
LINE_TABS = ("panel.ringing", "panel.selective", "panel.rules", "panel.planner", "panel.barring")
CONCEPT = Concept(
    blueprint,
    (NavEntry(_l("My line"), "panel.lines.page", own_line=True, also_current=LINE_TABS),),
)


def _save(account: Account, extension: str, form: ForwardingForm) -> list[str]:
    """Save the form as this user's settings alone (provisioning.line_settings), made
    from the version the page showed; the problems found, by field (on the form) or
    not (returned)."""
    fields = ForwardingFields(
        {
            key: ForwardFields(
                bool(form[key].data),
                form[f"{key}_to"].data or "",
                form[f"{key}_schedule"].data or "",
                bool(form[f"{key}_direct_only"].data),
                bool(form[f"{key}_confirm"].data),
            )
            for key in FORWARDS
        },
        form.no_answer_after.data or 0,
        bool(form.do_not_disturb.data),
        bool(form.withhold.data),
        bool(form.hide_incoming.data),
        form.outgoing_number.data or "",
    )

    try:
        shown = int(form.version.data or 0)
    except ValueError:
        shown = 0
    try:
        with sessions().begin() as db:
            stored = line_settings.call_handling_of(db, account.domain, extension)
            line_settings.set_call_handling(
                db,
                account.domain,
                extension,
                call_handling_for(stored.call_handling, fields),
                version=shown,
                call_waiting=bool(form.call_waiting.data),
            )
    except DocumentInvalid as invalid:
        return place_problems(form, invalid.problems, ForwardingForm.PROBLEM_FIELDS)
    except line_settings.StaleVersion as stale:
        # Saved again as typed, it will replace what was changed meanwhile: say so.
        form.version.data = str(stale.current)
        return [
            _(
                "These settings were changed meanwhile (by an administrator, a script or "
                "a code dialled from the phone). Check them below: saving again replaces "
                "them with what is shown."
            )
        ]
    log.info(
        "panel: %s@%s changed the line settings of %s", account.extension, account.domain, extension
    )
    return []


def _offer_schedules(form: ForwardingForm, names: list[str]) -> None:
    """Each forward's "when": at all times, or while one of the tenant's schedules is in
    force (a name no longer there is kept, so the save says what is wrong with it)."""
    for key in FORWARDS:
        field = form[f"{key}_schedule"]
        offered = [*names, *([field.data] if field.data and field.data not in names else [])]
        field.choices = [SelectChoice("", _("at all times"))] + [
            SelectChoice(name, _("while “%(schedule)s” is in force", schedule=name))
            for name in offered
        ]


def _show(
    form: ForwardingForm, current: ForwardingFields, call_waiting: bool, version: int
) -> None:
    """The stored settings in the form, numbers as the tenant writes them."""
    for key in FORWARDS:
        forward = current.forwards[key]
        form[key].data = forward.enabled
        form[f"{key}_to"].data = phone_number(forward.to)
        form[f"{key}_schedule"].data = forward.schedule
        form[f"{key}_direct_only"].data = forward.direct_only
        form[f"{key}_confirm"].data = forward.confirm
    form.no_answer_after.data = current.no_answer_after
    form.do_not_disturb.data = current.do_not_disturb
    form.withhold.data = current.withhold
    form.hide_incoming.data = current.hide_incoming
    form.outgoing_number.data = phone_number(current.outgoing_number)
    form.call_waiting.data = call_waiting
    form.version.data = str(version)


@blueprint.route("/lines/<extension>", methods=["GET", "POST"])
@account_page
def page(account: Account, extension: str) -> Any:
    may_see(account, extension)
    with sessions().begin() as db:
        owner = find_owner(db, account, extension)
        state = line_settings.call_handling_of(db, account.domain, extension)
        current = fields_of(state.call_handling)
        schedules = tenant_schedules(db, account.domain)
    form = ForwardingForm()
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            problems = _save(account, extension, form)
            if not problems and not form.errors:
                flash(_("Saved: calls follow the new settings from now on."))
                return redirect(url_for("panel.lines.page", extension=extension))
        status = 400
    else:
        _show(form, current, state.call_waiting, state.version)
    _offer_schedules(form, schedules)
    page = render_template(
        "lines/edit.html",
        account=account,
        owner=owner,
        form=form,
        forwards=FORWARDS,
        problems=problems,
        kept=kept_elsewhere(state.call_handling),
    )
    return page, status
