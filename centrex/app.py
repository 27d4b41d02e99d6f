"""`create_app`: the Flask application serving xml_curl and the REST API."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, Response, jsonify
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from centrex.config import Settings
from centrex.db import make_engine, make_session_factory


@dataclass(frozen=True)
class Services:
    """What request handlers reach through `current_app.extensions["centrex"]`."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]


def create_app(settings: Settings, engine: Engine | None = None) -> Flask:
    from provisioning.api import blueprint as api_blueprint
    from xmlcurl.endpoint import blueprint as xmlcurl_blueprint

    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = Flask("centrex")
    engine = engine or make_engine(settings.effective_database_url)
    app.extensions["centrex"] = Services(settings, engine, make_session_factory(engine))
    app.register_blueprint(xmlcurl_blueprint)
    app.register_blueprint(api_blueprint, url_prefix="/api/v1")

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    return app
