"""The REST API's answers to domain errors, in one place for every API blueprint
(`/api/v1`, the call log, click-to-call): `answer_domain_errors(blueprint)` registers
them as the blueprint's error handlers, so views just let domain errors rise.

An answer is a JSON problem (`api_models.Error`): `error`, the English sentence;
`code`, stable, for programs to match on (the refusal's own, else its kind's:
`not_found`, `forbidden`…); `params`, the values it names. A refusal of a field also
lists `problems`, each with its `path`, `message`, `code` and `params`; an invalid
document lists them all (`code`: `invalid_document`).
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Response, jsonify
from sqlalchemy.exc import IntegrityError

from provisioning import api_models, line_settings, media
from provisioning.errors import DocumentInvalid, DomainError, Problem
from provisioning.lookup import NotFound


class Forbidden(DomainError, PermissionError):
    """The token may see the tenant, but not do this."""


# Each kind of refusal: its status, and the code of a refusal that has none of its own.
# Kinds are matched by class, the most specific first (Flask's handler look-up).
KINDS: dict[type[DomainError], tuple[int, str]] = {
    DocumentInvalid: (422, "invalid_document"),
    NotFound: (404, "not_found"),
    Forbidden: (403, "forbidden"),
    media.MediaTooLarge: (413, "too_large"),
    media.MediaLimitReached: (409, "limit_reached"),
    media.MediaInvalid: (422, "invalid_media"),
    line_settings.StaleVersion: (409, "stale_version"),
}


def _problem(problem: Problem) -> api_models.Problem:
    return api_models.Problem(
        path=problem.path,
        message=problem.message,
        code=problem.code or None,
        params=dict(problem.params),
    )


def problem_response(
    error: DomainError, kinds: Mapping[type[DomainError], tuple[int, str]] = KINDS
) -> Response:
    """The answer to a domain error of one of `kinds`."""
    status, fallback = next(kinds[k] for k in type(error).__mro__ if k in kinds)
    if isinstance(error, DocumentInvalid):
        body: api_models.Error = api_models.Invalid(
            error="invalid document",
            code=fallback,
            params={},
            problems=[_problem(p) for p in error.problems],
        )
    else:
        # A refusal of one field of the request lists it as a problem, with its path.
        located = [_problem(p) for p in error.problems if p.path]
        code, params = error.code or fallback, dict(error.params)
        if located:
            body = api_models.Invalid(error=str(error), code=code, params=params, problems=located)
        else:
            body = api_models.Error(error=str(error), code=code, params=params)
    response = jsonify(body.body())
    response.status_code = status
    return response


def _simple(status: int, code: str, message: str) -> Response:
    response = jsonify(api_models.Error(error=message, code=code, params={}).body())
    response.status_code = status
    return response


def answer_domain_errors(
    blueprint: Blueprint, more: Mapping[type[DomainError], tuple[int, str]] | None = None
) -> None:
    """The blueprint's domain errors answered as JSON problems (see the module); `more`:
    its own kinds of refusal, with their status and code."""
    kinds = {**KINDS, **(more or {})}

    def answer(error: DomainError) -> Response:
        return problem_response(error, kinds)

    for kind in kinds:
        blueprint.register_error_handler(kind, answer)

    @blueprint.errorhandler(IntegrityError)
    def _conflict(_error: IntegrityError) -> Response:
        # Validation passed, so another change raced this one: nothing was written.
        return _simple(409, "conflict", "changed by someone else meanwhile; nothing written, retry")

    @blueprint.errorhandler(RecursionError)
    def _too_deep(_error: RecursionError) -> Response:
        # A document that parsed, but nested too deep for the checks that walk it.
        return _simple(400, "too_deep", "the document is nested too deeply")
