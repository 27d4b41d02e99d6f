"""Click-to-call over HTTP, served by the listener's own app (it holds the event sockets).

    POST /api/v1/tenants/<domain>/users/<extension>/call   {"destination": "0612345678"}

202 with the background job and the user's leg once a FreeSWITCH node took the call;
422 when the destination is invalid or barred for the line; 404 for an unknown or
invisible line; 503 when no node is connected or the node did not take it. Same bearer
tokens and tenant scoping as the REST API. The app provides its services
(`extensions["centrex"]`) and `extensions["centrex.switch_for_user"]`, a callable from a
user id to the `Switch` to use (None when no node is connected).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from provisioning.api import json_body, require_token, transaction, visible
from provisioning.service import NotFound, find_line

from .clicktocall import CallNotPlaced, DestinationRefused, place_call

blueprint = Blueprint("clicktocall", __name__)


@blueprint.before_request
def _authenticate() -> None:
    require_token()


def _error(status: int, message: str, path: str | None = None) -> tuple[Response, int]:
    body: dict[str, Any] = {"error": message}
    if path is not None:
        body["problems"] = [{"path": path, "message": message}]
    return jsonify(body), status


@blueprint.post("/tenants/<domain>/users/<extension>/call")
def call(domain: str, extension: str) -> tuple[Response, int]:
    body = json_body()
    destination = body.get("destination") if isinstance(body, dict) else None
    if not isinstance(destination, str):
        return _error(422, 'a destination is required: {"destination": "…"}', "destination")
    switch_for_user = current_app.extensions["centrex.switch_for_user"]
    try:
        with transaction() as session:
            _, user = find_line(session, visible(domain), extension)
            placed = place_call(session, switch_for_user(user.id), domain, extension, destination)
    except NotFound as exc:
        return _error(404, str(exc))
    except DestinationRefused as exc:
        return _error(422, f"{destination} {exc}", "destination")
    except CallNotPlaced as exc:
        return _error(503, str(exc))
    return jsonify(
        job_uuid=placed.job_uuid,
        call_uuid=placed.call_uuid,
        node=placed.node,
        destination=placed.destination,
    ), 202
