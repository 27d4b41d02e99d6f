"""The panel's error pages: in the user's language, in the panel's look, never JSON or a
traceback (the REST API answers its own errors in JSON: `centrex.app.json_errors`).

A refusal of the domain is put beside the form field it concerns by the view
(`admin.problems`); one a view lets rise is answered here, in one place for the whole
panel (`answer_domain_errors`): its own words, in the user's language, on an error page
(404 for what does not exist, 400 otherwise)."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, render_template
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from admin.languages import use_catalogues
from admin.messages import word
from admin.shared import SECURITY_HEADERS
from provisioning.errors import DomainError
from provisioning.lookup import NotFound

_MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You may not see this page."),
    404: _l("There is no such page."),
    405: _l("This page cannot be used that way."),
    413: _l("What was sent is too large."),
    500: _l("Something went wrong on our side. It has been logged; please try again."),
    503: _l("The service is unavailable for a moment. Please try again shortly."),
}


def panel_error_page(status: int, message: str | None = None) -> Response:
    """The error page of `status`, saying `message` or else what the status means."""
    use_catalogues()
    if message is None:
        message = str(_MESSAGES.get(status, _MESSAGES[500] if status >= 500 else _MESSAGES[400]))
    html = render_template("error.html", status=status, message=message, language=str(get_locale()))
    response = Response(html, status=status, mimetype="text/html")
    response.headers.update(SECURITY_HEADERS)
    return response


def domain_error_page(error: DomainError) -> Response:
    status = 404 if isinstance(error, NotFound) else 400
    return panel_error_page(status, " ".join(word(problem) for problem in error.problems))


def answer_domain_errors(panel: Blueprint) -> None:
    """The domain errors the panel's views let rise, as error pages (see the module)."""
    panel.register_error_handler(DomainError, domain_error_page)


def init_error_pages(app: Flask) -> None:
    # Read by centrex.app's error handlers for the panel's paths.
    app.extensions["centrex.panel_error_page"] = panel_error_page
