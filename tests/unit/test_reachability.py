"""Reachability is FreeSWITCH's to say, not the event listener's: a line or a group
member the listener last saw unregistered (it may be stopped or behind) is rung, and
the after-failure hunt turns FreeSWITCH's USER_NOT_REGISTERED into the unreachable
handling.
"""

from tests.unit.test_group_compile import group, member, rung
from tests.unit.test_group_compile import ring_of as group_ring
from tests.unit.test_line_compile import (
    call,
    forwards_to,
    goes_to_voicemail,
    rings_own_line,
)
from xmlcurl import fsnames as fs
from xmlcurl.decisions import Ring

UNREACHABLE = {"forward_unreachable": {"to": "0633333333"}}


def test_a_line_seen_unregistered_by_the_listener_is_rung():
    for registered in (False, None, True):
        route = call(UNREACHABLE, state={"registered": registered})
        assert rings_own_line(route)
        assert not forwards_to(route, "+33633333333")


def test_not_registered_after_the_ring_takes_the_unreachable_forward():
    for disposition in (fs.USER_NOT_REGISTERED, fs.SUBSCRIBER_ABSENT):
        route = call(UNREACHABLE, after=("ring", disposition))
        assert forwards_to(route, "+33633333333")


def test_not_registered_without_an_unreachable_forward_ends_in_voicemail():
    assert goes_to_voicemail(call({}, after=("ring", fs.USER_NOT_REGISTERED)))


def test_busy_is_still_decided_before_the_ring():
    route = call({"forward_busy": {"to": "0622222222"}}, state={"active_calls": 5})
    assert forwards_to(route, "+33622222222") and not rings_own_line(route)


def test_voicemail_at_once_still_honours_a_known_absent_phone():
    # The phone is never rung, so FreeSWITCH cannot be asked: the live state decides.
    settings = {**UNREACHABLE, "forward_no_answer": {"to": "voicemail", "after": 0}}
    assert forwards_to(call(settings, state={"registered": False}), "+33633333333")
    assert goes_to_voicemail(call(settings, state={"registered": None}))


def test_group_members_seen_unregistered_ring_directly():
    grp = group(member("1001", registered=False), member("1002"))
    assert rung(group_ring(grp)) == ["1001", "1002"]


def test_with_members_call_handling_a_known_absent_member_is_left_out():
    # Their own handling would answer for the absent phone (a tone, a forward).
    grp = group(member("1001", registered=False), member("1002"), members_call_handling=True)
    ring = group_ring(grp)
    assert isinstance(ring, Ring) and len(ring.endpoints) == 1
