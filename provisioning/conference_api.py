"""`/api/v1/tenants/<domain>/conferences`: the tenant's meet-me rooms one by one.

Served beside the REST API, with its tokens and errors; a change reads and writes the
rooms alone, checked as the document checks them (`provisioning.conference_rooms`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from provisioning import api_models, conference_rooms
from provisioning.api import answer, domain_errors, json_body, require_token, transaction, visible
from provisioning.api_errors import answer_domain_errors
from provisioning.document import DocumentInvalid, Problem

blueprint = Blueprint("conferences", __name__)
answer_domain_errors(blueprint)


@blueprint.before_request
def _authenticate() -> None:
    require_token()


def _report(report: Any) -> Any:
    return answer(api_models.ApplyReport(dry_run=False, **report.as_dict()))


@blueprint.get("/tenants/<domain>/conferences")
@domain_errors
def list_conferences(domain: str) -> Any:
    with transaction() as session:
        rooms = conference_rooms.list_rooms(session, visible(domain))
        return answer(api_models.ConferenceList(conferences=rooms))


@blueprint.get("/tenants/<domain>/conferences/<name>")
@domain_errors
def get_conference(domain: str, name: str) -> Any:
    with transaction() as session:
        room = conference_rooms.find_room(session, visible(domain), name)
        return jsonify(room.model_dump(mode="json", exclude_defaults=True))


@blueprint.put("/tenants/<domain>/conferences/<name>")
@domain_errors
def put_conference(domain: str, name: str) -> Any:
    raw = json_body()
    if raw is None:
        raise DocumentInvalid([Problem("", "the request body must be a JSON document")])
    if isinstance(raw, dict):
        raw.setdefault("name", name)
    with transaction() as session:
        return _report(conference_rooms.put_room(session, visible(domain), name, raw))


@blueprint.delete("/tenants/<domain>/conferences/<name>")
@domain_errors
def delete_conference(domain: str, name: str) -> Any:
    with transaction() as session:
        return _report(conference_rooms.delete_room(session, visible(domain), name))
