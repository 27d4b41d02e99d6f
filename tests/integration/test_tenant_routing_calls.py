"""Numbers routed by schedule, speed dials and directory codes, end to end: a stored
tenant, POST /xmlcurl with requests shaped exactly as FreeSWITCH sends them."""

import copy

import pytest

from provisioning.calendar import WEEKDAYS
from tests.conftest import apply_raw
from tests.integration.test_xmlcurl import actions, dialplan
from tests.unit.routing_tenant import RAW

DOMAIN = "127.0.0.1"  # the domain of the captured requests


def stored_document() -> dict:
    """The routing tenant on the fixtures' domain, with routes that do not depend on
    the day the tests run: one schedule always in force, one never."""
    raw = copy.deepcopy(RAW)
    raw["domain"] = DOMAIN
    raw["holidays"] = []
    raw["schedules"] = [
        {"name": "Always", **{day: ["00:00-24:00"] for day in WEEKDAYS}},
        {"name": "Never"},
    ]
    raw["numbers"][0]["routes"] = [
        {"schedule": "Never", "to": {"user": "1000"}},
        {"schedule": "Always", "to": {"group": "Sales"}},
    ]
    raw["numbers"][1] = {
        "number": "+33184800101",
        "routes": [{"schedule": "Never", "to": {"user": "1000"}}],
        "otherwise": {"voicemail": "1001"},
    }
    raw["numbers"].append({"number": "+33184800103", "user": "1000"})
    return raw


@pytest.fixture
def routing_tenant(engine) -> dict:
    raw = stored_document()
    apply_raw(engine, raw)
    return raw


def test_public_call_goes_to_the_route_in_force(client, routing_tenant):
    root = dialplan(client, "0184800100", context="public")
    assert actions(root) == [
        ("set", "centrex_from_public=true"),
        ("set", "centrex_unit_chain=2000"),
        ("transfer", f"2000 XML {DOMAIN}"),
    ]


def test_public_call_outside_every_route_goes_otherwise(client, routing_tenant):
    root = dialplan(client, "+33184800101", context="public")
    assert actions(root) == [
        ("set", "centrex_from_public=true"),
        ("answer", None),
        ("voicemail", f"default {DOMAIN} 1001"),
    ]


def test_public_number_with_a_user_still_rings_it(client, routing_tenant):
    assert ("bridge", f"user/1000@{DOMAIN}") in actions(dialplan(client, "0184800103", "public"))


def test_public_number_routed_nowhere_is_rejected(client, routing_tenant):
    assert actions(dialplan(client, "0184800102", context="public")) == [
        ("hangup", "NO_ROUTE_DESTINATION")
    ]


def test_call_handed_in_from_outside_cannot_call_out(client, routing_tenant):
    # The captured request is authenticated as 1001: a line, so it may call out…
    line = actions(dialplan(client, "0612345678"))
    assert ("bridge", f"sofia/gateway/{DOMAIN}/+33612345678") in line
    # …but not once the call came from outside and was handed in.
    for dialled in ("0612345678", "550", "##3435"):
        handed_in = actions(dialplan(client, dialled, centrex_from_public="true"))
        assert handed_in == [("hangup", "UNALLOCATED_NUMBER")], dialled


@pytest.mark.parametrize(
    ("dialled", "number"),
    [("550", "+33970711058"), ("##3435", "+33145454545"), ("551", "+33899123456")],
)
def test_speed_dials_and_directory_codes_call_out_for_every_user(
    client, routing_tenant, dialled, number
):
    # The captured caller, 1001, withholds their number and may call premium numbers.
    got = actions(dialplan(client, dialled))
    assert ("bridge", f"sofia/gateway/{DOMAIN}/{number}") in got
    assert ("set", "effective_caller_id_number=anonymous") in got


def test_speed_dial_to_a_barred_category_is_refused(client, routing_tenant):
    barred = actions(dialplan(client, "551", user_name="1000"))
    assert barred[-1] == ("hangup", "OUTGOING_CALL_BARRED")
    assert not any(app == "bridge" for app, _ in barred)
    allowed = actions(dialplan(client, "550", user_name="1000"))
    assert ("set", "effective_caller_id_number=+33184800100") in allowed


def test_speed_dial_codes_follow_the_document(client, routing_tenant, engine):
    changed = copy.deepcopy(routing_tenant)
    changed["speed_dials"] = [{"code": "550", "number": "0145454546"}]
    apply_raw(engine, changed)
    assert ("bridge", f"sofia/gateway/{DOMAIN}/+33145454546") in actions(dialplan(client, "550"))


@pytest.mark.parametrize("uploaded", [True, False])
def test_an_announcement_plays_the_uploaded_file_else_the_stock_prompt(
    client, engine, settings, uploaded
):
    from sqlalchemy import select

    from provisioning.media import ANNOUNCEMENT, media_path
    from provisioning.models import Media, Tenant

    raw = stored_document()
    raw["numbers"][1]["otherwise"] = {"announcement": "closed"}
    apply_raw(engine, raw)
    path = media_path(DOMAIN, ANNOUNCEMENT, "closed")
    if uploaded:
        with engine.begin() as conn:
            tenant_id = conn.scalar(select(Tenant.id).where(Tenant.domain == DOMAIN))
            conn.execute(
                Media.__table__.insert().values(
                    tenant_id=tenant_id,
                    kind=ANNOUNCEMENT,
                    name="closed",
                    path=path,
                    duration_ms=1000,
                    size=100,
                )
            )
    played = [
        arg for app, arg in actions(dialplan(client, "+33184800101", "public")) if app == "playback"
    ]
    expected = f"{settings.effective_media_dir}/{path}"
    assert (played[0] == expected) is uploaded
    assert len(played) == 1
