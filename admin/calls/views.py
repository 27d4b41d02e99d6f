"""A line's call log, a month at a time in the tenant's time, and as CSV."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import lazy_gettext as _l

from admin.calls.forms import KINDS, CallFiltersForm
from admin.concepts import Concept, NavEntry
from admin.messages import word
from admin.shared import account_page, csv_file, find_owner, may_see, sessions
from esl.calllog import InvalidQuery, calls_csv, query_calls
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
    )
    return body, status


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
