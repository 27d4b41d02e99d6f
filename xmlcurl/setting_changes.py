"""Settings changed from a phone: a route's `SettingChange` (a star code, compiled by
`xmlcurl.star_codes`) made before the route is rendered.

Each change goes through the use case the panel and the API use for the same setting
(`provisioning.line_settings`, `provisioning.queue_agents`), so a forward set from the
keypad meets the same rules as one typed in the document: barring, forwarding loops,
valid numbers. A change those rules refuse writes nothing, and the caller hears the
refusal the route carries instead of the confirmation. Why here and not in the event
listener (as group log-ins are): the caller must hear whether it worked, and only the
fetch that answers them can know it in time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from provisioning import line_settings, queue_agents
from provisioning.document import DocumentInvalid
from provisioning.lookup import NotFound
from xmlcurl.decisions import (
    DoNotDisturbChange,
    ForwardChange,
    QueueLogInChange,
    QueuePauseChange,
    Route,
    SettingChange,
)

log = logging.getLogger(__name__)


def _forward(session: Session, setting: SettingChange) -> None:
    change = setting.change
    assert isinstance(change, ForwardChange)
    line_settings.set_forward(
        session, setting.domain, setting.extension, change.kind, change.on, change.to
    )


def _do_not_disturb(session: Session, setting: SettingChange) -> None:
    change = setting.change
    assert isinstance(change, DoNotDisturbChange)
    line_settings.set_do_not_disturb(session, setting.domain, setting.extension, change.on)


def _queue_log_in(session: Session, setting: SettingChange) -> None:
    change = setting.change
    assert isinstance(change, QueueLogInChange)
    queue_agents.set_logged_in_by_number(
        session, setting.domain, change.queue, setting.extension, change.logged_in
    )


def _queue_pause(session: Session, setting: SettingChange) -> None:
    change = setting.change
    assert isinstance(change, QueuePauseChange)
    queue_agents.set_paused(session, setting.domain, setting.extension, change.paused)


_APPLY: dict[type, Callable[[Session, SettingChange], Any]] = {
    ForwardChange: _forward,
    DoNotDisturbChange: _do_not_disturb,
    QueueLogInChange: _queue_log_in,
    QueuePauseChange: _queue_pause,
}


def make_change(sessions: sessionmaker[Session], route: Route) -> Route:
    """Make the change `route` asks for: the route to render (its own, or its refusal).
    A change that meets another made meanwhile is tried once more on the new state."""
    setting = route.change
    if setting is None:
        return route
    for attempt in (1, 2):
        try:
            with sessions.begin() as session:
                _APPLY[type(setting.change)](session, setting)
            break
        except line_settings.StaleVersion:
            if attempt == 2:
                return _refused(route, setting, "changed meanwhile")
        except (DocumentInvalid, NotFound) as refused:
            return _refused(route, setting, str(refused).replace("\n", "; "))
    log.info("%s@%s: %s", setting.extension, setting.domain, route.name)
    return replace(route, change=None)


def _refused(route: Route, setting: SettingChange, why: str) -> Route:
    log.info("%s@%s: %s refused: %s", setting.extension, setting.domain, route.name, why)
    return Route(route.context, route.destination, f"{route.name}: refused", setting.refused)
