"""The call log's "rule applied" (xmlcurl.route_trail): each fetch adds its decision to
the channel's `centrex_route`, kept within what a dialplan `set` takes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.unit.test_dialplan_compile import request
from xmlcurl import fsnames as fs
from xmlcurl import route_trail
from xmlcurl.decisions import Hangup, Route, SetVariable
from xmlcurl.render import _VARIABLE_VALUE


def route(destination: str, name: str) -> Route:
    return Route("acme.example", destination, name, (Hangup(fs.NORMAL_CLEARING),))


def test_each_fetch_adds_its_decision_first_first():
    first = route_trail.trail(None, route("1003", "always forward to 1002"))
    assert first == "1003: always forward to 1002"
    second = route_trail.trail(first, route("1002", "ring 1002"))
    assert second == "1003: always forward to 1002 > 1002: ring 1002"
    assert route_trail.decode(second) == ("1003: always forward to 1002", "1002: ring 1002")


def test_the_mark_is_set_before_the_route_s_actions():
    marked = route_trail.marked(route("1003", "ring 1003"), request("1003"))
    assert marked.actions[0] == SetVariable(fs.V_ROUTE, "1003: ring 1003")
    assert marked.actions[1:] == (Hangup(fs.NORMAL_CLEARING),)
    later = replace(request("1003"), route_trail="2000: group Sales: cyclic 1003")
    again = route_trail.marked(route("1003", "voicemail of 1003"), later)
    assert again.actions[0] == SetVariable(
        fs.V_ROUTE, "2000: group Sales: cyclic 1003 > 1003: voicemail of 1003"
    )


def test_a_long_chain_keeps_the_first_decision_and_the_latest():
    value = None
    for hop in range(12):
        value = route_trail.trail(
            value, route(f"10{hop:02d}", f"always forward to 10{hop + 1:02d}")
        )
    assert value is not None and len(value) <= route_trail.MAX_TRAIL
    entries = value.split(route_trail.SEPARATOR)
    assert entries[0] == "1000: always forward to 1001"
    assert entries[1] == route_trail.ELIDED
    assert entries[-1] == "1011: always forward to 1012"
    assert route_trail.decode(value)[0] == "1000: always forward to 1001"


@pytest.mark.parametrize(
    "name",
    ["group ${system(id)}: overflow", "x" * 300, "a > b | c {d} $e", "group Ventes été: cyclic"],
)
def test_whatever_a_name_holds_the_value_is_one_a_set_takes(name):
    value = route_trail.trail("junk ${x} > y", route("2000", name))
    assert _VARIABLE_VALUE.fullmatch(value)
    assert "$" not in value and "{" not in value
    assert all(len(e) <= route_trail.MAX_ENTRY for e in value.split(route_trail.SEPARATOR))


@pytest.mark.parametrize("dialled", ["x-pre-process", "X-PRE-PROCESS", "1x-Pre-Process2"])
def test_a_dialled_preprocessor_word_is_kept_unreadable_to_the_preprocessor(dialled):
    """A carrier passes any Request-URI user: kept as it was dialled, the word made the
    renderer refuse the whole answer (the caller got a temporary failure, the log a
    traceback on every call)."""
    mark = route_trail.entry(route(dialled, "reject: not a dialable number"))
    assert "pre-process" not in mark.casefold()
    again = route_trail.trail(f"1000: ring 1000 > {dialled}: x", route("1001", "ring 1001"))
    assert "pre-process" not in again.casefold()
