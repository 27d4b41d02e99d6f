"""A line's call barring: what its user may not call, forwards and transfers included.
The tenant's admins change it; the user sees it (and cannot unbar anything)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from admin.barring.forms import CATEGORIES, BarringForm
from admin.concepts import Concept
from admin.languages import phone_number
from admin.shared import account_page, find_owner, may_see, sessions
from provisioning import line_settings
from provisioning.accounts import Account
from provisioning.document import DocumentInvalid

log = logging.getLogger(__name__)

blueprint = Blueprint("barring", __name__)
# Reached from the line's page, not the nav.
CONCEPT = Concept(blueprint)


def _save(account: Account, extension: str, form: BarringForm) -> list[str]:
    barred = [str(category) for category, _label in CATEGORIES if form[str(category)].data]
    try:
        shown = int(form.version.data or 0)
    except ValueError:
        shown = 0
    try:
        with sessions().begin() as db:
            line_settings.set_call_barring(db, account.domain, extension, barred, version=shown)
    except DocumentInvalid as invalid:
        return [str(problem) for problem in invalid.problems]
    except line_settings.StaleVersion as stale:
        form.version.data = str(stale.current)
        return [
            _(
                "These settings were changed meanwhile (by an administrator, a script or "
                "a code dialled from the phone). Check them below: saving again replaces "
                "them with what is shown."
            )
        ]
    log.info(
        "panel: %s@%s changed the call barring of %s", account.extension, account.domain, extension
    )
    return []


@blueprint.route("/lines/<extension>/barring", methods=["GET", "POST"])
@account_page
def page(account: Account, extension: str) -> Any:
    may_see(account, extension)
    with sessions().begin() as db:
        owner = find_owner(db, account, extension)
        state = line_settings.call_barring_of(db, account.domain, extension)
        presentation = line_settings.outgoing_presentation_of(db, account.domain, extension)
    form = BarringForm()
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        if not account.admin:
            abort(403)
        if form.validate_on_submit():
            problems = _save(account, extension, form)
            if not problems:
                flash(_("Saved: calls follow the new settings from now on."))
                return redirect(url_for("panel.barring.page", extension=extension))
        status = 400
    else:
        for category, _label in CATEGORIES:
            form[str(category)].data = category in state.barred
        form.version.data = str(state.version)
    page = render_template(
        "barring/edit.html",
        account=account,
        owner=owner,
        form=form,
        categories=[str(category) for category, _label in CATEGORIES],
        editable=account.admin,
        presented=phone_number(presentation.number) if presentation.number else None,
        by_policy=presentation.by_policy,
        problems=problems,
    )
    return page, status
