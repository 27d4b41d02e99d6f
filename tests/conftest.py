"""Shared fixtures: a migrated database (SQLite file, or PostgreSQL when
CENTREX_TEST_DATABASE_URL is set), the Flask app and client, and a demo tenant.

`make test` runs the suite on SQLite, then again on PostgreSQL; the second run keeps
only the tests that use the test database (the `database_url` fixture, which every
database fixture comes from): the others did not depend on it the first time."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from centrex.app import create_app
from centrex.config import Settings
from centrex.db import make_engine, make_session_factory, upgrade
from provisioning import accounts, service
from provisioning.document import load_text, parse_document
from provisioning.models import Base
from tests.fsrequests import fs_body

XMLCURL_CREDENTIALS = "freeswitch:test-secret"
DATABASE_URL_VARIABLE = "CENTREX_TEST_DATABASE_URL"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not os.environ.get(DATABASE_URL_VARIABLE):
        return
    kept, left = [], []
    for item in items:
        (kept if "database_url" in getattr(item, "fixturenames", ()) else left).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


DEMO_YAML = Path(__file__).resolve().parents[1] / "provisioning" / "demo" / "tenant.yaml"


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes() -> Iterator[None]:
    """Panel passwords hashed with argon2 at its cheapest in this process: the suite
    checks who may log in, not what a guess costs, and argon2-cffi's defaults take
    ≈ 130 ms a hash and a check — hundreds of times over. Servers the tests start as
    processes of their own keep the defaults."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    kept = accounts._HASHER, accounts._NOBODY
    accounts._HASHER, accounts._NOBODY = cheap, cheap.hash("no account has this password")
    yield
    accounts._HASHER, accounts._NOBODY = kept


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get(DATABASE_URL_VARIABLE)
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'centrex.sqlite3'}"


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    with engine.begin() as conn:
        # Start from nothing, also on a PostgreSQL database left by an earlier run.
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    yield migrated_engine
    with migrated_engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with make_session_factory(engine).begin() as s:
        yield s


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, xmlcurl_credentials=XMLCURL_CREDENTIALS)


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Iterator[Flask]:
    app = create_app(settings, engine)
    yield app
    # Its kept read connections go back now, not whenever the collector frees the app
    # (a Flask app with templates set up is held in reference cycles).
    app.extensions["centrex"].kept.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def demo_document(domain: str = "127.0.0.1", **changes: object) -> dict:
    raw = load_text(DEMO_YAML.read_text())
    raw["domain"] = domain
    raw.update(changes)
    return raw


def apply_raw(engine: Engine, raw: dict) -> service.ApplyReport:
    with make_session_factory(engine).begin() as s:
        return service.apply_document(s, parse_document(raw))


@pytest.fixture
def demo_tenant(engine: Engine) -> dict:
    """The demo tenant on domain 127.0.0.1, the domain of the captured fixtures."""
    raw = demo_document()
    apply_raw(engine, raw)
    return raw


def basic_auth(credentials: str = XMLCURL_CREDENTIALS) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


def post_fetch(client: FlaskClient, fields: list[tuple[str, str]], **kwargs):  # type: ignore[no-untyped-def]
    return client.post(
        "/xmlcurl",
        data=fs_body(fields),
        content_type="application/x-www-form-urlencoded",
        headers=kwargs.pop("headers", basic_auth()),
        **kwargs,
    )
