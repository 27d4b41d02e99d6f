"""Centrex's own channel variables: what one fetch tells the next, written and read here.

A route leaves marks on the channel (the destination a failed ring comes back for and
the stage it failed at, the lines a call was forwarded through, the groups and queues
it went through, that it came from outside, a group's hand-over to a member's own call
handling); FreeSWITCH sends them back with the next fetch, and mod_xml_cdr with the
call record. Their names are in `fsnames`; their values are spelled and parsed only
here, so that a writer and its reader cannot drift apart.
"""

from __future__ import annotations

from provisioning.numbering import Category
from xmlcurl import fsnames as fs
from xmlcurl.decisions import Action, SetVariable, UnsetVariable
from xmlcurl.safe import HOLD_MUSIC

_SEPARATOR = ","
_TRUE = "true"
# What a line that may call nothing is given: a value, so that the mark is there.
_NOTHING = "none"
_CATEGORIES = frozenset(Category)

# --- writing -------------------------------------------------------------------------


def encode_chain(chain: tuple[str, ...]) -> str:
    return _SEPARATOR.join(chain)


def mark_failover(destination: str, stage: str) -> tuple[Action, ...]:
    """Come back to Centrex for `destination` should the coming ring fail at `stage`."""
    return (SetVariable(fs.V_FAILOVER_FOR, destination), SetVariable(fs.V_STAGE, stage))


def clear_failover() -> tuple[Action, ...]:
    return (UnsetVariable(fs.V_FAILOVER_FOR), UnsetVariable(fs.V_STAGE))


def forwarded_through(chain: tuple[str, ...]) -> SetVariable:
    """The lines this call was forwarded through (forward loops stop on them)."""
    return SetVariable(fs.V_FORWARD_CHAIN, encode_chain(chain))


def went_through_units(chain: tuple[str, ...]) -> SetVariable:
    """The group and queue numbers this call went through (overflow loops stop on them)."""
    return SetVariable(fs.V_UNIT_CHAIN, encode_chain(chain))


def from_outside() -> SetVariable:
    """A call from the public network, handed into a tenant's context."""
    return SetVariable(fs.V_FROM_PUBLIC, _TRUE)


def star_code_asked() -> SetVariable:
    """A forwarding code dialled alone asked for the number: the code hunted again
    with nothing typed means the last number, not another question."""
    return SetVariable(fs.V_STAR_ASKED, _TRUE)


def transferring() -> SetVariable:
    """A line's leg handing its call over by DTMF transfer (the call log reads it)."""
    return SetVariable(fs.V_TRANSFERRING, _TRUE)


def line_identity(extension: str, domain: str) -> str:
    """How a line names itself on its legs (`fs.V_OWN_LINE`, exported at each bridge as
    `fs.V_PEER_LINE`)."""
    return f"{extension}@{domain}"


def group_hand_over(
    group: str, hold_music: str | None, caller_extension: str | None
) -> tuple[tuple[str, str], ...]:
    """Leg variables handing a group's call to a member's own call handling."""
    handed: tuple[tuple[str, str], ...] = ((fs.V_VIA_GROUP, group),)
    if hold_music:
        handed += ((fs.V_GROUP_HOLD_MUSIC, hold_music),)
    if caller_extension:
        handed += ((fs.V_GROUP_CALLER, caller_extension),)
    return handed


# --- reading -------------------------------------------------------------------------
# Every value comes back from FreeSWITCH as text a channel could have been given by
# anyone: what is not what we write is dropped.


def decode_chain(value: str | None) -> tuple[str, ...]:
    return tuple(x for x in (value or "").split(_SEPARATOR) if x.isdigit())


def decode_extension(value: str | None) -> str | None:
    return value if value and value.isdigit() and len(value) <= 8 else None


def decode_line(value: str | None, domain: str) -> str | None:
    """The extension of a line of `domain` named by `line_identity`; None for anything
    else (another tenant's line, junk)."""
    extension, at, named_domain = (value or "").partition("@")
    if not at or named_domain != domain:
        return None
    return decode_extension(extension)


def decode_hold_music(value: str | None) -> str | None:
    return value if value and HOLD_MUSIC.fullmatch(value) else None


def decode_flag(value: str | None) -> bool:
    return value == _TRUE
