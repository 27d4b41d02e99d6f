"""Call park (tenant admins only): show and change the tenant's `park` block."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin.concepts import Audience, Concept, NavEntry
from admin.park.forms import ParkForm
from admin.problems import place_problems
from admin.shared import account_page, admins_only, form_problems, sessions
from provisioning import tenant_settings
from provisioning.accounts import Account
from provisioning.errors import DocumentInvalid
from provisioning.park import ParkDoc

log = logging.getLogger(__name__)
blueprint = Blueprint("park", __name__)
CONCEPT = Concept(blueprint, (NavEntry(_l("Call park"), "panel.park.page", Audience.ADMINS),))


def _change(form: ParkForm, domain: str, park: dict[str, Any] | None) -> list[str]:
    """Save the tenant's park block alone (provisioning.tenant_settings: slots checked
    against the tenant's numbers as the document checks them); the problems beside
    their fields, the others returned; nothing is written if one is found."""
    try:
        with sessions().begin() as db:
            tenant_settings.set_park(db, domain, park)
    except DocumentInvalid as invalid:
        return place_problems(form, invalid.problems, ParkForm.PROBLEM_FIELDS)
    return []


@blueprint.route("/park", methods=["GET", "POST"])
@account_page
def page(account: Account) -> Any:
    admins_only(account)
    form = ParkForm()
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            park = None
            if form.enabled.data:
                park = {
                    "first_slot": form.first_slot.data.strip(),
                    "last_slot": form.last_slot.data.strip(),
                    "timeout": form.timeout.data,
                }
            problems = _change(form, account.domain, park)
            if not problems and not form.errors:
                log.info("panel: %s@%s changed call park", account.extension, account.domain)
                flash(_("Call park saved."))
                return redirect(url_for("panel.park.page"))
        else:
            problems = form_problems(form)
    else:
        with sessions().begin() as db:
            current = tenant_settings.park_of(db, account.domain)
        form.enabled.data = current is not None
        shown = current or ParkDoc()
        form.first_slot.data, form.last_slot.data = shown.first_slot, shown.last_slot
        form.timeout.data = shown.timeout
    return render_template("park/edit.html", account=account, form=form, problems=problems), status
