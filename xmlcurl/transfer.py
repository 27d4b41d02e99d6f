"""Transfers: a call a user hands on is routed as a call from that user.

Pure. Who transfers is read from what FreeSWITCH itself set, never from what a remote
party sent (a Referred-By header is the phone's word, and a caller from outside can
send its own): every leg of a line carries the line's name from the directory, and
each bridge copies it onto the other party (`fs.V_PEER_LINE`). So when a phone
transfers its call by REFER, the party it hands on — the channel sofia hunts the
Refer-To number on — names the line it was connected to; and a DTMF transfer's
loopback leg is given the line of the leg that asked for it.

The transferring user's rights apply (barring, caller ID and withholding for an outside
number; the target's call handling judges the call as theirs); a caller from outside
never gains the right to call out. A REFER whose target is refused (junk, barred, no
such number) does not lose the caller: they are rung back to the user who transferred
them, as the call it was before.

DTMF transfer (seed 002, for phones and mobiles that cannot REFER): during a call the
user presses `#1`; the other party hears hold music, the user a dial tone; they dial
the number (ending with `#`), talk to the third party, and hang up to hand the caller
over — or press `#` to take the caller back. FreeSWITCH's `bind_meta_app` and
`att_xfer` do the work.
"""

from __future__ import annotations

from provisioning.feature_codes import TRANSFER_CODE
from xmlcurl import fsnames as fs
from xmlcurl import handover
from xmlcurl.decisions import (
    Action,
    CollectNumber,
    ConsultTransfer,
    ReleaseTransferKeys,
    Route,
    Tone,
    Transfer,
    TransferKeys,
    UnsetVariable,
    Wait,
)
from xmlcurl.inputs import CallData, LineData
from xmlcurl.request import CallRequest

# `#1` starts a DTMF transfer (seed 002).
META_KEY = "#"
TRANSFER_DIGIT = "1"
DIAL_TONE = "%(1000,0,440)"
MAX_DIGITS = 20
DIGIT_TIMEOUT_MS = 5000
# Between a ring and the hunt after it. When the transferor of a DTMF transfer hangs
# up, att_xfer hands the held party over (uuid_bridge) while that party's bridge ends
# and its dialplan goes on: a `transfer` there would take the call away first, a
# `sleep` is broken by the hand-over. A failed ring pays this much before its failover.
HAND_OVER_MS = 300
# The tone a caller hears before being rung back to the user whose transfer failed.
_REFUSED_TONE_LOOPS = 1


def transferor(request: CallRequest, data: CallData) -> LineData | None:
    """The tenant's line that transfers this call, if a phone is transferring it (a
    REFER's hunt, a DTMF transfer's consultation): the line its channel was last
    bridged to. A channel moved otherwise (by the switchboard, a schedule) stays the
    call it was."""
    if not (request.referred or request.consultation):
        return None
    extension = handover.decode_line(request.peer_line, data.tenant.domain)
    return data.lines.get(extension) if extension else None


def extensions_to_load(request: CallRequest) -> tuple[str, ...]:
    """The lines a transfer's fetch needs besides the one dialled: who transfers (the
    peer line), or whose leg asks for a DTMF transfer (its own line)."""
    wanted = (
        handover.decode_line(request.peer_line, request.context),
        handover.decode_line(request.own_line, request.context),
    )
    return tuple(x for x in wanted if x)


def ring_back(request: CallRequest, cause: str, why: str, tone: str) -> Route | None:
    """A REFER whose target is refused: the caller hears a short tone and is rung back
    to the user who transferred them (no longer marked as theirs: the call is routed
    as it was before the transfer). None when this is no REFER of a line's call."""
    if not request.referred:
        return None
    extension = handover.decode_line(request.peer_line, request.context)
    if extension is None:
        return None
    actions: tuple[Action, ...] = (
        Tone(tone, _REFUSED_TONE_LOOPS),
        UnsetVariable(fs.V_PEER_LINE),
        Transfer(extension, request.context),
    )
    return Route(
        request.context,
        request.destination,
        f"transfer refused ({why}, {cause}): back to {extension}",
        actions,
    )


def transfer_keys(context: str) -> TransferKeys:
    """`#1` from a line's phone in a conversation starts a DTMF transfer (directory)."""
    return TransferKeys(META_KEY, TRANSFER_DIGIT, TRANSFER_CODE, context)


def dtmf_transfer(request: CallRequest, line: LineData | None, tenant_domain: str) -> Route:
    """The transfer code run on a leg that pressed `#1`: a line's own leg in a call
    collects the number and consults it (att_xfer); any other leg (a forward's outside
    party pressing the keys, a code dialled outside a call) hears a short tone and
    the call goes on."""
    if line is None or not request.bridged:
        return Route(
            request.context,
            request.destination,
            "no transfer from this leg",
            (Tone(DIAL_TONE, 1),),
        )
    identity = handover.line_identity(line.extension, tenant_domain)
    return Route(
        request.context,
        request.destination,
        f"DTMF transfer by {line.extension}",
        (
            ReleaseTransferKeys(),
            CollectNumber(DIAL_TONE, fs.V_TRANSFER_TARGET, MAX_DIGITS, DIGIT_TIMEOUT_MS),
            # For the call log: the leg ending in the consultation handed its call over
            # (att_xfer may bridge it back to the caller without running what follows).
            handover.transferring(),
            ConsultTransfer(fs.V_TRANSFER_TARGET, tenant_domain, identity),
            UnsetVariable(fs.V_TRANSFERRING),
        ),
    )


def back_after_ring(destination: str, context: str) -> tuple[Action, ...]:
    """After a ring's bridge: hunt `destination` again (the failover, see
    `xmlcurl.dialplan`), unless a DTMF transfer hands the call over meanwhile."""
    return (Wait(HAND_OVER_MS), Transfer(destination, context))
