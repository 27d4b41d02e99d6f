"""Click-to-call ("Appeler"): ring the user's own line first; once they answer, call the
destination through the tenant's dialplan, exactly as if they had dialled it.

The answered leg enters the dialplan marked as the user's own call (`user_name`,
`domain_name`, and a callee ID that becomes its caller ID there), so Centrex's dialplan
applies the user's call barring, outgoing number and CLIR as for any call from their
phone. The destination is checked here first as well, to refuse early and clearly.

`check_destination` and `click_to_call_command` are pure; `place_call` loads the line
and sends the command through a connected `Switch`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Container
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioning.errors import DomainError, said
from provisioning.models import User
from provisioning.numbering import (
    OUTSIDE_LINE_PREFIX,
    Category,
    NotANumber,
    allowed,
    classify,
)
from provisioning.service import find_line
from provisioning.validation import is_dialable
from xmlcurl import fsnames as fs

from .originate import Line, accepted, in_background, to_dialplan
from .switch import Switch, SwitchError

log = logging.getLogger(__name__)

# How long the user's own phones ring before the attempt is given up.
ORIGINATE_SECONDS = 30


# The field of the request a refused destination was given in.
DESTINATION = "destination"


class DestinationRefused(DomainError, ValueError):
    """The destination cannot be called from this line; the message says why."""


class CallNotPlaced(DomainError, RuntimeError):
    """No FreeSWITCH node took the call (none connected, or it did not answer)."""


@dataclass(frozen=True)
class CallingLine:
    extension: str
    domain: str
    country: str
    allowed: frozenset[Category]
    # The tenant's main number (local calls) and its outside-line prefix.
    home: str | None = None
    outside_prefix: bool = False


@dataclass(frozen=True)
class PlacedCall:
    job_uuid: str  # the BACKGROUND_JOB that reports the originate's outcome
    call_uuid: str  # the user's leg
    node: str
    destination: str


def check_destination(destination: str, line: CallingLine, extensions: Container[str]) -> str:
    """What to route: an extension of the tenant (among `extensions`), else the number
    in E.164 (short and emergency numbers as typed), if the line may call it."""
    if not is_dialable(destination):
        raise DestinationRefused(
            said(
                "not_dialable",
                "%(destination)s must be digits, with an optional leading + (and * or #)",
                destination=destination,
            ),
            path=DESTINATION,
        )
    if destination == line.extension:
        raise DestinationRefused(
            said("calls_itself", "%(destination)s is the line itself", destination=destination),
            path=DESTINATION,
        )
    if destination in extensions:
        return destination
    try:
        found = classify(destination, line.country, line.home)
    except NotANumber:
        raise DestinationRefused(
            said(
                "not_a_destination",
                "%(destination)s is neither an extension of %(domain)s nor a valid phone number",
                destination=destination,
                domain=line.domain,
            ),
            path=DESTINATION,
        ) from None
    if not allowed(found.category, line.allowed):
        raise DestinationRefused(
            said(
                "barred_call",
                "%(destination)s is barred for this line (%(category)s calls)",
                destination=destination,
                category=str(found.category),
            ),
            path=DESTINATION,
        )
    if found.e164 is not None:
        return found.e164
    if line.outside_prefix and found.category is not Category.EMERGENCY:
        # The dialplan reads a short number as the phone would dial it: after the 0.
        return OUTSIDE_LINE_PREFIX + destination
    return destination


def click_to_call_command(line: CallingLine, destination: str, call_uuid: str) -> str:
    """`originate {…}user/<ext>@<domain> <destination> XML <domain>`."""
    variables = {
        fs.V_ORIGINATION_UUID: call_uuid,
        fs.V_ORIGINATE_TIMEOUT: str(ORIGINATE_SECONDS),
        # What the user's phone shows while it rings: whom they are about to call.
        fs.V_ORIGINATION_CID_NAME: destination,
        fs.V_ORIGINATION_CID_NUMBER: destination,
        # What the dialplan sees as the caller once the leg is answered.
        fs.V_ORIGINATION_CALLEE_ID_NAME: line.extension,
        fs.V_ORIGINATION_CALLEE_ID_NUMBER: line.extension,
        # Who places the call: the dialplan loads this line as the caller.
        fs.V_USER_NAME: line.extension,
        fs.V_DOMAIN_NAME: line.domain,
    }
    return to_dialplan(Line(line.extension, line.domain), variables, destination, line.domain)


def place_call(
    session: Session,
    switch: Switch | None,
    tenant_domain: str,
    extension: str,
    destination: str,
) -> PlacedCall:
    """Check the destination, then have `switch` ring the user's line in the background."""
    tenant, user = find_line(session, tenant_domain, extension)
    line = CallingLine(
        user.extension,
        tenant.domain,
        tenant.country,
        frozenset(Category(c) for c in user.allowed_destinations),
        tenant.main_number,
        tenant.outside_line_prefix,
    )
    internal = session.scalar(
        select(User.id).where(User.tenant_id == tenant.id, User.extension == destination)
    )
    target = check_destination(destination, line, {destination} if internal else ())
    if switch is None:
        raise CallNotPlaced(said("no_node", "no FreeSWITCH node is connected"))
    job_uuid, call_uuid = str(uuid.uuid4()), str(uuid.uuid4())
    command = in_background(click_to_call_command(line, target, call_uuid), job_uuid)
    try:
        reply = switch.api(command)
    except SwitchError as exc:
        raise CallNotPlaced(f"FreeSWITCH {switch.node} did not take the call: {exc}") from None
    if not accepted(reply, job_uuid):
        raise CallNotPlaced(f"FreeSWITCH {switch.node} refused the call: {reply.strip()}")
    log.info(
        "click-to-call %s@%s → %s on %s (job %s)",
        extension,
        tenant_domain,
        target,
        switch.node,
        job_uuid,
    )
    return PlacedCall(job_uuid, call_uuid, switch.node, target)
