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

from flask import Blueprint, Response, current_app, jsonify

from provisioning.api import json_body, require_token, transaction, visible
from provisioning.api_errors import answer_domain_errors
from provisioning.errors import said
from provisioning.service import find_line

from .clicktocall import CallNotPlaced, DestinationRefused, place_call

blueprint = Blueprint("clicktocall", __name__)
answer_domain_errors(
    blueprint,
    {DestinationRefused: (422, "destination_refused"), CallNotPlaced: (503, "not_placed")},
)


@blueprint.before_request
def _authenticate() -> None:
    require_token()


@blueprint.post("/tenants/<domain>/users/<extension>/call")
def call(domain: str, extension: str) -> tuple[Response, int]:
    body = json_body()
    destination = body.get("destination") if isinstance(body, dict) else None
    if not isinstance(destination, str):
        raise DestinationRefused(
            said("destination_required", 'a destination is required: {"destination": "…"}'),
            path="destination",
        )
    switch_for_user = current_app.extensions["centrex.switch_for_user"]
    with transaction() as session:
        _, user = find_line(session, visible(domain), extension)
        placed = place_call(session, switch_for_user(user.id), domain, extension, destination)
    return jsonify(
        job_uuid=placed.job_uuid,
        call_uuid=placed.call_uuid,
        node=placed.node,
        destination=placed.destination,
    ), 202
