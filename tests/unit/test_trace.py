"""The routing trace (xmlcurl.trace): the compiler's own notes, which never change what
it decides, and which FreeSWITCH's fetches do not keep."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from provisioning.document import parse_document
from tests.unit.routing_tenant import RAW
from tests.unit.test_dialplan_compile import NOW, request
from xmlcurl.dialplan import compile_call
from xmlcurl.inputs import CallData, line_from_document, tenant_from_document
from xmlcurl.line import PRECEDENCE
from xmlcurl.trace import SILENT, Trace

HANDLINGS: list[dict[str, Any]] = [
    {},
    {"selective": {"reject": {"extensions": ["1001"]}}},
    {"selective": {"reject_anonymous": True}},
    {"forward_always": {"to": "1001"}},
    {"forward_always": {"to": "1001", "schedule": "Late"}},
    {"do_not_disturb": {}},
    {"forward_busy": {"to": "voicemail"}, "do_not_disturb": {}},
    {"selective": {"forward": [{"callers": {"anonymous": True}, "to": "1001"}]}},
    {"forward_no_answer": {"to": "voicemail", "after": 0}},
    {"simultaneous_ring": {"numbers": ["0612345678"]}},
    {"sequential_ring": {"steps": [{"number": "0612345678"}]}},
]


def data_with(handling: dict[str, Any]) -> CallData:
    raw = copy.deepcopy(RAW)
    raw["users"][0]["call_handling"] = handling
    doc = parse_document(raw)
    return CallData(
        tenant=tenant_from_document(doc),
        lines={u.extension: line_from_document(u) for u in doc.users},
    )


@pytest.mark.parametrize("handling", HANDLINGS, ids=str)
def test_a_traced_compile_decides_exactly_as_a_silent_one(handling):
    data = data_with(handling)
    for call in (request("1000"), request("1000", context="public")):
        trace = Trace()
        assert compile_call(call, data, NOW, trace) == compile_call(call, data, NOW)
        assert trace.steps and trace.steps[0].stage == "call"


@pytest.mark.parametrize("handling", HANDLINGS, ids=str)
def test_rows_are_weighed_in_order_and_the_last_one_decides(handling):
    trace = Trace()
    compile_call(request("1000"), data_with(handling), NOW, trace)
    rows = [s for s in trace.steps if s.stage == "precedence"]
    names = [s.rule for s in rows]
    assert names == [f"{n} {PRECEDENCE[n - 1]}" for n in range(1, len(rows) + 1)]
    assert [s.applied for s in rows] == [False] * (len(rows) - 1) + [True]


def test_the_silent_trace_keeps_nothing():
    compile_call(request("1000"), data_with({"forward_always": {"to": "1001"}}), NOW, SILENT)
    assert SILENT.steps == []
    assert SILENT.on is False
