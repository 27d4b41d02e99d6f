"""Several Centrex servers behind FreeSWITCH: the order it asks them in.

mod_xml_curl tries its bindings in order on every fetch, and a frozen server costs the
full `timeout` (1 s) each time it is tried: with a fixed order, every fetch would wait
on it for as long as it lasts. freeswitch-conf/ therefore lists the servers as slots
(`centrex_url`, `centrex_url_2`, `centrex_url_3`) and has POSITIONS bindings whose URLs
are global variables read when each binding is tried (`use-dynamic-url`):
`centrex_try_1` … `centrex_try_4`, set at start to the slots in order. Each URL says
which slot it reaches and at which position (`?via=N.P`; one parameter: the values sit
in XML attributes and preprocessor lines, where `&` cannot).

A server reached at a later position (the ones before failed: refused, timed out,
erred) answers with preprocessor lines, which FreeSWITCH runs while reading the answer,
setting the positions to: itself, itself again, then the other slots in ring order. Its
`$${…}` are FreeSWITCH's own slot URLs: the server needs to know no address. Fetches
made from then on ask it first; a fetch already under way, which failed at position 1,
finds it at position 2 (never the failed server again). The first position also carries
`since` (when the order changed): once no fetch from before can still be under way, the
first server to be asked again drops its second position (`SETTLE_MS`), so that if it
fails in turn, the next server costs one timeout, not two. A dead or frozen server thus
costs each fetch at most one timeout, and only for fetches that started before the
first of them failed over.
"""

from __future__ import annotations

from collections.abc import Mapping

from provisioning.validation import whole_number

SLOTS = 3
POSITIONS = SLOTS + 1
VIA_PARAM = "via"
# A fetch reads its next binding's URL at most one timeout after the previous: after two,
# none that began under the former order is left.
SETTLE_MS = 3000
_XML_DECLARATION = b"<?xml"
# "not found" makes FreeSWITCH ask the next binding; an answer without the section asked
# for makes it use its static XML at once. Every server reads the same database, so
# what one does not know, none does: the others (and the unused slots) are not asked.
NOT_FOUND_ANYWHERE = b'<?xml version="1.0" encoding="UTF-8"?>\n<document type="freeswitch/xml"/>'


def slot_variable(slot: int) -> str:
    """The preprocessor variable holding a slot's base URL."""
    return "centrex_url" if slot == 1 else f"centrex_url_{slot}"


def try_variable(position: int) -> str:
    """The global variable the binding at `position` (1 = tried first) reads its URL from."""
    return f"centrex_try_{position}"


def ring_from(slot: int) -> tuple[int, ...]:
    """The slots in order, starting at `slot`."""
    return tuple((slot - 1 + i) % SLOTS + 1 for i in range(SLOTS))


def _via(args: Mapping[str, str]) -> tuple[int, int, int | None] | None:
    """Slot, position and, on the first position after a change, since when."""
    parts = args.get(VIA_PARAM, "").split(".")
    if len(parts) not in (2, 3):
        return None
    slot, position = _number(parts[0], SLOTS), _number(parts[1], POSITIONS)
    since = _number(parts[2], None) if len(parts) == 3 else None
    if slot is None or position is None or (len(parts) == 3 and since is None):
        return None
    return slot, position, since


def reached_late(args: Mapping[str, str]) -> bool:
    """Whether the fetch came through a binding after the first (those failed)."""
    via = _via(args)
    return via is not None and via[1] > 1


def not_found_anywhere(args: Mapping[str, str], not_found: bytes) -> bytes:
    """What to answer for an item this server does not have: for FreeSWITCH's bindings
    (`via`), that no server has it; else the usual "not found"."""
    return NOT_FOUND_ANYWHERE if _via(args) is not None else not_found


def new_order(args: Mapping[str, str], now_ms: int) -> bytes:
    """The preprocessor lines that reorder the servers after this fetch (b"" when the
    order stays, or for a query that is not ours)."""
    via = _via(args)
    if via is None:
        return b""
    slot, position, since = via
    if position > 1:
        order: list[tuple[int | None, int | None]] = [(slot, now_ms), (slot, None)]
        order += [(n, None) for n in ring_from(slot)[1:]]
    elif since is not None and now_ms - since >= SETTLE_MS:
        order = [(n, None) for n in ring_from(slot)]
        order += [(None, None)] * (POSITIONS - SLOTS)
    else:
        return b""
    return "\n".join(_set(p, n, t) for p, (n, t) in enumerate(order, start=1)).encode()


def _set(position: int, slot: int | None, since: int | None) -> str:
    url = ""
    if slot is not None:
        via = f"{slot}.{position}" if since is None else f"{slot}.{position}.{since}"
        url = f"$${{{slot_variable(slot)}}}/xmlcurl?{VIA_PARAM}={via}"
    return f'<X-PRE-PROCESS cmd="set" data="{try_variable(position)}={url}"/>'


def _number(text: str | None, highest: int | None) -> int | None:
    value = whole_number(text or "", 0, digits=15)
    if value < 1 or (highest is not None and value > highest):
        return None
    return value


def with_preamble(document: bytes, preamble: bytes) -> bytes:
    """The answer with `preamble` on lines of its own after the XML declaration (the
    preprocessor runs a directive only at the start of a line's markup)."""
    if not preamble:
        return document
    if not document.startswith(_XML_DECLARATION):
        return preamble + b"\n" + document
    head, _, rest = document.partition(b"?>")
    return head + b"?>\n" + preamble + b"\n" + rest.lstrip(b"\n")
