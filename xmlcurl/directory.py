"""The directory compiler: a directory request plus loaded data → a `DirectoryAnswer`.

Pure. Users are answered with the digest hash of their SIP password (never the
password), their tenant's context and their voicemail settings. Anything Centrex does
not serve is `NotFound`, so FreeSWITCH falls back to its static directory, which lets
nobody in.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from provisioning.numbering import line_numbers
from provisioning.validation import InvalidValue, check_voicemail_pin
from xmlcurl import conference, handover, transfer
from xmlcurl import fsnames as fs
from xmlcurl.decisions import (
    DirectoryAnswer,
    DirectoryDomain,
    DirectoryUser,
    GatewayDefinition,
    GatewayDirectory,
    LineLeg,
    NotFound,
)
from xmlcurl.inputs import CallData, GatewayData, LineData, TenantData
from xmlcurl.request import DirectoryRequest

# Lookups Centrex leaves to FreeSWITCH's static XML.
_NOT_SERVED_ACTIONS = frozenset({fs.ACTION_REVERSE_AUTH, fs.ACTION_GROUP_CALL})


def a1_hash(user: str, realm: str, password: str) -> str:
    """HTTP digest HA1, what sofia compares against instead of the password."""
    return hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()


def line_leg(tenant: TenantData, line: LineData) -> LineLeg:
    return LineLeg(
        context=tenant.domain,
        caller_id_name=line.display_name,
        caller_id_number=line.extension,
        timezone=tenant.timezone,
        line_identity=handover.line_identity(line.extension, tenant.domain),
        transfer_keys=transfer.transfer_keys(tenant.domain),
        conference_key=conference.conference_keys(tenant.domain),
    )


def directory_user(tenant: TenantData, line: LineData) -> DirectoryUser:
    return DirectoryUser(
        extension=line.extension,
        a1_hash=a1_hash(line.extension, tenant.domain, line.sip_password),
        leg=line_leg(tenant, line),
        voicemail_enabled=line.voicemail_enabled,
        voicemail_pin_hash=a1_hash(line.extension, tenant.domain, line.voicemail_pin)
        if line.voicemail_pin
        else None,
        voicemail_emails=line.voicemail_emails,
    )


def acceptable_pin(line: LineData, pin: str) -> bool:
    """A PIN typed on the phone meets the same rules as one set through provisioning."""
    try:
        check_voicemail_pin(pin, own_numbers=line_numbers(line.extension, line.public_number))
    except InvalidValue:
        return False
    return True


def compile_directory(
    request: DirectoryRequest, data: CallData | None, pin_change_accepted: bool | None = None
) -> DirectoryAnswer:
    if request.purpose == fs.PURPOSE_NETWORK_LIST:
        return NotFound("network lists come from acl.conf")
    if request.action in _NOT_SERVED_ACTIONS:
        return NotFound(f"{request.action} is not served")
    if data is None:
        return NotFound(f"no tenant {request.domain!r}")
    if not request.user:
        return DirectoryDomain(data.tenant.domain)
    if (
        request.action == fs.ACTION_SIP_AUTH
        and request.auth_method == "REGISTER"
        and request.to_host
        and request.to_host != data.tenant.domain
    ):
        # sofia authenticates in the realm's domain but registers the To address: a
        # user of one tenant must not register as a same-numbered user of another.
        return NotFound(f"REGISTER for {request.to_host!r} with credentials of {request.domain!r}")
    line = data.lines.get(request.user)
    if line is None:
        return NotFound(f"no user {request.user!r} in {request.domain!r}")
    if not line.sip_password:
        # sofia lets a user without a password in unchecked: never answer one.
        return NotFound(f"user {request.user!r} has no SIP password")
    user = directory_user(data.tenant, line)
    if request.new_voicemail_pin is not None:
        user = replace(user, pin_change_accepted=bool(pin_change_accepted))
    return DirectoryDomain(data.tenant.domain, (user,))


def compile_gateways(gateways: list[tuple[str, GatewayData]]) -> GatewayDirectory:
    return GatewayDirectory(
        tuple(
            GatewayDefinition(
                name=domain,
                proxy=gw.proxy,
                # sofia needs a username even for trunks that authenticate by address.
                username=gw.username or "centrex",
                password=gw.password,
                register=gw.register,
                transport=gw.transport,
                context=fs.PUBLIC_CONTEXT,
            )
            for domain, gw in gateways
        )
    )
