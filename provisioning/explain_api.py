"""`POST /api/v1/tenants/<domain>/explain`: what a call would do, and why.

Served beside the REST API, with its tokens (a tenant's token explains its own calls
only) and errors; `provisioning.explain` does the work, nothing is dialled or written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app
from pydantic import ValidationError

from provisioning import api_models, explain
from provisioning.api import answer, json_body, require_token, transaction, visible
from provisioning.api_errors import answer_domain_errors
from provisioning.document import DocumentInvalid, Problem
from provisioning.errors import structure_problem

blueprint = Blueprint("explain", __name__)
answer_domain_errors(blueprint, {explain.ExplainRefused: (422, "invalid_call")})


@blueprint.before_request
def _authenticate() -> None:
    require_token()


@blueprint.post("/tenants/<domain>/explain")
def explain_call(domain: str) -> Any:
    body = json_body()
    if not isinstance(body, dict):
        raise DocumentInvalid([Problem("", "the request body must be a JSON object")])
    try:
        asked = api_models.ExplainRequest.model_validate(body)
    except ValidationError as exc:
        problems = [structure_problem(".".join(str(p) for p in e["loc"]), e) for e in exc.errors()]
        raise DocumentInvalid(problems) from None
    settings = current_app.extensions["centrex"].settings
    with transaction() as session:
        found, timezone = explain.explain_call(
            session.connection(),
            visible(domain),
            asked.caller,
            asked.to,
            at=asked.at,
            assume=asked.assume,
            default_country=settings.default_country,
            media_dir=str(settings.effective_media_dir),
            now=datetime.now(UTC),
        )
    return answer(api_models.ExplainedCall.model_validate(found.as_dict(timezone)))
