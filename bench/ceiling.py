"""The ceiling: `python -m bench.ceiling`, what the server stack costs when Centrex does
no work at all.

Same settings (CENTREX_* variables), same gunicorn options and application as the
switch side of `centrex serve` (`switch_options`, `create_app(side=SWITCH)`), plus one
bench-only path, `POST /bench/constant`, answered in front of Flask like FreeSWITCH's
requests (centrex.switch_paths), that reads the request body like the real endpoint
and answers the fixed document named by BENCH_CONSTANT_FILE (a real dialplan answer, so
that both send as many bytes).
Production code gains no path: it exists only in this process.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from centrex.app import SWITCH, create_app
from centrex.config import Settings, load_settings, require
from centrex.server import ready_to_serve, switch_options
from centrex.switch_paths import Answer, SwitchPaths
from xmlcurl.endpoint import XML_CONTENT_TYPE


def ceiling_app(settings: Settings, constant: bytes) -> Flask:
    app = create_app(settings, side=SWITCH)

    def constant_document(environ: dict[str, Any]) -> Answer:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        return Answer(200, constant, XML_CONTENT_TYPE)

    app.wsgi_app = SwitchPaths(  # type: ignore[method-assign]
        app, app.wsgi_app, {"/bench/constant": constant_document}
    )
    return app


class CeilingServer(BaseApplication):
    def __init__(self, settings: Settings, constant: bytes) -> None:
        self.settings = settings
        self.constant = constant
        super().__init__()

    def load_config(self) -> None:
        for key, value in switch_options(self.settings).items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return ready_to_serve(ceiling_app(self.settings, self.constant))


def main() -> None:
    settings = load_settings()
    require(settings, "xmlcurl_credentials")  # as `centrex serve` does
    CeilingServer(settings, Path(os.environ["BENCH_CONSTANT_FILE"]).read_bytes()).run()


if __name__ == "__main__":
    main()
