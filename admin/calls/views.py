"""A line's call log, a month at a time in the tenant's time, and as CSV; and calls
placed from the panel (click-to-call: the user's phone rings first)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin.calls.forms import KINDS, CallFiltersForm, CallForm
from admin.concepts import Concept, NavEntry
from admin.messages import word
from admin.shared import (
    account_page,
    csv_file,
    find_owner,
    form_problems,
    log,
    may_see,
    sessions,
    settings,
)
from esl.calllog import InvalidQuery, calls_csv, query_calls
from esl.clicktocall import CallNotPlaced, DestinationRefused, place_call
from esl.oneshot import OneShotSwitch, node_for_user
from provisioning import service
from provisioning.accounts import Account

blueprint = Blueprint("calls", __name__)
CONCEPT = Concept(blueprint, (NavEntry(_l("My calls"), "panel.calls.page", own_line=True),))

PER_PAGE = 50


def _filters_form() -> CallFiltersForm:
    return CallFiltersForm(formdata=request.args)


@blueprint.get("/lines/<extension>/calls")
@account_page
def page(account: Account, extension: str) -> Any:
    may_see(account, extension)
    form = _filters_form()
    filters = form.filters()
    try:
        page_number = max(int(request.args.get("page", "1")), 1)
    except ValueError:
        page_number = 1
    problem, found, status = None, None, 200
    with sessions().begin() as db:
        owner = find_owner(db, account, extension)
        try:
            found = query_calls(
                db,
                account.domain,
                user=extension,
                limit=PER_PAGE,
                offset=(page_number - 1) * PER_PAGE,
                **filters,
            )
        except InvalidQuery as exc:
            problem, status = word(exc), 400
    body = render_template(
        "calls/list.html",
        account=account,
        owner=owner,
        page=found,
        page_number=page_number,
        filters={k: v for k, v in filters.items() if v is not None},
        form=form,
        kinds=KINDS,
        problem=problem,
        calling=can_call(account, extension),
        call_form=CallForm(formdata=None),
    )
    return body, status


def can_call(account: Account, extension: str) -> bool:
    """Whether the page may offer to call: on one's own line, when the panel can reach
    FreeSWITCH's event socket (CENTREX_ESL_PASSWORD)."""
    return extension == account.extension and bool(settings().esl_password)


@blueprint.post("/lines/<extension>/call")
@account_page
def call(account: Account, extension: str) -> Any:
    """Ring the user's own phone, then call the destination as if they had dialled it
    (their barring and caller ID apply; esl.clicktocall)."""
    if not can_call(account, extension):
        abort(403)
    form = CallForm()
    back = form.back.data or ""
    if not back.startswith(url_for("panel.home")):
        back = url_for("panel.calls.page", extension=extension)
    if not form.validate_on_submit():
        for problem in form_problems(form):
            flash(problem, "error")
        return redirect(back)
    number = form.destination.data or ""
    configured = settings()
    try:
        with sessions().begin() as db:
            user = service.find_line(db, account.domain, extension)[1]
            node = node_for_user(db, user.id, configured.esl_nodes)
            switch = None if node is None else OneShotSwitch(node, configured.esl_password)
            place_call(db, switch, account.domain, extension, number)
    except DestinationRefused as exc:
        flash(word(exc), "error")
    except CallNotPlaced as exc:
        log.warning("panel click-to-call of %s@%s failed: %s", extension, account.domain, exc)
        flash(_("The call could not be placed; try again in a moment."), "error")
    else:
        flash(_("Your phone is ringing: answer it to call %(number)s.", number=number))
    return redirect(back)


@blueprint.get("/lines/<extension>/calls.csv")
@account_page
def csv(account: Account, extension: str) -> Any:
    may_see(account, extension)
    with sessions().begin() as db:
        find_owner(db, account, extension)
        try:
            text = calls_csv(db, account.domain, user=extension, **_filters_form().filters())
        except InvalidQuery as exc:
            return Response(word(exc), status=400, mimetype="text/plain")
    return csv_file(text, f"calls-{extension}.csv")
