"""Waiting in tests for what another process does."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def until(condition: Callable[[], Any], timeout: float = 20.0, step: float = 0.02) -> Any:
    """`condition()`'s first true value, polled every `step` s; AssertionError after
    `timeout` s."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(step)
    return result
