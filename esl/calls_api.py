"""`GET /api/v1/tenants/<domain>/calls`: the call log, as JSON pages or CSV.

Served by the main server beside the REST API, with the same tokens and errors (a
malformed filter: 400, `invalid_query`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, request

from provisioning.api import answer, require_token, transaction, visible
from provisioning.api_errors import answer_domain_errors
from provisioning.validation import whole_number

from . import calllog

blueprint = Blueprint("calls", __name__)
answer_domain_errors(blueprint, {calllog.InvalidQuery: (400, "invalid_query")})


@blueprint.before_request
def _authenticate() -> None:
    require_token()


def _whole_number(name: str, default: int) -> int:
    text = request.args.get(name, "")
    if not text:
        return default
    number = whole_number(text, -1, digits=9)
    if number < 0:
        abort(400, f"{name} must be a whole number")
    return number


@blueprint.get("/tenants/<domain>/calls")
def list_calls(domain: str) -> Any:
    args = request.args
    filters = {
        "user": args.get("user") or None,
        "month": args.get("month") or None,
        "kind": args.get("kind") or None,
        "search": args.get("q") or None,
    }
    output = args.get("format", "json")
    if output not in {"json", "csv"}:
        abort(400, "format must be json or csv")
    with transaction() as session:
        if output == "csv":
            text = calllog.calls_csv(session, visible(domain), **filters)
            # Checked by the query: the tenant exists, the user and month are valid.
            parts = ["calls", domain, filters["user"], filters["month"]]
            name = "-".join(p for p in parts if p)
            disposition = f'attachment; filename="{name}.csv"'
            return Response(text, mimetype="text/csv", headers={"Content-Disposition": disposition})
        page = calllog.query_calls(
            session,
            visible(domain),
            **filters,
            limit=_whole_number("limit", 100),
            offset=_whole_number("offset", 0),
        )
        return answer(page.as_response())
