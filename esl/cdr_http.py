"""`POST /cdr`: where mod_xml_cdr posts each leg's record (HTTP basic auth, as /xmlcurl).

FreeSWITCH counts only a 200 as delivered; after its last try it writes the record
into its err-log-dir, which `esl.calllog.import_error_dir` imports later. So: 200 once
the record is stored (or was already, or concerns no user), 503 while the database
cannot take it (down, or silent past `CENTREX_FETCH_DEADLINE`), 400 for a body that is no
record, 401 without the credentials.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wsgi import get_input_stream

from centrex import metrics
from centrex.db import DeadlineExceeded, deadline
from centrex.switch_paths import Answer, query
from esl import calllog
from esl.cdr import NotACdr, parse_cdr, xml_from_body
from xmlcurl.auth import CHALLENGE, switch_authorised

log = logging.getLogger(__name__)

blueprint = Blueprint("cdr", __name__)

# Records are tens of kB (three times that url-encoded); anything past this is refused.
_MAX_BODY = 3 * calllog.MAX_RECORD_BYTES


def _answer(status: int, text: str, headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    return Answer(status, f"{text}\n".encode(), "text/plain; charset=utf-8", headers)


@blueprint.post("/cdr")
def post_cdr() -> Response:
    """Routed in Flask too; served in front of it (centrex.switch_paths)."""
    return answer_cdr(request.environ).response()


@metrics.counted_cdr
def answer_cdr(environ: dict[str, Any]) -> Answer:
    leg = query(environ).get("uuid", "?")[:80]
    if not switch_authorised(environ):
        log.warning(
            "call record %s from %s refused: bad credentials", leg, environ.get("REMOTE_ADDR")
        )
        return _answer(401, "unauthorised", headers=CHALLENGE)
    try:
        # The body as werkzeug's request.stream gives it (bounded by Content-Length).
        body = get_input_stream(environ).read(_MAX_BODY + 1)
    except OSError as exc:  # the client stopped sending (the server's read timeout)
        log.warning("call record %s not read: %s", leg, exc)
        return _answer(400, "request body not received")
    if len(body) > _MAX_BODY:
        log.warning("call record %s refused: larger than %d bytes", leg, _MAX_BODY)
        return _answer(413, "too large")
    services = current_app.extensions["centrex"]
    try:
        reported = parse_cdr(xml_from_body(body))
        with deadline(services.settings.fetch_deadline):
            # Stored again whole if the kept connection fails: each entry's upsert
            # leaves the same entry however often it runs.
            recorded = services.kept.run(
                lambda connection: calllog.store_leg(
                    connection, reported, services.settings.default_country
                )
            )
    except NotACdr as exc:
        log.warning("call record %s refused: %s", leg, exc)
        return _answer(400, f"not a call record: {exc}")
    except (SQLAlchemyError, DeadlineExceeded) as exc:
        # No traceback: FreeSWITCH tries again, then leaves the record for the import.
        why = "no answer in time" if isinstance(exc, DeadlineExceeded) else type(exc).__name__
        log.warning("call record %s not stored, database unavailable: %s", leg, why)
        return _answer(503, "database unavailable, try again")
    log.info("call record %s stored: %s", recorded.uuid, recorded.entries or "no user concerned")
    return _answer(200, "stored")
