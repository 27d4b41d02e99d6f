"""`create_app`: the Flask application serving FreeSWITCH (xml_curl, call records), the
panel and the REST API — all of it, or one side (see centrex.server)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, Request, Response, current_app, jsonify, request
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from centrex.config import Settings
from centrex.db import KeptConnections, database_unavailable, make_engine, make_session_factory
from centrex.logs import configure_logging
from centrex.switch_paths import SwitchPaths

# What each side of the server serves (centrex.server runs each in a pool of its own).
SWITCH = "switch"  # FreeSWITCH: /xmlcurl and /cdr
PEOPLE = "people"  # the panel (/panel) and the REST API (/api)


@dataclass(frozen=True)
class Services:
    """What request handlers reach through `current_app.extensions["centrex"]`."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    # Connections kept for FreeSWITCH's requests: the fetches' reads and the call
    # records' writes (see KeptConnections).
    kept: KeptConnections

    @classmethod
    def of(cls, settings: Settings, engine: Engine) -> Services:
        return cls(settings, engine, make_session_factory(engine), KeptConnections(engine))


def create_app(settings: Settings, engine: Engine | None = None, side: str | None = None) -> Flask:
    """The application; `side` SWITCH or PEOPLE serves only that side's routes (None:
    everything, as tests and single-threaded servers want)."""
    from admin import blueprint as admin_blueprint
    from admin import configure_panel
    from esl.calls_api import blueprint as calls_blueprint
    from esl.cdr_http import answer_cdr
    from esl.cdr_http import blueprint as cdr_blueprint
    from provisioning.api import blueprint as api_blueprint
    from provisioning.conference_api import blueprint as conferences_blueprint
    from provisioning.explain_api import blueprint as explain_blueprint
    from xmlcurl.endpoint import answer_fetch
    from xmlcurl.endpoint import blueprint as xmlcurl_blueprint

    configure_logging(settings)
    app = Flask("centrex")
    if side == SWITCH:
        # FreeSWITCH sends no cookie: no session to look for on every fetch.
        app.session_interface = _NoSessions()
    else:
        configure_panel(app, settings)
    engine = engine or make_engine(
        settings.effective_database_url, answer_within=settings.database_timeout
    )
    app.extensions["centrex"] = Services.of(settings, engine)
    if side in (None, SWITCH):
        app.register_blueprint(xmlcurl_blueprint)
        app.register_blueprint(cdr_blueprint)
        app.wsgi_app = SwitchPaths(  # type: ignore[method-assign]
            app, app.wsgi_app, {"/xmlcurl": answer_fetch, "/cdr": answer_cdr}
        )
    if side in (None, PEOPLE):
        app.register_blueprint(api_blueprint, url_prefix="/api/v1")
        app.register_blueprint(calls_blueprint, url_prefix="/api/v1")
        app.register_blueprint(conferences_blueprint, url_prefix="/api/v1")
        app.register_blueprint(explain_blueprint, url_prefix="/api/v1")
        app.register_blueprint(admin_blueprint, url_prefix="/panel")

    json_errors(app)
    if settings.trusted_proxies:
        # The client's address as the proxies in front saw it (per-address throttling).
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    return app


class _NoSessions(SessionInterface):
    """No session: opening one would build a cookie signer on every request."""

    def open_session(self, app: Flask, request: Request) -> None:
        return None  # Flask gives the request its null session

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        return None


def json_errors(app: Flask) -> None:
    """API clients get JSON errors, never HTML pages or tracebacks; while the database
    is down or silent everyone gets 503 and a word saying so (one log line)."""

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response | HTTPException:
        if request.path.startswith("/api/"):
            response = jsonify(error=error.description)
            response.status_code = error.code or 500
            return response
        return _panel_page(error.code or 500) or error

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        if database_unavailable(error):
            return _database_unavailable(error)
        logging.getLogger("centrex").exception("unexpected error on %s", request.path)
        page = _panel_page(500)
        if page is not None:
            return page
        response = jsonify(error="internal error; it has been logged")
        response.status_code = 500
        return response


def _panel_page(status: int) -> Response | None:
    """The panel's own error page, for the panel's paths (admin.errors)."""
    render = current_app.extensions.get("centrex.panel_error_page")
    if render is None or not request.path.startswith("/panel"):
        return None
    page: Response = render(status)
    return page


def _database_unavailable(error: Exception) -> Response:
    logging.getLogger("centrex").warning(
        "%s %s: database unavailable (%s)", request.method, request.path, type(error).__name__
    )
    message = "the database is unavailable; try again in a moment"
    page = _panel_page(503)
    if request.path.startswith("/api/"):
        response = jsonify(error=message)
    elif page is not None:
        response = page
    else:
        response = Response(f"Service unavailable: {message}.\n", mimetype="text/plain")
    response.status_code = 503
    response.headers["Retry-After"] = "5"
    return response
