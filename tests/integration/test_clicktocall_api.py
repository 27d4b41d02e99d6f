"""Click-to-call over HTTP: the blueprint mounted in an app built like the listener's,
with a recording Switch standing in for the connected FreeSWITCH node."""

import pytest
from flask import Flask
from sqlalchemy import select

from centrex.app import Services, json_errors
from centrex.db import make_session_factory
from esl.live_api import blueprint
from provisioning import service
from provisioning.models import User
from tests.conftest import apply_raw, demo_document
from tests.recording_switch import RecordingSwitch

DOMAIN = "127.0.0.1"
OTHER = "pbx.other.example"
URL = f"/api/v1/tenants/{DOMAIN}/users/1001/call"


class Nodes:
    """What the listener hands the app: a user id → the node to use (None: none up)."""

    def __init__(self, switch: RecordingSwitch | None) -> None:
        self.switch = switch
        self.asked: list[int] = []

    def __call__(self, user_id: int) -> RecordingSwitch | None:
        self.asked.append(user_id)
        return self.switch


@pytest.fixture
def nodes():
    return Nodes(RecordingSwitch())


@pytest.fixture
def live_client(settings, engine, nodes):
    app = Flask("test.live")
    app.extensions["centrex"] = Services.of(settings, engine)
    app.extensions["centrex.switch_for_user"] = nodes
    app.register_blueprint(blueprint, url_prefix="/api/v1")
    json_errors(app)
    return app.test_client()


@pytest.fixture
def headers(session, demo_tenant, engine):
    apply_raw(engine, demo_document(OTHER, numbers=[], main_number=None, users=[]))
    tokens = {
        "tenant": service.create_token(session, "tenant", DOMAIN),
        "other": service.create_token(session, "other", OTHER),
    }
    session.commit()
    return {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}


def test_a_call_is_placed_on_the_users_node_and_answered_202(live_client, headers, nodes, engine):
    answer = live_client.post(URL, headers=headers["tenant"], json={"destination": "0612345678"})
    assert answer.status_code == 202, answer.json
    body = answer.json
    assert body["node"] == "fs1.example:8021" and body["destination"] == "+33612345678"
    [command] = nodes.switch.commands
    assert command.startswith(f"bgapi uuid:{body['job_uuid']} originate {{")
    assert f"origination_uuid={body['call_uuid']}," in command
    assert command.endswith(f"}}user/1001@{DOMAIN} +33612345678 XML {DOMAIN}")
    with make_session_factory(engine).begin() as session:
        alice = session.scalar(select(User.id).where(User.extension == "1001"))
    assert nodes.asked == [alice]


def test_a_colleague_is_called_by_extension(live_client, headers, nodes):
    answer = live_client.post(URL, headers=headers["tenant"], json={"destination": "1002"})
    assert answer.status_code == 202
    assert nodes.switch.commands[0].endswith(f"user/1001@{DOMAIN} 1002 XML {DOMAIN}")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"destination": "+442079460000"}, "+442079460000 is barred for this line (international"),
        ({"destination": "0612345678,user/1002"}, "must be digits"),
        ({"destination": "9999"}, "neither an extension"),
        ({"destination": 612345678}, "a destination is required"),
        ({}, "a destination is required"),
    ],
)
def test_invalid_or_barred_destinations_are_422_and_nothing_is_sent(
    live_client, headers, nodes, body, message
):
    answer = live_client.post(URL, headers=headers["tenant"], json=body)
    assert answer.status_code == 422
    assert message in answer.json["error"]
    assert answer.json["problems"][0]["path"] == "destination"
    assert nodes.switch.commands == []


def test_no_connected_node_is_503(live_client, headers, nodes):
    nodes.switch = None
    answer = live_client.post(URL, headers=headers["tenant"], json={"destination": "1002"})
    assert answer.status_code == 503
    assert answer.json == {
        "error": "no FreeSWITCH node is connected",
        "code": "no_node",
        "params": {},
    }


def test_a_node_that_drops_the_command_is_503(live_client, headers, nodes):
    nodes.switch.failures = 1
    answer = live_client.post(URL, headers=headers["tenant"], json={"destination": "1002"})
    assert answer.status_code == 503
    assert "did not take the call" in answer.json["error"]


def test_validation_comes_before_the_node(live_client, headers, nodes):
    nodes.switch = None
    answer = live_client.post(URL, headers=headers["tenant"], json={"destination": "abc"})
    assert answer.status_code == 422


def test_tokens_and_scopes_apply(live_client, headers, nodes):
    destination = {"destination": "1002"}
    assert live_client.post(URL, json=destination).status_code == 401
    assert live_client.post(URL, headers=headers["other"], json=destination).status_code == 404
    unknown = f"/api/v1/tenants/{DOMAIN}/users/1999/call"
    assert live_client.post(unknown, headers=headers["tenant"], json=destination).status_code == 404
    assert nodes.switch.commands == []
