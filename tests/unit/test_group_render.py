"""Hunt groups rendered: one golden file per distribution, and the group-only elements
(loopback legs, leg markers, media, the log-in event) as FreeSWITCH reads them.

Regenerate on purpose: CENTREX_REGENERATE_GOLDEN=1 pytest tests/unit/test_group_render.py
"""

import pytest

from tests.unit.test_dialplan_compile import NOW, request
from tests.unit.test_group_compile import FOUR, data, group, member
from tests.unit.test_render import actions, assert_golden
from xmlcurl import render
from xmlcurl.decisions import Route, SetMedia
from xmlcurl.dialplan import compile_call

STRATEGIES = ["cyclic", "hierarchical", "simultaneous", "least_active", "random"]


@pytest.mark.parametrize("distribution", STRATEGIES)
def test_group_golden(distribution):
    grp = group(*FOUR[:3], last="1001", distribution=distribution, rings=3, cycles=2)
    xml = render.dialplan(compile_call(request("300"), data(grp), NOW))
    assert_golden(f"group-{distribution.replace('_', '-')}", xml)


def test_group_with_members_call_handling_golden():
    music = {"acme.example/music/jazz/jazz.wav"}
    grp = group(*FOUR[:2], members_call_handling=True, music_on_hold="jazz", paths=music)
    assert_golden(
        "group-members-call-handling",
        render.dialplan(compile_call(request("300"), data(grp), NOW)),
    )


def test_log_in_code_golden():
    grp = group(member("1001"))
    xml = render.dialplan(compile_call(request("*55300"), data(grp, dialled=False), NOW))
    assert_golden("group-login-code", xml)


def test_loopback_legs_name_the_member_and_the_tenant_context():
    grp = group(member("1001"), members_call_handling=True, rings=2)
    bridge = dict(actions(render.dialplan(compile_call(request("300"), data(grp), NOW))))["bridge"]
    assert bridge == (
        "[leg_timeout=10,centrex_group=300@acme.example,centrex_group_member=1001,"
        # The caller (1001, a line of the tenant) rides along for the member's caller lists.
        "centrex_via_group=300,centrex_group_caller=1001]loopback/1001/acme.example"
    )


@pytest.mark.parametrize(
    "source",
    ["/etc/$${x}.wav", "%(1,2,3);%(bad", "local_stream://x,y", "relative/file.wav"],
)
def test_unsafe_media_are_refused(source):
    route = Route("acme.example", "300", "x", (SetMedia("ringback", source),))
    with pytest.raises(render.UnsafeValue):
        render.dialplan(route)
