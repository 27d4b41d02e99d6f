"""Test a call (tenant admins): what a call would do, and why, before it happens — the
routing's own answer (`provisioning.explain`), fetch by fetch, with the rules weighed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l

from admin.concepts import Audience, Concept, NavEntry
from admin.explain.forms import ExplainForm
from admin.explain.words import OUTCOMES, STAGES, say
from admin.messages import word
from admin.shared import account_page, admins_only, sessions, settings
from provisioning import explain
from provisioning.accounts import Account
from provisioning.validation import InvalidValue

blueprint = Blueprint("explain", __name__)
CONCEPT = Concept(blueprint, (NavEntry(_l("Test a call"), "panel.explain.page", Audience.ADMINS),))


@blueprint.route("/explain")
@account_page
def page(account: Account) -> Any:
    admins_only(account)
    form = ExplainForm(request.args)
    found = None
    problem = None
    status = 200
    if request.args and form.validate():
        try:
            with sessions().begin() as db:
                found, _timezone = explain.explain_call(
                    db.connection(),
                    account.domain,
                    form.caller.data or "",
                    form.to.data or "",
                    at=form.at.data or None,
                    assume=form.assume.data or None,
                    default_country=settings().default_country,
                    media_dir=str(settings().effective_media_dir),
                    now=datetime.now(UTC),
                )
        except InvalidValue as refused:
            problem = word(refused)
            status = 400
    elif request.args:
        status = 400
    body = render_template(
        "explain/page.html",
        account=account,
        form=form,
        found=found,
        problem=problem,
        stages=STAGES,
        outcomes=OUTCOMES,
        say=say,
    )
    return body, status
