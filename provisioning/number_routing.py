"""Which of a public number's routes takes a call at a given instant.

Pure. The call path (`xmlcurl.public`), the routing API and the configuration summary
all ask `route_in_force`, so that what the API shows is what calls do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from provisioning import calendar as cal
from provisioning.document import DEFAULT_SCHEDULE, DEFAULT_SCHEDULE_PERIODS, TenantDoc
from provisioning.tenant_routing import Destination, NumberRoute


def calendar_of(doc: TenantDoc) -> cal.TenantCalendar:
    """The calendar of a tenant document (its stored form, as the call path reads it)."""
    schedules = [s.model_dump(mode="json", exclude_defaults=True) for s in doc.schedules]
    holidays = [h.model_dump(mode="json", by_alias=True, exclude_none=True) for h in doc.holidays]
    return cal.TenantCalendar(
        doc.timezone,
        cal.holidays_from_document(holidays),
        cal.schedules_from_document(schedules, DEFAULT_SCHEDULE, DEFAULT_SCHEDULE_PERIODS),
    )


@dataclass(frozen=True)
class NumberRouting:
    """A number's routes by schedule, in order, and where calls go outside all of them."""

    routes: tuple[NumberRoute, ...] = ()
    otherwise: Destination | None = None

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> NumberRouting:
        """From the stored form `{"routes": [...], "otherwise": {...}}`."""
        otherwise = stored.get("otherwise")
        return cls(
            tuple(NumberRoute.model_validate(r) for r in stored.get("routes", ())),
            None if otherwise is None else Destination.model_validate(otherwise),
        )

    @property
    def configured(self) -> bool:
        return bool(self.routes) or self.otherwise is not None


@dataclass(frozen=True)
class InForce:
    """The route taking calls (its index), or None for "otherwise"; and its destination
    (None: the number routes calls nowhere at this instant)."""

    index: int | None
    destination: Destination | None


def route_in_force(
    routes: Sequence[NumberRoute],
    otherwise: Destination | None,
    calendar: cal.TenantCalendar,
    when: datetime,
) -> InForce:
    """The first route whose schedule is in force at `when` (tenant's wall clock,
    holidays closed) takes the call; otherwise the "outside every schedule" one."""
    for index, route in enumerate(routes):
        if calendar.in_force(route.schedule, when):
            return InForce(index, route.to)
    return InForce(None, otherwise)
