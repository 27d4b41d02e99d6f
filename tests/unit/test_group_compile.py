"""Hunt groups, compiled: who rings, in which order, for how long, and what follows.
Pure: requests shaped like FreeSWITCH's, groups built here."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from provisioning.call_handling import CallHandling
from provisioning.tenant_routing import Destination, GroupDoc
from tests.unit.test_dialplan_compile import DOMAIN, NOW, TENANT, line, request
from xmlcurl import fsnames as fs
from xmlcurl.decisions import (
    Answer,
    EarlyMedia,
    FireEvent,
    GatewayEndpoint,
    Hangup,
    LoopbackEndpoint,
    PlayFile,
    Prompt,
    Ring,
    SetMedia,
    SetVariable,
    Transfer,
    UnsetVariable,
    UserEndpoint,
    Voicemail,
)
from xmlcurl.dialplan import compile_call
from xmlcurl.group import number_to_load, ring_order
from xmlcurl.inputs import CallData, GroupData, MemberData

MEDIA_DIR = "/var/lib/centrex/media"
UNITS = {"sales": "300", "support": "301", "hotline": "500"}
GROUP_TENANT = replace(TENANT, unit_numbers=UNITS)


def member(ext: str, **kw) -> MemberData:
    values = dict(
        extension=ext,
        logged_in=True,
        max_concurrent_calls=5,
        call_waiting=True,
        call_handling=CallHandling(),
        registered=True,
    )
    values.update(kw)
    return MemberData(**values)


def group(
    *members: MemberData, last: str | None = None, paths=frozenset(), **settings
) -> GroupData:
    doc = GroupDoc.model_validate(
        {"name": "Sales", "extension": "300", "short_number": "250", **settings}
    )
    return GroupData(doc=doc, members=members, last_answerer=last, media_paths=frozenset(paths))


def data(grp: GroupData, dialled: bool = True, *lines) -> CallData:
    return CallData(
        tenant=GROUP_TENANT,
        lines={x.extension: x for x in (line("1001"), *lines)},
        dialled_group=dialled,
        group=grp,
        media_dir=MEDIA_DIR,
    )


def route(grp: GroupData, destination: str = "300", **variables: str):
    return compile_call(request(destination, **variables), data(grp), NOW)


def ring_of(grp: GroupData, **variables: str) -> Ring:
    rings = [a for a in route(grp, **variables).actions if isinstance(a, Ring)]
    assert len(rings) == 1
    return rings[0]


def rung(ring: Ring) -> list[str]:
    return [e.extension for e in ring.endpoints]  # type: ignore[union-attr]


FOUR = (member("1001"), member("1002"), member("1003"), member("1004"))


# --- distributions ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("distribution", "last", "expected"),
    [
        ("hierarchical", None, ["1001", "1002", "1003", "1004"]),
        ("hierarchical", "1002", ["1001", "1002", "1003", "1004"]),
        ("cyclic", None, ["1001", "1002", "1003", "1004"]),
        ("cyclic", "1002", ["1003", "1004", "1001", "1002"]),
        ("cyclic", "1004", ["1001", "1002", "1003", "1004"]),
        ("cyclic", "9999", ["1001", "1002", "1003", "1004"]),
    ],
)
def test_order_of_list_distributions(distribution, last, expected):
    grp = group(*FOUR, last=last, distribution=distribution)
    assert rung(ring_of(grp)) == expected


def test_cyclic_skips_an_unavailable_next_member_and_goes_on_round():
    members = (member("1001"), member("1002"), member("1003", logged_in=False), member("1004"))
    grp = group(*members, last="1002", distribution="cyclic")
    assert rung(ring_of(grp)) == ["1004", "1001", "1002"]


def test_least_active_rings_the_longest_idle_first_never_called_first_of_all():
    at = lambda h: datetime(2026, 11, 22, h, tzinfo=UTC)  # noqa: E731
    members = (
        member("1001", last_call_end=at(11)),
        member("1002", last_call_end=at(9)),
        member("1003"),
        member("1004", last_call_end=at(10)),
    )
    grp = group(*members, distribution="least_active")
    assert rung(ring_of(grp)) == ["1003", "1002", "1004", "1001"]


def test_random_is_a_permutation_fixed_by_the_call():
    grp = group(*FOUR, distribution="random")
    orders = {tuple(m.extension for m in ring_order(grp, f"call-{i}")) for i in range(20)}
    assert len(orders) > 1
    assert all(sorted(o) == ["1001", "1002", "1003", "1004"] for o in orders)
    assert ring_order(grp, "call-1") == ring_order(grp, "call-1")


# --- rings × cycles -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("distribution", "rings", "cycles", "legs", "leg_timeout", "call_timeout"),
    [
        ("hierarchical", 4, 1, 4, 20, 20),
        ("hierarchical", 2, 3, 12, 10, 10),
        ("cyclic", 1, 2, 8, 5, 5),
        ("least_active", 3, 1, 4, 15, 15),
        ("random", 5, 2, 8, 25, 25),
        ("simultaneous", 4, 1, 4, None, 20),
        ("simultaneous", 3, 3, 4, None, 45),
    ],
)
def test_rings_and_cycles(distribution, rings, cycles, legs, leg_timeout, call_timeout):
    grp = group(*FOUR, distribution=distribution, rings=rings, cycles=cycles)
    ring = ring_of(grp)
    assert len(ring.endpoints) == legs
    assert ring.sequential is (distribution != "simultaneous")
    assert {e.options.timeout for e in ring.endpoints} == {leg_timeout}
    assert ring.timeout == call_timeout


def test_cycles_repeat_the_same_sequence():
    grp = group(*FOUR[:2], distribution="cyclic", last="1001", cycles=3)
    assert rung(ring_of(grp)) == ["1002", "1001"] * 3


def test_a_huge_sequence_is_cut_to_what_freeswitch_accepts():
    members = tuple(member(str(1000 + i)) for i in range(50))
    grp = group(*members, cycles=10, max_members=50)
    assert len(ring_of(grp).endpoints) == 128


# --- who rings ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("state", "rings"),
    [
        ({}, True),
        ({"registered": None}, True),  # unknown: FreeSWITCH's answer decides
        ({"registered": False}, True),  # FreeSWITCH's answer decides (test_reachability)
        ({"logged_in": False}, False),
        ({"active_calls": 5}, False),
        ({"active_calls": 4}, True),
        ({"active_calls": 1, "call_waiting": False}, False),
    ],
)
def test_members_who_cannot_answer_are_skipped(state, rings):
    grp = group(member("1001"), member("1002", **state))
    assert ("1002" in rung(ring_of(grp))) is rings


def test_nobody_available_goes_to_the_overflow_at_once():
    grp = group(member("1001", logged_in=False), member("1002", active_calls=5))
    actions = route(grp).actions
    assert not any(isinstance(a, Ring) for a in actions)
    assert actions == (Hangup(fs.NORMAL_CLEARING),)


def test_a_group_without_members_overflows():
    grp = group(overflow={"voicemail": "1001"})
    assert route(grp).actions == (Answer(), Voicemail(DOMAIN, "1001"))


def test_ring_marks_the_channel_and_comes_back_to_the_group():
    r = route(group(*FOUR[:2]))
    assert r.actions[:5] == (
        SetVariable(fs.V_HANGUP_AFTER_BRIDGE, "true"),
        SetVariable(fs.V_CONTINUE_ON_FAIL, "true"),
        SetVariable(fs.V_FAILOVER_FOR, "300"),
        SetVariable(fs.V_STAGE, fs.STAGE_GROUP),
        SetVariable(fs.V_IGNORE_EARLY_MEDIA, "true"),
    )
    assert r.actions[-1] == Transfer("300", DOMAIN)


def test_the_short_number_rings_the_same_members_and_comes_back_to_itself():
    r = route(group(*FOUR[:2]), destination="250")
    assert r.actions[2] == SetVariable(fs.V_FAILOVER_FOR, "250")
    assert r.actions[-1] == Transfer("250", DOMAIN)


def test_each_leg_carries_the_group_and_member_markers():
    leg = ring_of(group(member("1001"))).endpoints[0]
    assert leg.options.variables == (
        (fs.V_GROUP, f"300@{DOMAIN}"),
        (fs.V_GROUP_MEMBER, "1001"),
    )


# --- members' own call handling ------------------------------------------------------
DND = CallHandling.model_validate({"do_not_disturb": {"enabled": True}})


def test_without_members_call_handling_their_phones_ring_directly():
    leg = ring_of(group(member("1001", call_handling=DND))).endpoints[0]
    assert isinstance(leg, UserEndpoint)
    assert (leg.extension, leg.domain) == ("1001", DOMAIN)


def test_with_members_call_handling_each_member_gets_the_call_through_their_own():
    ring = ring_of(group(member("1001"), members_call_handling=True))
    leg = ring.endpoints[0]
    assert isinstance(leg, LoopbackEndpoint)
    assert (leg.extension, leg.context) == ("1001", DOMAIN)
    assert (fs.V_VIA_GROUP, "300") in leg.options.variables


@pytest.mark.parametrize(
    ("handling", "rings"),
    [
        ({"do_not_disturb": {"enabled": True}}, False),
        ({"do_not_disturb": {"enabled": True}, "forward_busy": {"to": "1003"}}, True),
        (
            {
                "do_not_disturb": {"enabled": True},
                "forward_busy": {"to": "1003", "direct_only": True},
            },
            False,
        ),
        (
            {"do_not_disturb": {"enabled": True, "priority_callers": {"extensions": ["1001"]}}},
            True,
        ),
        ({"do_not_disturb": {"enabled": False}}, True),
    ],
)
def test_a_member_in_dnd_is_left_out_when_it_could_only_end_in_a_tone(handling, rings):
    ch = CallHandling.model_validate(handling)
    grp = group(member("1001"), member("1002", call_handling=ch), members_call_handling=True)
    assert ("1002" in rung(ring_of(grp))) is rings


def test_a_member_in_dnd_never_takes_the_group_call_into_their_voicemail():
    """The member's own hunt, reached through the group: DND ends in a tone, not in
    the member's voicemail (the group's overflow decides what follows)."""
    dnd_line = line("1002", call_handling=DND)
    r = compile_call(
        request("1002", centrex_via_group="300"),
        CallData(tenant=TENANT, lines={"1002": dnd_line}),
        NOW,
    )
    assert not any(isinstance(a, Voicemail) for a in r.actions)
    assert r.actions[0] == EarlyMedia()


# --- media ----------------------------------------------------------------------------
def test_ringback_is_the_country_tone_unless_the_group_has_its_own():
    assert SetMedia(fs.V_RINGBACK, "%(1500,3500,440)") in route(group(member("1001"))).actions
    uploaded = {f"{DOMAIN}/ringback/jingle/jingle.wav", f"{DOMAIN}/music/jazz/jazz.wav"}
    grp = group(member("1001"), paths=uploaded, ringback="jingle", music_on_hold="jazz")
    actions = route(grp).actions
    assert SetMedia(fs.V_RINGBACK, f"{MEDIA_DIR}/{DOMAIN}/ringback/jingle/jingle.wav") in actions
    assert SetMedia(fs.V_HOLD_MUSIC, f"local_stream://centrex/{DOMAIN}/jazz", True) in actions


def test_media_named_but_not_uploaded_fall_back_to_the_stock_sounds():
    actions = route(group(member("1001"), ringback="jingle", music_on_hold="jazz")).actions
    assert SetMedia(fs.V_RINGBACK, "%(1500,3500,440)") in actions
    assert not any(isinstance(a, SetMedia) and a.name == fs.V_HOLD_MUSIC for a in actions)


# --- after the ring ---------------------------------------------------------------------
def after(grp: GroupData, disposition: str, destination: str = "300", **variables: str):
    return route(
        grp,
        destination,
        centrex_failover_for=destination,
        centrex_stage="group",
        originate_disposition=disposition,
        **variables,
    )


CLEANUP = (UnsetVariable(fs.V_FAILOVER_FOR), UnsetVariable(fs.V_STAGE))


@pytest.mark.parametrize("disposition", ["SUCCESS", "ANSWER", "call accepted"])
def test_an_answered_call_never_overflows(disposition):
    grp = group(member("1001"), overflow={"voicemail": "1001"})
    assert after(grp, disposition).actions == (*CLEANUP, Hangup(fs.NORMAL_CLEARING))


def test_a_caller_who_hung_up_is_not_overflowed():
    grp = group(member("1001"), overflow={"number": "0612345678"})
    assert after(grp, "ORIGINATOR_CANCEL").actions == (*CLEANUP, Hangup(fs.ORIGINATOR_CANCEL))


@pytest.mark.parametrize(
    ("overflow", "expected"),
    [
        ({"hangup": True}, (Hangup(fs.NORMAL_CLEARING),)),
        ({"voicemail": "1001"}, (Answer(), Voicemail(DOMAIN, "1001"))),
        (
            {"group": "Support"},
            (SetVariable(fs.V_UNIT_CHAIN, "300,301"), Transfer("301", DOMAIN)),
        ),
        (
            {"queue": "Hotline"},
            (SetVariable(fs.V_UNIT_CHAIN, "300,500"), Transfer("500", DOMAIN)),
        ),
        ({"user": "1002"}, (Transfer("1002", DOMAIN),)),
        (
            {"number": "0612345678"},
            (
                SetVariable(fs.V_HANGUP_AFTER_BRIDGE, "true"),
                Ring((GatewayEndpoint(DOMAIN, "+33612345678"),), 60),
                Hangup(fs.NORMAL_CLEARING),
            ),
        ),
        (
            {"announcement": "closed"},
            (Answer(), Prompt(fs.PROMPT_NO_USER_RESPONSE), Hangup(fs.NORMAL_CLEARING)),
        ),
    ],
)
def test_each_overflow_kind_after_nobody_answered(overflow, expected):
    grp = group(member("1001"), overflow=overflow)
    for disposition in ("NO_ANSWER", "USER_BUSY", "USER_NOT_REGISTERED"):
        assert after(grp, disposition).actions == (*CLEANUP, *expected)


def test_an_uploaded_announcement_is_played_from_the_media_directory():
    path = f"{DOMAIN}/announcement/closed/closed.wav"
    grp = group(member("1001"), paths={path}, overflow={"announcement": "closed"})
    assert after(grp, "NO_ANSWER").actions == (
        *CLEANUP,
        Answer(),
        PlayFile(f"{MEDIA_DIR}/{path}"),
        Hangup(fs.NORMAL_CLEARING),
    )


def test_an_overflow_back_into_a_group_already_tried_ends_the_call():
    grp = group(member("1001"), overflow={"group": "Support"})
    r = after(grp, "NO_ANSWER", centrex_unit_chain="301,500")
    assert r.actions == (*CLEANUP, Hangup(fs.NORMAL_CLEARING))
    assert "loop" in r.name


def test_an_overflow_into_itself_ends_the_call():
    grp = group(overflow={"group": "Sales"})
    assert route(grp).actions == (Hangup(fs.NORMAL_CLEARING),)


def test_the_failover_marker_of_another_destination_is_not_taken_for_the_group():
    r = route(group(member("1001")), centrex_failover_for="1001", centrex_stage="ring")
    assert any(isinstance(a, Ring) for a in r.actions)


def test_overflow_destination_model_stays_the_documented_one():
    assert Destination(announcement="closed").kind == "announcement"


# --- log-in codes -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("destination", "dialled", "number"),
    [
        ("300", True, "300"),
        ("*55300", False, "300"),
        ("*56250", False, "250"),
        ("*55", False, None),
        ("*57300", False, None),
        ("1001", False, None),
    ],
)
def test_which_group_a_call_names(destination, dialled, number):
    assert number_to_load(destination, dialled) == number


@pytest.mark.parametrize(
    ("code", "state", "prompt"),
    [("*55", "true", fs.PROMPT_LOGGED_IN), ("*56", "false", fs.PROMPT_LOGGED_OUT)],
)
def test_a_member_logs_in_and_out_from_their_phone(code, state, prompt):
    grp = group(member("1001"), member("1002"))
    r = compile_call(request(f"{code}250"), data(grp, dialled=False), NOW)
    assert r.actions == (
        Answer(),
        FireEvent(
            fs.EVENT_GROUP_LOGIN,
            (
                (fs.EV_GROUP_DOMAIN, DOMAIN),
                (fs.EV_GROUP_NUMBER, "300"),
                (fs.EV_GROUP_MEMBER, "1001"),
                (fs.EV_GROUP_LOGGED_IN, state),
            ),
        ),
        Prompt(prompt),
        Hangup(fs.NORMAL_CLEARING),
    )


def test_only_a_member_may_use_the_log_in_code():
    grp = group(member("1002"))
    r = compile_call(request("*55300"), data(grp, dialled=False), NOW)
    assert r.actions[-1] == Hangup(fs.CALL_REJECTED)
    assert not any(isinstance(a, FireEvent) for a in r.actions)
