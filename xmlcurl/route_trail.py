"""The call log's "rule applied": each dialplan fetch of a channel adds its decision to
`centrex_route`, a channel variable FreeSWITCH sends back with the next fetch and in the
call record (mod_xml_cdr). Pure; spelled and read only here.

An entry is the destination hunted and the route's name (`1003: always forward to
1002`), the names being the compiler's own (`xmlcurl.dialplan` and the compilers it
hands to); entries are joined by ` > `, first fetch first. The value is kept within
what a dialplan `set` takes (`render`'s 128 characters, no `$`): when a long chain
would not fit, the first decision stays and the oldest of the others go.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from xmlcurl import fsnames as fs
from xmlcurl.decisions import Route, SetVariable
from xmlcurl.request import CallRequest

SEPARATOR = " > "
ELIDED = "…"
MAX_ENTRY = 60
MAX_TRAIL = 128
# What an entry keeps of a name: words, numbers and plain punctuation (never `$`, braces
# or the separator's `>`).
_UNSAFE = re.compile(r"[^\w +@.,:;()'/*#-]")
# The words FreeSWITCH's preprocessor acts on, which a caller may dial (a carrier passes
# any Request-URI user): kept unreadable to it, or the whole answer would be refused.
_DIRECTIVE_WORD = re.compile(r"(x-pre)-(process)", re.IGNORECASE)


def _kept(text: str) -> str:
    return _DIRECTIVE_WORD.sub(r"\1_\2", _UNSAFE.sub("", text))


def entry(route: Route) -> str:
    return _entry(route.destination, route.name)


# Every dialplan fetch adds one: the same few destinations, names and trails recur.
@lru_cache(maxsize=4096)
def _entry(destination: str, name: str) -> str:
    text = _kept(f"{destination}: {name}")
    return " ".join(text.split())[:MAX_ENTRY]


def decode(value: str | None) -> tuple[str, ...]:
    """The entries of a trail as FreeSWITCH sends it back."""
    return tuple(e for e in (value or "").split(SEPARATOR) if e and e != ELIDED)


def trail(before: str | None, route: Route) -> str:
    """The trail once this fetch's decision is added."""
    return _trail(before or "", entry(route))


@lru_cache(maxsize=4096)
def _trail(before: str, latest: str) -> str:
    earlier = [_kept(e)[:MAX_ENTRY] for e in before.split(SEPARATOR) if e]
    entries = [*earlier, latest]
    first, rest = entries[0], [e for e in entries[1:] if e != ELIDED]
    elided = len(rest) < len(entries) - 1

    def joined() -> str:
        return SEPARATOR.join([first, *([ELIDED] if elided else []), *rest])

    # Keep the first decision and the latest ones; one mark where some were left out.
    while len(joined()) > MAX_TRAIL and len(rest) > 1:
        rest.pop(0)
        elided = True
    return joined()[:MAX_TRAIL]


def marked(route: Route, request: CallRequest) -> Route:
    """The route with this fetch's decision added to the channel's trail first."""
    mark = SetVariable(fs.V_ROUTE, trail(request.route_trail, route))
    return replace(route, actions=(mark, *route.actions))
