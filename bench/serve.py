"""The server stack under test, in a process of its own: `python -m bench.serve APP`.

APP is `centrex` (the real application) or `ceiling` (the same application and
gunicorn settings, plus one route answering a constant document: what the stack
costs when Centrex does no work at all). Settings come from CENTREX_* variables.
"""

from __future__ import annotations

import sys

from flask import Response

from centrex.app import create_app
from centrex.config import load_settings
from centrex.server import _Gunicorn, gunicorn_options

# What a ring-an-extension answer looks like: same size as a real one.
CONSTANT = (
    b"<?xml version='1.0' encoding='UTF-8'?>\n"
    b'<document type="freeswitch/xml"><section name="dialplan" description="Centrex">'
    b'<context name="bench.example"><extension name="ring 1000">'
    b'<condition field="destination_number" expression="^1000$">'
    b'<action application="set" data="hangup_after_bridge=true"/>'
    b'<action application="set" data="continue_on_fail=true"/>'
    b'<action application="set" data="centrex_failover_for=1000"/>'
    b'<action application="set" data="centrex_stage=ring"/>'
    b'<action application="set" data="call_timeout=20"/>'
    b'<action application="bridge" data="user/1000@bench.example"/>'
    b'<action application="transfer" data="1000 XML bench.example"/>'
    b"</condition></extension></context></section></document>"
)


class _Ceiling(_Gunicorn):
    def load(self):  # type: ignore[no-untyped-def]
        app = create_app(self.settings)

        @app.post("/bench/constant")
        def constant() -> Response:
            return Response(CONSTANT, mimetype="text/xml")

        return app


def main() -> None:
    settings = load_settings()
    runner = _Ceiling if sys.argv[1:] == ["ceiling"] else _Gunicorn
    runner(settings, gunicorn_options(settings)).run()


if __name__ == "__main__":
    main()
