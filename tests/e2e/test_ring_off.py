"""A simultaneous ring switched off on the panel's ringing tab, on a real FreeSWITCH:
the line rings alone (the kept number is not offered the call), and ticked again
without retyping, the kept number rings with the line once more."""

from __future__ import annotations

import time

import lxml.html
import pytest
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from tests.e2e.conftest import Centrex, Node, stop
from tests.e2e.test_freeswitch import call, phone, phone_saw, unregister
from tests.e2e.test_panel_ringing import PAGE
from tests.e2e.test_panel_ringing import panel as panel
from tests.integration.test_panel import stored_handling

pytestmark = pytest.mark.e2e


def save(client: FlaskClient, ticked: bool, **fields: str) -> None:
    """The page's form as shown, the simultaneous ring's box ticked or not."""
    page = lxml.html.fromstring(client.get(PAGE).text)
    (form,) = [f for f in page.forms if f.action == PAGE]
    data = MultiDict(form.form_values())
    data.pop("simultaneous", None)
    if ticked:
        data["simultaneous"] = "y"
    for name, value in fields.items():
        data[name] = value
    answer = client.post(PAGE, data=data)
    assert answer.status_code == 302, answer.text


def test_a_simultaneous_ring_off_rings_the_line_alone_and_on_again_as_it_was(
    panel: FlaskClient, centrex: Centrex, freeswitch: Node
):
    save(panel, True, **{"simultaneous_numbers-0": "1000"})
    save(panel, False)
    assert stored_handling(centrex.engine, "1001") == {
        "simultaneous_ring": {"enabled": False, "numbers": ["1000"]}
    }

    # Off: 1001 takes the call; 1000, which would answer at once, is never offered it.
    trace = freeswitch.workdir / "phone-1000-200.messages"
    trace.unlink(missing_ok=True)
    colleague = phone(freeswitch, "1000", 200)
    own = phone(freeswitch, "1001", 200)
    result = call(freeswitch, "1002", "1001", 200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert phone_saw(freeswitch, own, "phone-1001-200", "BYE sip:")
    stop(colleague)
    assert "INVITE sip:" not in (trace.read_text() if trace.exists() else "")
    unregister(freeswitch, "1000")
    unregister(freeswitch, "1001")

    # Ticked again, nothing typed: 1000 rings with the line and answers at once.
    save(panel, True)
    assert stored_handling(centrex.engine, "1001") == {"simultaneous_ring": {"numbers": ["1000"]}}
    silent = phone(freeswitch, "1001", 0)
    answering = phone(freeswitch, "1000", 200)
    started = time.monotonic()
    result = call(freeswitch, "1002", "1001", 200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert phone_saw(freeswitch, answering, "phone-1000-200", "BYE sip:")
    assert phone_saw(freeswitch, silent, "phone-1001-0", "CANCEL sip:")
    assert time.monotonic() - started < 5  # together: 1000 answered at once
    unregister(freeswitch, "1000")
    unregister(freeswitch, "1001")
