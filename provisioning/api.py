"""REST API under /api/v1: the tenant document, and its users and numbers one by one.

Views only authenticate, parse, call the service and serialise; domain errors become
JSON problems in one place (`provisioning.api_errors`). A change of the tenant goes
through the same path as `centrex apply`: the whole tenant document is validated before
anything is written; a change of one user (PUT, PATCH) is checked against the tenant
with the document's rules and writes that user alone (`user_settings`), from a version.
A token scoped to a tenant sees only that tenant; others answer 404, as if absent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, jsonify, request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from provisioning import (
    api_models,
    groups,
    line_settings,
    media,
    preview,
    queue_agents,
    reminders,
    service,
    summary,
    tenant_views,
    user_settings,
)
from provisioning.api_errors import Forbidden, answer_domain_errors
from provisioning.call_handling import CallHandling
from provisioning.document import (
    DocumentInvalid,
    Problem,
    TenantDoc,
    dump_document,
    json_schema,
    parse_document,
    refuse_not_unicode,
)
from provisioning.errors import said, structure_problem
from provisioning.lookup import unknown_tenant
from provisioning.validation import InvalidValue, check_public_number

blueprint = Blueprint("api", __name__)
answer_domain_errors(blueprint)


@contextmanager
def transaction() -> Iterator[Session]:
    """One unit of work for a request of any API blueprint (committed, or rolled back)."""
    with current_app.extensions["centrex"].sessions.begin() as session:
        yield session


@blueprint.before_request
def _authenticate() -> None:
    if request.endpoint in {"api.openapi", "api.tenant_schema"}:
        return
    require_token()


def require_token() -> None:
    """Every API blueprint's first step: a valid bearer token, whose scope lands in
    `g.scope`; anything else ends the request with 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    scope = None
    if scheme.lower() == "bearer" and token:
        with transaction() as session:
            scope = service.token_scope(session, token.strip())
    if scope is None:
        response, _ = failure(401, "a valid API token is required (Authorization: Bearer …)")
        response.headers["WWW-Authenticate"] = 'Bearer realm="centrex"'
        abort(response)
    g.scope = scope


def visible(domain: str) -> str:
    """The domain, if the request's token may see it; NotFound otherwise (no hint that
    another tenant exists)."""
    if not g.scope.allows(domain):
        raise service.NotFound(unknown_tenant(domain))
    return domain


def json_body() -> Any | None:
    """The request's JSON document, None when the body is none. One nested so deep that
    reading it exhausts Python's stack (a RecursionError, which is no ValueError) ends
    the request with 400; one holding a string that is not Unicode text (a lone
    surrogate escape, which no database stores) with 422 naming where."""
    if not request.is_json:
        return None
    try:
        data = json.loads(request.get_data(), object_pairs_hook=_object, parse_constant=_no_json)
    except _KeyTwice as twice:
        key = json.dumps(twice.key)  # quoted, and ASCII whatever it holds
        given_twice = said("key_twice", "the key %(key)s is given twice in one object", key=key)
        raise DocumentInvalid([Problem("", given_twice)]) from None
    except ValueError:  # not JSON (nor UTF-8): the caller says what it expected
        return None
    except RecursionError:
        response, _ = failure(400, "the request body is nested too deeply")
        abort(response)
    refuse_not_unicode(data)
    return data


def _no_json(constant: str) -> Any:
    """NaN and Infinity, which Python's reader takes and JSON does not have."""
    raise ValueError(f"{constant} is not JSON")


class _KeyTwice(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, whose keys must differ: `json` would keep the last of two equal
    ones without a word (a second "users" dropping the first one's users)."""
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _KeyTwice(key)
            seen.add(key)
    return found


def _json_body() -> Any:
    data = json_body()
    if data is None:
        raise DocumentInvalid([Problem("", "the request body must be a JSON document")])
    return data


def answer(model: api_models.ResponseModel, status: int = 200) -> tuple[Response, int]:
    """A JSON answer, written through its response model (the one the OpenAPI document
    describes it by)."""
    response = jsonify(model.body())
    response.status_code = status
    return response, status


def failure(status: int, message: str) -> tuple[Response, int]:
    return answer(api_models.Error(error=message), status)


def domain_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Views once wore it to answer their domain errors; the blueprint's error handlers
    (`api_errors.answer_domain_errors`) do it now, so it leaves the view as it is. Kept
    for views written with it."""
    return view


def _report(report: service.ApplyReport) -> tuple[Response, int]:
    return answer(api_models.ApplyReport(dry_run=False, **report.as_dict()))


def _apply(session: Session, raw: Any) -> tuple[Response, int]:
    return _report(service.apply_document(session, parse_document(raw)))


def _preview(session: Session, doc: TenantDoc) -> tuple[Response, int]:
    """A dry run of a whole document: what it changes, and which calls route otherwise."""
    settings = current_app.extensions["centrex"].settings
    report, effects = preview.dry_run(
        session,
        doc,
        default_country=settings.default_country,
        media_dir=str(settings.effective_media_dir),
    )
    routing = api_models.RoutingEffects.model_validate(effects.as_dict())
    return answer(api_models.DryRunReport(dry_run=True, routing=routing, **report.as_dict()))


def _current(session: Session, domain: str) -> dict[str, Any]:
    return dump_document(service.export_document(session, visible(domain)))


# --- tenants --------------------------------------------------------------------
@blueprint.get("/tenants")
def list_tenants() -> Any:
    with transaction() as session:
        return answer(api_models.TenantList(tenants=service.list_tenants(session, g.scope.domain)))


@blueprint.get("/tenants/<domain>")
def get_tenant(domain: str) -> Any:
    with transaction() as session:
        return jsonify(_current(session, domain))


@blueprint.put("/tenants/<domain>")
def put_tenant(domain: str) -> Any:
    raw = _json_body()
    if isinstance(raw, dict):
        raw.setdefault("domain", domain)
        if raw["domain"] != domain:
            raise DocumentInvalid([Problem("domain", f"must be {domain}, as in the URL")])
    if g.scope.domain is not None and g.scope.domain != domain:
        raise service.NotFound(unknown_tenant(domain))
    dry_run = request.args.get("dry_run", "").lower() in {"1", "true", "yes"}
    with transaction() as session:
        if dry_run:
            return _preview(session, parse_document(raw))
        return _apply(session, raw)


@blueprint.delete("/tenants/<domain>")
def delete_tenant(domain: str) -> Any:
    if g.scope.domain is not None:
        raise Forbidden("only an all-tenants token may delete a tenant")
    with transaction() as session:
        service.delete_tenant(session, domain, _media_store())
    return Response(status=204)


# --- users and numbers, one at a time --------------------------------------------
def _items(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return doc.setdefault(kind, [])


def _find(items: list[dict[str, Any]], key: str, value: str) -> int:
    for i, item in enumerate(items):
        if item.get(key) == value:
            return i
    raise service.NotFound(f"no {key} {value}")


def _number_key(doc: dict[str, Any], number: str) -> str:
    try:
        return check_public_number(number, doc.get("country", "FR"))
    except InvalidValue as exc:
        raise service.NotFound(f"no number {number} ({exc})") from None


@blueprint.get("/tenants/<domain>/users")
def list_users(domain: str) -> Any:
    with transaction() as session:
        doc = service.export_document(session, visible(domain))
        return answer(api_models.UserList(users=doc.users))


@blueprint.get("/tenants/<domain>/users/<extension>")
def get_user(domain: str, extension: str) -> Any:
    with transaction() as session:
        state = user_settings.user_of(session, visible(domain), extension)
    return answer(api_models.UserView.model_validate({**state.user, "version": state.version}))


def _version_of(body: Any) -> int | None:
    """The version a change of one user was made from, taken out of its body (None:
    none given, the change is made whatever the version now)."""
    if not isinstance(body, dict):
        return None
    version = body.pop("version", None)
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise DocumentInvalid([Problem("version", "must be the version the GET gave")])
    return version


def _saved(saved: user_settings.UserSaved) -> tuple[Response, int]:
    item = f"user {saved.extension}"
    return answer(
        api_models.UserSaved(
            dry_run=False,
            created=[item] if saved.created else [],
            updated=[item] if saved.changed and not saved.created else [],
            deleted=[],
            version=saved.version,
        )
    )


@blueprint.put("/tenants/<domain>/users/<extension>")
def put_user(domain: str, extension: str) -> Any:
    """Create or replace one user alone: checked against the tenant like the document,
    only this user written, a change from a stale version refused."""
    raw = _json_body()
    version = _version_of(raw)
    if isinstance(raw, dict) and str(raw.setdefault("extension", extension)) != extension:
        raise DocumentInvalid([Problem("extension", f"must be {extension}, as in the URL")])
    with transaction() as session:
        return _saved(
            user_settings.replace_user(session, visible(domain), extension, raw, version=version)
        )


MERGE_PATCH = "application/merge-patch+json"


@blueprint.patch("/tenants/<domain>/users/<extension>")
@domain_errors
def patch_user(domain: str, extension: str) -> Any:
    """Change one user by a JSON merge patch (RFC 7396) of what the GET gives."""
    if request.mimetype != MERGE_PATCH:
        response, status = failure(415, f"send a JSON merge patch (RFC 7396) as {MERGE_PATCH}")
        response.headers["Accept-Patch"] = MERGE_PATCH
        return response, status
    patch = _json_body()
    version = _version_of(patch)
    if isinstance(patch, dict) and str(patch.get("extension", extension)) != extension:
        raise DocumentInvalid([Problem("extension", f"must be {extension}, as in the URL")])
    with transaction() as session:
        return _saved(
            user_settings.patch_user(session, visible(domain), extension, patch, version=version)
        )


_CALL_HANDLING = "/tenants/<domain>/users/<extension>/call-handling"


def _state(state: line_settings.CallHandlingState) -> api_models.CallHandlingState:
    handling = CallHandling.model_validate(state.call_handling)
    return api_models.CallHandlingState(call_handling=handling, version=state.version)


@blueprint.get(_CALL_HANDLING)
def get_call_handling(domain: str, extension: str) -> Any:
    with transaction() as session:
        return answer(_state(line_settings.call_handling_of(session, visible(domain), extension)))


@blueprint.put(_CALL_HANDLING)
def put_call_handling(domain: str, extension: str) -> Any:
    """This user's call handling alone: checked against the tenant like the document,
    only this user written, a change from a stale version refused."""
    try:
        change = api_models.CallHandlingChange.model_validate(_json_body())
    except PydanticValidationError as exc:
        raise DocumentInvalid(
            [Problem(".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors()]
        ) from None
    with transaction() as session:
        state = line_settings.set_call_handling(
            session, visible(domain), extension, change.call_handling, version=change.version
        )
        return answer(_state(state))


@blueprint.delete("/tenants/<domain>/users/<extension>")
def delete_user(domain: str, extension: str) -> Any:
    with transaction() as session:
        doc = _current(session, domain)
        users = _items(doc, "users")
        del users[_find(users, "extension", extension)]
        return _apply(session, doc)


@blueprint.get("/tenants/<domain>/numbers")
def list_numbers(domain: str) -> Any:
    with transaction() as session:
        doc = service.export_document(session, visible(domain))
        return answer(api_models.NumberList(numbers=doc.numbers))


@blueprint.get("/tenants/<domain>/numbers/<number>")
def get_number(domain: str, number: str) -> Any:
    with transaction() as session:
        doc = _current(session, domain)
        numbers = _items(doc, "numbers")
        return jsonify(numbers[_find(numbers, "number", _number_key(doc, number))])


@blueprint.put("/tenants/<domain>/numbers/<number>")
def put_number(domain: str, number: str) -> Any:
    raw = _json_body()
    with transaction() as session:
        doc = _current(session, domain)
        key = _number_key(doc, number)
        if isinstance(raw, dict):
            raw.setdefault("number", key)
        numbers = _items(doc, "numbers")
        try:
            numbers[_find(numbers, "number", key)] = raw
        except service.NotFound:
            numbers.append(raw)
        return _apply(session, doc)


@blueprint.delete("/tenants/<domain>/numbers/<number>")
def delete_number(domain: str, number: str) -> Any:
    with transaction() as session:
        doc = _current(session, domain)
        numbers = _items(doc, "numbers")
        del numbers[_find(numbers, "number", _number_key(doc, number))]
        return _apply(session, doc)


@blueprint.get("/tenants/<domain>/numbers/<number>/routing")
def get_number_routing(domain: str, number: str) -> Any:
    with transaction() as session:
        doc = service.export_document(session, visible(domain))
    found = tenant_views.find_number(doc, _number_key({"country": doc.country}, number))
    if found is None:
        raise service.NotFound(f"no number {number}")
    return answer(tenant_views.number_routing(doc, found, datetime.now(UTC)))


@blueprint.get("/tenants/<domain>/directory")
def get_directory(domain: str) -> Any:
    with transaction() as session:
        doc = service.export_document(session, visible(domain))
    return answer(tenant_views.company_directory(doc))


_SUMMARY_FORMATS = {"html": "text/html", "text": "text/plain"}


@blueprint.get("/tenants/<domain>/summary")
def get_summary(domain: str) -> Any:
    wanted = request.args.get("format")
    if wanted is None:
        best = request.accept_mimetypes.best_match(["text/html", "text/plain"], "text/html")
        wanted = "text" if best == "text/plain" else "html"
    if wanted not in _SUMMARY_FORMATS:
        raise DocumentInvalid([Problem("format", "must be html or text")])
    with transaction() as session:
        doc = service.export_document(session, visible(domain))
    found = summary.summarise(doc, datetime.now(UTC))
    body = summary.as_html(found) if wanted == "html" else summary.as_text(found)
    return Response(body, mimetype=_SUMMARY_FORMATS[wanted])


@blueprint.post("/tenants/<domain>/holidays/import")
def import_holidays(domain: str) -> Any:
    body = _json_body()
    try:
        asked = api_models.HolidayImport.model_validate(body if isinstance(body, dict) else {})
    except PydanticValidationError as exc:
        raise DocumentInvalid(
            [structure_problem(".".join(map(str, e["loc"])), e) for e in exc.errors()]
        ) from None
    with transaction() as session:
        report = service.import_holidays(
            session, visible(domain), asked.country, asked.year, asked.user
        )
        return _report(report)


# A holiday list is a few kilobytes; anything this large is not one.
_MAX_CSV = 1024 * 1024


@blueprint.post("/tenants/<domain>/holidays/csv")
def import_holidays_csv(domain: str) -> Any:
    visible(domain)
    if request.mimetype != "text/csv":
        raise UnsupportedMediaType("send the holiday list as a text/csv body")
    request.max_content_length = _MAX_CSV
    text = request.get_data(as_text=True)
    with transaction() as session:
        report = service.import_holidays_csv(session, domain, text)
        return _report(report)


# --- reminders (wake-up calls) ------------------------------------------------------
_REMINDERS = "/tenants/<domain>/users/<extension>/reminders"


@blueprint.get(_REMINDERS)
def list_reminders(domain: str, extension: str) -> Any:
    with transaction() as session:
        found = reminders.list_reminders(session, visible(domain), extension)
        return answer(api_models.ReminderList(reminders=[reminders.as_response(r) for r in found]))


@blueprint.post(_REMINDERS)
def create_reminder(domain: str, extension: str) -> Any:
    raw = _json_body()
    with transaction() as session:
        made = reminders.create_reminder(
            session, visible(domain), extension, raw, datetime.now(UTC)
        )
        return answer(reminders.as_response(made), 201)


@blueprint.get(_REMINDERS + "/<int:reminder_id>")
def get_reminder(domain: str, extension: str, reminder_id: int) -> Any:
    with transaction() as session:
        found = reminders.get_reminder(session, visible(domain), extension, reminder_id)
        return answer(reminders.as_response(found))


@blueprint.put(_REMINDERS + "/<int:reminder_id>")
def put_reminder(domain: str, extension: str, reminder_id: int) -> Any:
    raw = _json_body()
    with transaction() as session:
        changed = reminders.replace_reminder(
            session, visible(domain), extension, reminder_id, raw, datetime.now(UTC)
        )
        return answer(reminders.as_response(changed))


@blueprint.delete(_REMINDERS + "/<int:reminder_id>")
def delete_reminder(domain: str, extension: str, reminder_id: int) -> Any:
    with transaction() as session:
        reminders.delete_reminder(session, visible(domain), extension, reminder_id)
    return Response(status=204)


# --- media: announcements, hold music, ringback tones ------------------------------
_MEDIA_ITEM = "/tenants/<domain>/media/<kind>/<name>"
# Room for the multipart envelope around a file of the largest size accepted.
_MULTIPART_SLACK = 64 * 1024


def _media_store() -> media.MediaStore:
    return media.MediaStore(current_app.extensions["centrex"].settings.effective_media_dir)


def _uploaded_audio() -> bytes:
    """The audio of an upload: the multipart field `file`, or a raw audio/* body. Its
    format is recognised later from the content, never from names or types."""
    request.max_content_length = media.MAX_BYTES + _MULTIPART_SLACK
    try:
        if request.mimetype == "multipart/form-data":
            upload = request.files.get("file")
            if upload is None:
                raise media.MediaInvalid("send the audio in the multipart field 'file'")
            return upload.read(media.MAX_BYTES + 1)
        if request.mimetype.startswith("audio/") or request.mimetype == "application/octet-stream":
            return request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise media.MediaTooLarge(
            f"the file is larger than {media.MAX_BYTES // (1024 * 1024)} MiB"
        ) from None
    raise UnsupportedMediaType(
        "send the audio as multipart/form-data (field 'file') or as a raw audio/* body"
    )


@blueprint.get("/tenants/<domain>/media")
def list_media(domain: str) -> Any:
    with transaction() as session:
        items = service.list_media(session, visible(domain))
        return answer(api_models.MediaList(media=[item.as_response() for item in items]))


@blueprint.post(_MEDIA_ITEM)
def upload_media(domain: str, kind: str, name: str) -> Any:
    visible(domain)
    data = _uploaded_audio()
    with transaction() as session:
        item, created = service.upload_media(session, _media_store(), domain, kind, name, data)
    return answer(item.as_response(), 201 if created else 200)


@blueprint.delete(_MEDIA_ITEM)
def delete_media(domain: str, kind: str, name: str) -> Any:
    with transaction() as session:
        service.delete_media(session, _media_store(), visible(domain), kind, name)
    return Response(status=204)


# --- queues: agents log in and out ------------------------------------------------
_QUEUE_AGENT = "/tenants/<domain>/queues/<queue>/agents/<extension>"


@blueprint.get("/tenants/<domain>/queues")
def list_queues(domain: str) -> Any:
    with transaction() as session:
        return answer(
            api_models.QueueList(queues=queue_agents.list_queues(session, visible(domain)))
        )


@blueprint.post(_QUEUE_AGENT + "/login")
def agent_login(domain: str, queue: str, extension: str) -> Any:
    with transaction() as session:
        return answer(queue_agents.set_logged_in(session, visible(domain), queue, extension, True))


@blueprint.post(_QUEUE_AGENT + "/logout")
def agent_logout(domain: str, queue: str, extension: str) -> Any:
    with transaction() as session:
        return answer(queue_agents.set_logged_in(session, visible(domain), queue, extension, False))


# --- hunt groups: members logged in or out ------------------------------------------
_GROUP = "/tenants/<domain>/groups/<name>"


@blueprint.get("/tenants/<domain>/groups")
def list_groups(domain: str) -> Any:
    with transaction() as session:
        found = groups.list_groups(session, visible(domain))
        return answer(api_models.GroupList(groups=[group.as_response() for group in found]))


@blueprint.post(f"{_GROUP}/members/<extension>/login")
def member_login(domain: str, name: str, extension: str) -> Any:
    with transaction() as session:
        state = groups.set_logged_in(session, visible(domain), name, extension, True)
        return answer(state.as_response())


@blueprint.post(f"{_GROUP}/members/<extension>/logout")
def member_logout(domain: str, name: str, extension: str) -> Any:
    with transaction() as session:
        state = groups.set_logged_in(session, visible(domain), name, extension, False)
        return answer(state.as_response())


@blueprint.post(f"{_GROUP}/logout-all")
def group_logout_all(domain: str, name: str) -> Any:
    with transaction() as session:
        return answer(groups.log_out_all(session, visible(domain), name).as_response())


# --- descriptions -----------------------------------------------------------------
@blueprint.get("/schema/tenant.json")
def tenant_schema() -> Any:
    return jsonify(json_schema())


@blueprint.get("/openapi.json")
def openapi() -> Any:
    from provisioning.openapi import openapi_document

    return jsonify(openapi_document())
