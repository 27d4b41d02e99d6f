"""The mod_xml_curl HTTP endpoint: `POST /xmlcurl`, HTTP basic auth.

Thin: authenticate, parse, load, compile, render. Whatever goes wrong — database down
or silent, an odd request, a bug — FreeSWITCH still gets a well-formed answer at once:
for the dialplan a clean rejection of the call, otherwise "not found" (FreeSWITCH then
uses its static XML, which lets nobody in). A fetch that has not been answered within
its deadline (`CENTREX_FETCH_DEADLINE`) is abandoned for that answer. The failure is
logged, never sent back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, request
from sqlalchemy import Connection, Engine

from centrex import metrics
from centrex.config import Settings
from centrex.db import DeadlineExceeded, KeptConnections, database_unavailable, deadline
from centrex.switch_paths import Answer, query
from xmlcurl import configuration, loader, overload, render, route_trail, servers
from xmlcurl import fsnames as fs
from xmlcurl.auth import CHALLENGE, switch_authorised
from xmlcurl.call_loader import load_call
from xmlcurl.decisions import Hangup, Route
from xmlcurl.dialplan import compile_call, lookup_for
from xmlcurl.directory import acceptable_pin, compile_directory, compile_gateways
from xmlcurl.inputs import LineData
from xmlcurl.request import call_request, directory_request, parse_fields
from xmlcurl.setting_changes import make_change

log = logging.getLogger(__name__)

blueprint = Blueprint("xmlcurl", __name__)

XML_CONTENT_TYPE = "text/xml; charset=utf-8"
# mod_xml_curl requests are ~10 kB; anything past this is not read.
_MAX_BODY = 256 * 1024

T = TypeVar("T")


def _engine() -> Engine:
    return current_app.extensions["centrex"].engine


def _read(read: Callable[[Connection], T]) -> T:
    """A read on a connection kept between fetches (centrex.db.KeptConnections)."""
    kept: KeptConnections = current_app.extensions["centrex"].kept
    return kept.run(read)


def _body(environ: Mapping[str, Any]) -> bytes:
    """The request body, read straight from the WSGI stream (FreeSWITCH always sends a
    Content-Length; werkzeug's form machinery is not needed here)."""
    try:
        length = min(int(environ.get("CONTENT_LENGTH") or 0), _MAX_BODY)
    except ValueError:
        return b""
    if length <= 0:
        return b""
    try:
        body: bytes = environ["wsgi.input"].read(length)
    except OSError as exc:  # the client stopped sending (the server's read timeout)
        log.warning("xml_curl request from %s not read: %s", environ.get("REMOTE_ADDR"), exc)
        return b""
    # Never route on part of a request (a variable missing may change the decision).
    return body if len(body) == length else b""


def _dialplan(fields: dict[str, str]) -> bytes:
    call = call_request(fields)
    settings = current_app.extensions["centrex"].settings
    lookup = lookup_for(call, settings.default_country)
    data = None
    if lookup is not None:
        media_dir = str(settings.effective_media_dir)
        data = _read(
            lambda conn: load_call(conn, lookup, call.destination, media_dir, call.caller_user)
        )
    route = compile_call(call, data, datetime.now(UTC))
    if route.change is not None:  # a star code: the setting changed first
        route = make_change(current_app.extensions["centrex"].sessions, route)
    # Refusals at INFO; other decisions at DEBUG only: at INFO a line per fetch cost 7 %
    # of a loaded worker, and every call is in the call log.
    (log.info if route.refused else log.debug)(
        "dialplan %s %s→%s: %s", call.unique_id, call.context, call.destination, route.name
    )
    return render.dialplan(route_trail.marked(route, call))


def _dialplan_unavailable(fields: dict[str, str]) -> bytes:
    """Centrex cannot route right now: tell the caller so, cleanly."""
    call = call_request(fields)
    route = Route(
        call.context, call.destination, "unavailable", (Hangup(fs.NORMAL_TEMPORARY_FAILURE),)
    )
    return render.dialplan(route)


def _directory(fields: dict[str, str]) -> bytes:
    req = directory_request(fields)
    if req.purpose == fs.PURPOSE_GATEWAYS:
        return render.directory(compile_gateways(_read(loader.load_gateways)))
    data = None
    if req.domain:
        data = _read(lambda conn: loader.load_tenant(conn, req.domain, [req.user]))
    accepted = None
    if req.new_voicemail_pin is not None and data and req.user in data.lines:
        line = data.lines[req.user]
        accepted = _change_voicemail_pin(line, req.domain, req.new_voicemail_pin)
        if accepted:
            changed = replace(line, voicemail_pin=req.new_voicemail_pin)
            data = replace(data, lines={**data.lines, req.user: changed})
    answer = compile_directory(req, data, accepted)
    log.debug("directory %s %s@%s: %s", req.action or req.purpose, req.user, req.domain, answer)
    return render.directory(answer)


def _change_voicemail_pin(line: LineData, domain: str, pin: str) -> bool:
    """A PIN changed from the phone's voicemail menu is kept if it meets the rules;
    otherwise mod_voicemail is told so and asks the caller for another one."""
    if not acceptable_pin(line, pin):
        log.info("voicemail PIN change of %s@%s refused: too weak", line.extension, domain)
        return False
    with _engine().begin() as conn:
        loader.store_voicemail_pin(conn, domain, line.extension, pin)
    log.info("voicemail PIN of %s@%s changed from the phone", line.extension, domain)
    return True


def _configuration(fields: dict[str, str]) -> bytes:
    build = configuration.CONFIGURATIONS.get(fields.get(fs.KEY_VALUE, ""))
    if build is None:
        return render.not_found()
    settings = current_app.extensions["centrex"].settings
    body = _read(lambda conn: build(conn, settings, fields))
    if len(body) > fs.XML_CURL_MAX_BYTES:
        log.warning(
            "configuration %s is %d bytes: raise response-max-bytes in xml_curl.conf.xml, "
            "FreeSWITCH discards answers over %d",
            fields[fs.KEY_VALUE],
            len(body),
            fs.XML_CURL_MAX_BYTES,
        )
    return body


def _not_served(_fields: dict[str, str]) -> bytes:
    return render.not_found()


_SECTIONS: dict[str, Callable[[dict[str, str]], bytes]] = {
    "dialplan": _dialplan,
    "directory": _directory,
    fs.SECTION_CONFIGURATION: _configuration,
}
_FALLBACKS: dict[str, Callable[[dict[str, str]], bytes]] = {"dialplan": _dialplan_unavailable}


def _fallback(section: str, fields: dict[str, str]) -> bytes:
    try:
        return _FALLBACKS.get(section, _not_served)(fields)
    except Exception:
        # The request itself cannot be echoed back (a context that is no XML): what
        # FreeSWITCH does with "not found" is its static XML, which routes nothing.
        log.exception("xml_curl %s fallback failed too; answering not found", section or "?")
        return render.not_found()


def _log_failure(section: str, error: BaseException) -> None:
    """The database down or silent is expected now and then: one line, no traceback."""
    if isinstance(error, DeadlineExceeded):
        deadline_ms = current_app.extensions["centrex"].settings.fetch_deadline
        log.warning(
            "xml_curl %s request not answered within %d ms; answering the safe fallback",
            section,
            deadline_ms,
        )
    elif database_unavailable(error):
        log.warning(
            "xml_curl %s request: database unavailable (%s); answering the safe fallback",
            section,
            type(error).__name__,
        )
    else:
        log.exception("xml_curl %s request failed; answering the safe fallback", section)


_WAITS = overload.WaitClock()
_NOT_FOUND = render.not_found()


def _admit(
    section: str, fields: dict[str, str], settings: Settings, query: Mapping[str, str]
) -> overload.Verdict:
    """Whether to serve the fetch, or answer at once what FreeSWITCH does without us
    (xmlcurl.overload): the wait it had before this worker took it decides."""
    late = servers.reached_late(query)
    waited = _WAITS.waited_ms(fields, after_ms=settings.switch_timeout if late else None)
    limits = overload.Limits(settings.switch_timeout, settings.call_wait_limit)
    verdict = overload.verdict(section, waited, limits)
    if verdict is not overload.Verdict.SERVE:
        log.warning("xml_curl %s request waited %.0f ms: %s", section, waited, verdict.value)
    return verdict


@blueprint.post("/xmlcurl")
def fetch() -> Response:
    """Routed in Flask too; served in front of it (centrex.switch_paths)."""
    return answer_fetch(request.environ).response()


def answer_fetch(environ: dict[str, Any]) -> Answer:
    if not switch_authorised(environ):
        log.warning("xml_curl request from %s refused: bad credentials", environ.get("REMOTE_ADDR"))
        metrics.fetch_refused()
        return Answer(401, render.not_found(), XML_CONTENT_TYPE, CHALLENGE)
    started = time.perf_counter()
    fields: dict[str, str] = {}
    section = ""
    settings = current_app.extensions["centrex"].settings
    failure: BaseException | None = None
    shed = ""
    try:
        with deadline(settings.fetch_deadline):
            fields = parse_fields(_body(environ))
            section = fields.get(fs.SECTION, "")
            url_query = query(environ)  # xmlcurl.servers' `via`
            verdict = _admit(section, fields, settings, url_query)
            if verdict is overload.Verdict.SERVE:
                body = _SECTIONS.get(section, _not_served)(fields)
                if body == _NOT_FOUND:  # a server that knows nothing of it takes no lead
                    body = servers.not_found_anywhere(url_query, body)
                else:
                    order = servers.new_order(url_query, int(time.time() * 1000))
                    body = servers.with_preamble(body, order)
            else:
                body = _fallback(section, fields)
                shed = verdict.name.lower()
    except (Exception, DeadlineExceeded) as error:
        failure = error
        _log_failure(section or "?", error)
        body = _fallback(section, fields)
    log.debug("xml_curl %s answered in %.1f ms", section, (time.perf_counter() - started) * 1e3)
    metrics.fetched(section, body, started, failure, shed)
    return Answer(200, body, XML_CONTENT_TYPE)
