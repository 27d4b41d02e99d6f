"""The listener's own HTTP service: live data that needs its event sockets.

Served from the listener process (gevent), beside its connections: a tenant's activity
as a JSON snapshot and as a server-sent-event stream that pushes a new snapshot when
the tenant's live state changes, and click-to-call. Same bearer tokens as the REST API.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify
from sqlalchemy import Engine

from centrex.app import Services, json_errors
from centrex.config import Settings
from provisioning import service
from provisioning.api import require_token, visible

from .activity import UnknownTenant, tenant_activity, tenant_id_of
from .listener import Listener
from .live_api import blueprint as click_to_call
from .queue_stats import queue_statistics

blueprint = Blueprint("live", __name__)

# A stream sends a comment at least this often, so proxies keep it open and a tenant
# whose schedule turned over gets a fresh snapshot.
KEEPALIVE_SECONDS = 15.0


@blueprint.before_request
def _authenticate() -> None:
    require_token()


def _listener() -> Listener:
    listener: Listener = current_app.extensions["centrex.listener"]
    return listener


def _snapshot(listener: Listener, domain: str) -> dict[str, Any]:
    with listener.engine.connect() as conn:
        snapshot = tenant_activity(conn, domain, listener.clock())
        snapshot["queues"] = queue_statistics(conn, domain, listener)
    snapshot["nodes"] = _nodes(listener)
    return snapshot


@blueprint.get("/tenants/<domain>/activity")
def activity(domain: str) -> Response:
    try:
        snapshot = _snapshot(_listener(), visible(domain))
    except (UnknownTenant, service.NotFound):
        return _not_found(domain)
    return jsonify(snapshot)


@blueprint.get("/tenants/<domain>/activity/stream")
def activity_stream(domain: str) -> Response:
    listener = _listener()
    try:
        with listener.engine.connect() as conn:
            tenant_id = tenant_id_of(conn, visible(domain))
    except (UnknownTenant, service.NotFound):
        return _not_found(domain)

    def stream() -> Iterator[str]:
        sent = None
        while True:
            version = listener.watch.version(tenant_id)
            body = json.dumps(_snapshot(listener, domain), separators=(",", ":"))
            if body != sent:
                yield f"event: activity\nid: {version}\ndata: {body}\n\n"
                sent = body
            else:
                yield ": still here\n\n"
            listener.watch.wait(tenant_id, version, KEEPALIVE_SECONDS)

    return Response(
        stream(),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _nodes(listener: Listener) -> list[dict[str, Any]]:
    return [{"node": n.node, "connected": n.connected.is_set()} for n in listener.nodes.values()]


def _not_found(domain: str) -> Response:
    response = jsonify(error=f"no tenant {domain}")
    response.status_code = 404
    return response


def create_live_app(settings: Settings, engine: Engine, listener: Listener) -> Flask:
    app = Flask("centrex.live")
    app.extensions["centrex"] = Services.of(settings, engine)
    app.extensions["centrex.listener"] = listener
    app.extensions["centrex.switch_for_user"] = listener.switch_for_user
    app.register_blueprint(blueprint, url_prefix="/api/v1")
    app.register_blueprint(click_to_call, url_prefix="/api/v1")
    json_errors(app)

    @app.get("/healthz")
    def healthz() -> Response:
        nodes = _nodes(listener)
        status = "ok" if all(n["connected"] for n in nodes) else "degraded"
        return jsonify(status=status, nodes=nodes)

    return app
