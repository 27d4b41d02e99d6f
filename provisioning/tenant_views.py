"""Read-only views of a tenant document: a number's routing now, the company directory.

Pure: a parsed `TenantDoc` (and `now`) in, the API's response model out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from provisioning import api_models
from provisioning.document import NumberDoc, TenantDoc
from provisioning.number_routing import calendar_of, route_in_force
from provisioning.tenant_routing import Destination


def find_number(doc: TenantDoc, e164: str) -> NumberDoc | None:
    return next((n for n in doc.numbers if n.number == e164), None)


def number_routing(doc: TenantDoc, number: NumberDoc, now: datetime) -> api_models.NumberRouting:
    """The number's routes, which one takes calls at `now` (an index, "otherwise", or
    None for a number that simply rings its user) and where calls go at `now`."""
    calendar = calendar_of(doc)
    routes = [
        api_models.RouteNow(
            schedule=route.schedule,
            to=route.to,
            schedule_in_force=calendar.in_force(route.schedule, now),
        )
        for route in number.routes
    ]
    in_force: int | Literal["otherwise"] | None = None
    if number.routes or number.otherwise is not None:
        chosen = route_in_force(number.routes, number.otherwise, calendar, now)
        in_force = "otherwise" if chosen.index is None else chosen.index
        destination = chosen.destination
    else:
        destination = None if number.user is None else Destination(user=number.user)
    return api_models.NumberRouting(
        number=number.number,
        label=number.label,
        at=now.astimezone(ZoneInfo(doc.timezone)),
        timezone=doc.timezone,
        routes=routes,
        otherwise=number.otherwise,
        in_force=in_force,
        destination=destination,
    )


def company_directory(doc: TenantDoc) -> api_models.Directory:
    """What every user of the tenant may look up: colleagues, and the external
    contacts the administrator added (with their ## codes)."""
    return api_models.Directory(
        users=[
            api_models.DirectoryUser(
                extension=u.extension, name=u.name, public_number=u.public_number
            )
            for u in doc.users
        ],
        external=[
            api_models.DirectoryContact(name=e.name, number=e.number, code=e.code)
            for e in doc.directory
        ],
    )
