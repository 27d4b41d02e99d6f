"""What a call to a hunt group costs whatever its size, and that what is kept between
fetches (a group's members as loaded, their legs) never hides a change of their state."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from provisioning.models import GroupMember, HuntGroup, User
from tests.conftest import apply_raw, demo_document
from tests.integration.test_groups import member_legs, set_state
from tests.integration.test_xmlcurl import count_queries, dialplan
from xmlcurl import group_loader

DOMAIN = "127.0.0.1"
EXTRA = [str(2000 + i) for i in range(10)]


def tenant(engine, members: list[str], distribution: str = "hierarchical") -> None:
    raw = demo_document(
        groups=[
            {"name": "Sales", "extension": "300", "members": members, "distribution": distribution}
        ]
    )
    raw["users"] += [
        {
            "extension": extension,
            "name": f"User {extension}",
            "sip_password": f"Pass-{int(extension) * 7}-Word-xY",
            "voicemail": {"enabled": "false"},
        }
        for extension in EXTRA
    ]
    apply_raw(engine, raw)


def legs(client) -> list[str]:
    return [leg.split("/")[1].split("@")[0] for leg in member_legs(dialplan(client, "300"))]


def test_a_group_call_costs_two_queries_whatever_the_group_size(client, engine):
    for size in (1, 4, 10):  # 10: the most a group may have
        tenant(engine, EXTRA[:size])
        # The tenant and the caller's line, then the group with its members' state.
        assert count_queries(engine, lambda: dialplan(client, "300")) == 2
        assert legs(client) == EXTRA[:size]


def test_the_same_rows_give_the_same_group_and_legs(client, engine):
    tenant(engine, EXTRA[:10], "simultaneous")
    first = dialplan(client, "300")
    hits = group_loader._group_data.cache_info().hits
    again = dialplan(client, "300")
    assert group_loader._group_data.cache_info().hits == hits + 1
    assert member_legs(again) == member_legs(first)


def test_a_change_of_any_member_state_is_seen_at_the_next_call(client, engine):
    members = EXTRA[:10]
    tenant(engine, members, "cyclic")
    assert legs(client) == members
    set_state(engine, members[3], active_calls=5, registered=True)  # busy: at their maximum
    assert legs(client) == members[:3] + members[4:]
    set_state(engine, members[3], active_calls=0, registered=True)
    assert legs(client) == members
    with engine.begin() as conn:
        user_id = conn.scalar(select(User.id).where(User.extension == members[5]))
        conn.execute(
            update(GroupMember).where(GroupMember.user_id == user_id).values(logged_in=False)
        )
    assert legs(client) == members[:5] + members[6:]
    with engine.begin() as conn:
        conn.execute(update(GroupMember).values(logged_in=True))
        conn.execute(update(HuntGroup).values(last_answerer_id=user_id))
    # Cyclic: the ring starts after the member who answered last.
    assert legs(client) == members[6:] + members[:6]


def test_least_active_follows_when_each_call_ended(client, engine):
    members = EXTRA[:10]
    tenant(engine, members, "least_active")
    assert legs(client) == members
    set_state(
        engine, members[0], last_call_end=datetime(2026, 12, 6, 8, tzinfo=UTC), registered=True
    )
    set_state(
        engine, members[1], last_call_end=datetime(2026, 12, 6, 7, tzinfo=UTC), registered=True
    )
    assert legs(client) == [*members[2:], members[1], members[0]]
