"""A line's page: its forwarding, do-not-disturb, call waiting and caller ID, for its
user and the tenant's admins (acting for them)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin.concepts import Concept, NavEntry
from admin.languages import phone_number
from admin.lines.forms import ForwardingForm
from admin.lines.forwarding import (
    FORWARDS,
    ForwardFields,
    ForwardingFields,
    call_handling_for,
    fields_of,
)
from admin.problems import place_problems
from admin.shared import account_page, change_user, find_owner, may_see, sessions
from provisioning import service
from provisioning.accounts import Account

blueprint = Blueprint("lines", __name__)
CONCEPT = Concept(blueprint, (NavEntry(_l("My line"), "panel.lines.page", own_line=True),))


def _save(account: Account, extension: str, form: ForwardingForm) -> list[str]:
    """Apply the form to the user's call handling through the tenant document; the
    problems found, by field (on the form) or not (returned)."""
    fields = ForwardingFields(
        {
            key: ForwardFields(bool(form[key].data), form[f"{key}_to"].data or "")
            for key in FORWARDS
        },
        form.no_answer_after.data or 0,
        bool(form.do_not_disturb.data),
        bool(form.withhold.data),
        bool(form.hide_incoming.data),
        form.outgoing_number.data or "",
    )

    def change(user: dict[str, Any]) -> None:
        user["call_handling"] = call_handling_for(user.get("call_handling", {}), fields)
        user["call_waiting"] = bool(form.call_waiting.data)

    found = change_user(account, extension, change, "the line settings")
    return place_problems(form, found, ForwardingForm.PROBLEM_FIELDS)


def _show(form: ForwardingForm, current: ForwardingFields, call_waiting: bool) -> None:
    """The stored settings in the form, numbers as the tenant writes them."""
    for key in FORWARDS:
        form[key].data = current.forwards[key].enabled
        form[f"{key}_to"].data = phone_number(current.forwards[key].to)
    form.no_answer_after.data = current.no_answer_after
    form.do_not_disturb.data = current.do_not_disturb
    form.withhold.data = current.withhold
    form.hide_incoming.data = current.hide_incoming
    form.outgoing_number.data = phone_number(current.outgoing_number)
    form.call_waiting.data = call_waiting


@blueprint.route("/lines/<extension>", methods=["GET", "POST"])
@account_page
def page(account: Account, extension: str) -> Any:
    may_see(account, extension)
    with sessions().begin() as db:
        owner = find_owner(db, account, extension)
        doc = service.export_user(db, account.domain, extension)
        current = fields_of(doc.call_handling.model_dump(mode="json", exclude_defaults=True))
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
        _show(form, current, doc.call_waiting)
    page = render_template(
        "lines/edit.html",
        account=account,
        owner=owner,
        form=form,
        forwards=FORWARDS,
        problems=problems,
    )
    return page, status
