"""Centrex's channel variables: what a route writes is what the next fetch reads."""

from tests.unit.test_dialplan_compile import request
from xmlcurl import fsnames as fs
from xmlcurl import handover


def test_what_a_route_writes_the_next_fetch_reads():
    written = {
        fs.V_FORWARD_CHAIN: handover.forwarded_through(("1001", "1002")).value,
        fs.V_UNIT_CHAIN: handover.went_through_units(("300",)).value,
        fs.V_FROM_PUBLIC: handover.from_outside().value,
        **dict(handover.group_hand_over("300", "local_stream://centrex/a.example/jazz", "1003")),
        **{a.name: a.value for a in handover.mark_failover("1001", fs.STAGE_FORWARD)},
    }
    read = request("1001", **written)
    assert read.forward_chain == ("1001", "1002")
    assert read.unit_chain == ("300",)
    assert read.from_public is True
    assert (read.via_group, read.group_caller) == ("300", "1003")
    assert read.group_hold_music == "local_stream://centrex/a.example/jazz"
    assert (read.failover_for, read.stage) == ("1001", fs.STAGE_FORWARD)


def test_what_is_not_ours_is_dropped_when_read():
    read = request(
        "1001",
        centrex_forward_chain="1001,x,$${a},1002",
        centrex_group_caller="1003,1004",
        centrex_group_hold_music="local_stream://x,hangup",
        centrex_from_public="yes",
    )
    assert read.forward_chain == ("1001", "1002")
    assert read.group_caller is None and read.group_hold_music is None
    assert read.from_public is False
