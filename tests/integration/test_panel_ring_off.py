"""A simultaneous or sequential ring switched off keeps its numbers: through the panel's
ringing tab (off, then on again as it was), the REST API (a merge patch of the user,
the call-handling PUT) and the document's apply and export; the next dialplan fetch
rings the plain line while it is off."""

import lxml.html
import pytest

from admin.languages import COOKIE
from provisioning import service
from provisioning.document import dump_document, dump_text, load_text
from tests.conftest import apply_raw, demo_document
from tests.integration.test_panel import PASSWORDS, log_in, shown, stored_handling
from tests.integration.test_panel import panel as panel
from tests.integration.test_panel_ringing import PAGE, bridges, ringing, set_handling
from tests.integration.test_xmlcurl import dialplan

DOMAIN = "127.0.0.1"
MERGE_PATCH = "application/merge-patch+json"
PLAIN = ["user/1001@127.0.0.1"]
SIMULTANEOUS = {"numbers": ["+33612345678", "1002"], "skip_when_on_call": True}
SEQUENTIAL = {"own_rings": 2, "steps": [{"number": "1002", "rings": 1}]}


def test_the_panel_turns_a_ring_off_and_on_again_without_retyping(panel, client, engine):
    set_handling(engine, "1001", {"simultaneous_ring": SIMULTANEOUS, "sequential_ring": SEQUENTIAL})
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    (ring,) = bridges(dialplan(client, "1001"))
    assert ring.startswith("user/1001@127.0.0.1,")

    assert ringing(panel, "1001", simultaneous=False, sequential=False).status_code == 302
    assert stored_handling(engine, "1001") == {
        "simultaneous_ring": {**SIMULTANEOUS, "enabled": False},
        "sequential_ring": {**SEQUENTIAL, "enabled": False},
    }
    assert bridges(dialplan(client, "1001")) == PLAIN
    page = panel.get(PAGE.format("1001")).text
    # Shown unticked, the numbers in their rows, and the page says they are kept.
    assert 'value="06 12 34 56 78"' in page and 'value="1002"' in page
    boxes = lxml.html.fromstring(page).xpath("//input[@id='simultaneous' or @id='sequential']")
    assert len(boxes) == 2 and not any(box.checked for box in boxes)
    assert "its numbers are kept" in shown(page)

    # Ticked again from the page as shown: the rings are back as they were.
    assert ringing(panel, "1001", simultaneous=True, sequential=True).status_code == 302
    assert stored_handling(engine, "1001") == {
        "simultaneous_ring": SIMULTANEOUS,
        "sequential_ring": SEQUENTIAL,
    }
    (ring,) = bridges(dialplan(client, "1001"))
    assert ring == "user/1001@127.0.0.1,sofia/gateway/127.0.0.1/+33612345678,user/1002@127.0.0.1"


def test_the_page_says_it_in_french(panel, engine):
    set_handling(engine, "1001", {"simultaneous_ring": {**SIMULTANEOUS, "enabled": False}})
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    panel.set_cookie(COOKIE, "fr")
    page = shown(panel.get(PAGE.format("1001")).text)
    assert "la sonnerie est désactivée et ses numéros sont conservés" in page


def test_a_ring_off_with_its_numbers_blanked_is_removed(panel, engine):
    set_handling(engine, "1001", {"sequential_ring": SEQUENTIAL})
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    saved = ringing(panel, "1001", sequential=False, **{"sequential_steps-0-number": ""})
    assert saved.status_code == 302
    assert "sequential_ring" not in stored_handling(engine, "1001")


def test_a_ring_off_keeps_its_numbers_checked(panel, engine):
    """Switched off, a barred number is refused beside its row all the same: switched on
    again, it would ring with no other check."""
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    refused = ringing(panel, "1001", **{"simultaneous_numbers-1": "+41 44 668 18 00"})
    assert refused.status_code == 400
    assert "international numbers are not among" in refused.text
    assert "simultaneous_ring" not in stored_handling(engine, "1001")


@pytest.fixture
def own(session, demo_tenant):
    token = service.create_token(session, "own", DOMAIN)
    session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_a_rest_merge_patch_turns_a_ring_off_and_keeps_its_numbers(client, engine, own):
    url = f"/api/v1/tenants/{DOMAIN}/users/1001"
    version = client.get(url, headers=own).json["version"]
    on = {"call_handling": {"simultaneous_ring": SIMULTANEOUS}, "version": version}
    assert client.patch(url, headers=own, json=on, content_type=MERGE_PATCH).status_code == 200
    assert len(bridges(dialplan(client, "1001"))[0].split(",")) == 3

    off = {"call_handling": {"simultaneous_ring": {"enabled": False}}}
    answer = client.patch(url, headers=own, json=off, content_type=MERGE_PATCH)
    assert answer.status_code == 200
    kept = {**SIMULTANEOUS, "enabled": False}
    assert client.get(url, headers=own).json["call_handling"] == {"simultaneous_ring": kept}
    handling_url = f"{url}/call-handling"
    assert client.get(handling_url, headers=own).json["call_handling"] == {
        "simultaneous_ring": kept
    }
    assert bridges(dialplan(client, "1001")) == PLAIN

    # On again by the call-handling PUT: `enabled: true` is the default, not written.
    again = {"call_handling": {"simultaneous_ring": {**kept, "enabled": True}}}
    assert client.put(handling_url, headers=own, json=again).status_code == 200
    assert stored_handling(engine, "1001") == {"simultaneous_ring": SIMULTANEOUS}
    assert len(bridges(dialplan(client, "1001"))[0].split(",")) == 3

    barred = {
        "call_handling": {
            "sequential_ring": {"enabled": False, "steps": [{"number": "+41446681800"}]}
        }
    }
    refused = client.patch(url, headers=own, json=barred, content_type=MERGE_PATCH)
    assert refused.status_code == 422
    assert refused.json["problems"][0]["path"] == "call_handling.sequential_ring.steps[0].number"


def test_apply_and_export_round_trip_a_ring_that_is_off(engine, session):
    raw = demo_document()
    alice = next(u for u in raw["users"] if u["extension"] == "1001")
    alice["call_handling"] = {
        "simultaneous_ring": {"enabled": True, "numbers": ["06 12 34 56 78"]},
        "sequential_ring": {"enabled": False, "steps": [{"number": "1002"}]},
    }
    apply_raw(engine, raw)
    exported = dump_document(service.export_document(session, DOMAIN))
    handling = exported["users"][1]["call_handling"]
    assert handling == {
        "simultaneous_ring": {"numbers": ["+33612345678"]},
        "sequential_ring": {"enabled": False, "steps": [{"number": "1002"}]},
    }
    text = dump_text(exported)
    assert not apply_raw(engine, load_text(text)).changed
    assert dump_document(service.export_document(session, DOMAIN)) == exported
