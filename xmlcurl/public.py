"""Calls from the public network to a number routed by schedule.

Pure. The number's first route whose schedule is in force now takes the call, else its
"outside every schedule" destination (`provisioning.number_routing`, which the API
also asks); `xmlcurl.destinations` compiles where the call goes. Calls handed on into
the tenant's context are marked as coming from outside first, so that nothing there
takes them for calls of the tenant's own lines: they never gain outbound rights.
"""

from __future__ import annotations

from datetime import datetime

from provisioning.number_routing import route_in_force
from xmlcurl import fsnames as fs
from xmlcurl import handover
from xmlcurl.decisions import Hangup, Route
from xmlcurl.destinations import Handoff, hand_off
from xmlcurl.inputs import CallData
from xmlcurl.line import when_said
from xmlcurl.request import CallRequest
from xmlcurl.trace import SILENT, Trace, phrase


def route_public_number(
    request: CallRequest, data: CallData, now: datetime, trace: Trace = SILENT
) -> Route:
    """Where a call to a number with routes (or an `otherwise`) goes, now."""
    routing = data.public_number_routing
    tenant = data.tenant
    chosen = route_in_force(routing.routes, routing.otherwise, tenant.calendar, now)
    if trace.on:
        # The routes before the one chosen were weighed and not in force.
        when = when_said(tenant, now)
        weighed = len(routing.routes) if chosen.index is None else chosen.index + 1
        for index, route in enumerate(routing.routes[:weighed]):
            during = phrase("while_schedule", "while %(schedule)s", schedule=route.schedule)
            trace.note("number", during, index == chosen.index, when)
        if chosen.index is None:
            otherwise = phrase("otherwise", "otherwise")
            none_in_force = phrase("no_schedule_in_force", "no schedule of the number in force")
            trace.note("number", otherwise, True, none_in_force)
    if chosen.destination is None:
        return Route(
            request.context,
            request.destination,
            "reject: no route in force and no otherwise",
            (Hangup(fs.NO_ROUTE_DESTINATION),),
        )
    at = Handoff(tenant, (), data.media_dir, data.media_paths)
    name, actions = hand_off(chosen.destination, at)
    if chosen.index is None:
        which = "otherwise"
    else:
        which = f"while {routing.routes[chosen.index].schedule}"
    return Route(
        request.context,
        request.destination,
        f"{data.public_number} {which}: {name}",
        (handover.from_outside(), *actions),
    )
