"""Fixtures of the unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask_babel import Babel

from admin.languages import Catalogues


@pytest.fixture
def babel_app() -> Iterator[Flask]:
    """A request context whose translations are the panel's catalogues."""
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        Catalogues().as_default()
        yield app
