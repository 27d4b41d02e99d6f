"""A line's selective lists on a real FreeSWITCH, saved as the panel saves them (the
one-user use case): a colleague on the rejection list is refused (603, no voicemail),
and rings through once the list is switched off, kept as it is."""

from __future__ import annotations

from typing import Any

import pytest

from centrex.db import make_session_factory
from provisioning import line_settings
from tests.e2e.conftest import DOMAIN, Centrex, Node
from tests.e2e.test_freeswitch import call, phone, phone_saw, unregister

pytestmark = pytest.mark.e2e


def _set(centrex: Centrex, handling: dict[str, Any]) -> None:
    with make_session_factory(centrex.engine).begin() as session:
        line_settings.set_call_handling(session, DOMAIN, "1000", handling, version=None)


def test_a_rejected_colleague_is_refused_and_rings_once_the_list_is_off(
    centrex: Centrex, freeswitch: Node
):
    uas = None
    try:
        _set(centrex, {"selective": {"reject": {"extensions": ["1001"]}}})
        refused = call(freeswitch, "1001", "1000", expect=603)
        assert refused.returncode == 0, refused.stdout.decode()[-2000:]

        _set(centrex, {"selective": {"reject": {"extensions": ["1001"], "enabled": False}}})
        uas = phone(freeswitch, "1000", 200)
        answered = call(freeswitch, "1001", "1000", expect=200)
        assert answered.returncode == 0, answered.stdout.decode()[-2000:]
        assert phone_saw(freeswitch, uas, "phone-1000-200", "BYE sip:")
    finally:
        _set(centrex, {})
        if uas is not None:
            unregister(freeswitch, "1000")
