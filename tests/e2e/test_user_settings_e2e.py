"""One user changed alone through the REST API (PATCH with a JSON merge patch), on a real
FreeSWITCH: the phone registers with the new SIP password at once, no longer with the
old one, and a change made from the old version is refused."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any

import pytest

from centrex.db import make_session_factory
from provisioning import service
from tests.e2e.conftest import DOMAIN, Centrex, Node, free_port
from tests.e2e.test_freeswitch import PASSWORDS, register, registered, unregister

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "Bob-Changed-Pass-2027"


def _request(centrex: Centrex, token: str, method: str, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{centrex.url}/api/v1/tenants/{DOMAIN}/users/1002",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/merge-patch+json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def test_a_password_patched_alone_is_the_one_the_phone_registers_with(
    centrex: Centrex, freeswitch: Node
):
    with make_session_factory(centrex.engine).begin() as session:
        token = service.create_token(session, "e2e-user-settings", DOMAIN)
    status, seen = _request(centrex, token, "GET")
    assert status == 200
    change = {"sip_password": NEW_PASSWORD, "version": seen["version"]}
    status, answer = _request(centrex, token, "PATCH", change)
    assert status == 200 and answer["version"] == seen["version"] + 1, answer
    try:
        port = free_port(socket.SOCK_DGRAM)
        old = register(freeswitch, "1002", port, password=PASSWORDS["1002"], expect=403)
        assert old.returncode == 0, old.stdout.decode()[-2000:]
        assert not registered(freeswitch, "1002")
        new = register(freeswitch, "1002", port, password=NEW_PASSWORD)
        assert new.returncode == 0, new.stdout.decode()[-2000:]
        assert registered(freeswitch, "1002")
        unregister(freeswitch, "1002")
        # Made from the version before: refused, and the password stays the new one.
        stale = {"sip_password": PASSWORDS["1002"], "version": seen["version"]}
        status, refused = _request(centrex, token, "PATCH", stale)
        assert status == 409, refused
        again = register(freeswitch, "1002", port, password=NEW_PASSWORD)
        assert again.returncode == 0, again.stdout.decode()[-2000:]
        unregister(freeswitch, "1002")
    finally:
        # The session's other tests register 1002 with the demo's password.
        status, _ = _request(centrex, token, "PATCH", {"sip_password": PASSWORDS["1002"]})
        assert status == 200
