"""What a line is doing and what it can take: one rule for routing, groups and the
activity view."""

import pytest

from provisioning.line_status import call_limit, is_busy, line_state


@pytest.mark.parametrize(
    "active, ringing, state",
    [(0, 0, "idle"), (1, 1, "ringing"), (2, 2, "ringing"), (1, 0, "busy"), (2, 1, "busy")],
)
def test_line_state(active, ringing, state):
    assert line_state(active, ringing) == state


@pytest.mark.parametrize(
    "active, limit, waiting, busy",
    [
        (0, 3, True, False),
        (2, 3, True, False),
        (3, 3, True, True),
        (0, 3, False, False),
        (1, 3, False, True),  # without call waiting one call makes the line busy
        (1, 1, True, True),
    ],
)
def test_a_line_is_busy_at_its_call_limit(active, limit, waiting, busy):
    assert is_busy(active, limit, waiting) is busy
    assert call_limit(limit, waiting) == (limit if waiting else 1)
