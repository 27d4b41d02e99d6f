"""The weekly planner saved from the panel, on a real FreeSWITCH: while a period applying
a rejecting rule list is in force, a call to the line is declined (603); planned for
another time, the same call rings the line's phone and is answered."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from centrex.app import create_app
from centrex.db import make_session_factory
from provisioning import accounts, line_settings
from provisioning import calendar as cal
from provisioning.models import Tenant
from tests.e2e.conftest import DOMAIN, Centrex, Node
from tests.e2e.test_freeswitch import call, phone, phone_saw, unregister

pytestmark = pytest.mark.e2e

PASSWORD = "Maple-4729-Cedar!"
PAGE = "/panel/lines/1001/planner"


def _quarters_around_now(timezone: str) -> tuple[str, str, str]:
    """Today's weekday in the tenant's time, and an hour around now on quarter hours."""
    now = cal.local(datetime.now(UTC), timezone)
    minute = now.hour * 60 + now.minute
    start = max(0, minute // 15 * 15 - 15)
    end = min(24 * 60, start + 60)
    return (
        cal.WEEKDAYS[now.weekday()],
        f"{start // 60:02d}:{start % 60:02d}",
        (f"{end // 60:02d}:{end % 60:02d}"),
    )


def _save_planner(client, fields: dict[str, str]) -> None:
    page = client.get(PAGE).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    version = re.search(r'name="version" value="(\d+)"', page)
    assert token and version
    answer = client.post(PAGE, data={"csrf_token": token[1], "version": version[1], **fields})
    assert answer.status_code == 302, answer.text[-3000:]


def test_a_planner_saved_in_the_panel_decides_the_next_call(centrex: Centrex, freeswitch: Node):
    sessions = make_session_factory(centrex.engine)
    with sessions.begin() as session:
        accounts.set_password(session, DOMAIN, "1001", PASSWORD)
        before = line_settings.call_handling_of(session, DOMAIN, "1001")
        line_settings.set_call_handling(
            session,
            DOMAIN,
            "1001",
            {
                **before.call_handling,
                "rule_lists": [{"name": "Refuser", "default": {"action": "reject"}}],
            },
            version=None,
        )
        timezone = session.scalar(select(Tenant.timezone).where(Tenant.domain == DOMAIN))
    app = create_app(
        replace(
            centrex.settings,
            secret_key="e2e-panel-secret-key-of-32-chars-min",
            secure_cookies=False,
        ),
        centrex.engine,
    )
    client = app.test_client()
    login = client.get("/panel/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login)
    assert token
    logged = client.post(
        "/panel/login",
        data={"number": f"1001@{DOMAIN}", "password": PASSWORD, "csrf_token": token[1]},
    )
    assert logged.status_code == 302
    day, start, end = _quarters_around_now(timezone)
    other_day = cal.WEEKDAYS[(cal.WEEKDAYS.index(day) + 3) % 7]
    try:
        _save_planner(
            client,
            {
                "period-0-name": "Pause",
                "period-0-rule_list": "Refuser",
                f"{day}-0-period": "0",
                f"{day}-0-start": start,
                f"{day}-0-end": end,
            },
        )
        refused = call(freeswitch, "1000", "1001", expect=603)
        assert refused.returncode == 0, refused.stdout.decode()[-2000:]

        # The same hour moved to another day: now outside every period, the line rings.
        _save_planner(
            client,
            {
                "period-0-name": "Pause",
                "period-0-rule_list": "Refuser",
                f"{other_day}-0-period": "0",
                f"{other_day}-0-start": start,
                f"{other_day}-0-end": end,
            },
        )
        uas = phone(freeswitch, "1001", 200)
        answered = call(freeswitch, "1000", "1001", expect=200)
        assert answered.returncode == 0, answered.stdout.decode()[-2000:]
        assert phone_saw(freeswitch, uas, "phone-1001-200", "BYE sip:")
        unregister(freeswitch, "1001")
    finally:
        with sessions.begin() as session:
            line_settings.set_call_handling(
                session, DOMAIN, "1001", before.call_handling, version=None
            )
