"""Tenants' settings are kept per process and read again when the database renews
their stamp (Tenant.settings_stamp, migration 0011): every change reaches the next
call, whoever writes it."""

import copy

from sqlalchemy import delete, select, text, update

from provisioning.models import Gateway, Tenant
from tests.conftest import apply_raw
from tests.integration.test_tenant_routing_calls import DOMAIN, routing_tenant  # noqa: F401
from tests.integration.test_xmlcurl import actions, count_queries, dialplan

SPEED_DIAL = ("bridge", f"sofia/gateway/{DOMAIN}/+33970711058")


def stamp(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(Tenant.settings_stamp).where(Tenant.domain == DOMAIN))


def test_a_document_change_reaches_the_next_call(client, routing_tenant, engine):  # noqa: F811
    assert SPEED_DIAL in actions(dialplan(client, "550"))
    changed = copy.deepcopy(routing_tenant)
    changed["speed_dials"] = [{"code": "550", "number": "0145454546"}]
    apply_raw(engine, changed)
    assert ("bridge", f"sofia/gateway/{DOMAIN}/+33145454546") in actions(dialplan(client, "550"))


def test_a_hand_written_update_reaches_the_next_call(client, routing_tenant, engine):  # noqa: F811
    assert SPEED_DIAL in actions(dialplan(client, "550"))
    with engine.begin() as conn:
        conn.execute(update(Tenant).where(Tenant.domain == DOMAIN).values(speed_dials=[]))
        conn.execute(
            update(Gateway)
            .where(Gateway.tenant_id == select(Tenant.id).scalar_subquery())
            .values(number_format="national")
        )
    assert actions(dialplan(client, "550")) == [("hangup", "UNALLOCATED_NUMBER")]
    # The trunk's new number format: the national number is sent.
    assert ("bridge", f"sofia/gateway/{DOMAIN}/0899123456") in actions(
        dialplan(client, "0899123456")
    )


def test_a_tenant_deleted_and_created_again_is_not_mistaken_for_the_old_one(
    client,
    routing_tenant,  # noqa: F811
    engine,
):
    assert SPEED_DIAL in actions(dialplan(client, "550"))
    with engine.begin() as conn:
        conn.execute(delete(Tenant))
    changed = copy.deepcopy(routing_tenant)
    changed["speed_dials"] = []
    apply_raw(engine, changed)  # SQLite may give it the same id
    assert SPEED_DIAL not in actions(dialplan(client, "550"))


def test_the_first_call_after_a_change_costs_two_more_queries(client, routing_tenant, engine):  # noqa: F811
    def call():
        dialplan(client, "1000")

    assert count_queries(engine, call) == 1
    with engine.begin() as conn:
        conn.execute(update(Tenant).values(name="Renamed"))
    # The tenant's row with its trunk, then its groups' and queues' numbers.
    assert count_queries(engine, call, warm=False) == 3
    assert count_queries(engine, call, warm=False) == 1


def test_the_database_renews_the_stamp_on_every_change_of_tenant_or_trunk(
    routing_tenant,  # noqa: F811
    engine,
):
    seen = [stamp(engine)]

    def changed(statement) -> bool:
        with engine.begin() as conn:
            conn.execute(statement)
        seen.append(stamp(engine))
        return seen[-1] not in seen[:-1]

    tenant_id = select(Tenant.id).where(Tenant.domain == DOMAIN).scalar_subquery()
    assert changed(update(Tenant).values(holidays=[]))
    assert changed(update(Gateway).values(proxy="sip.other.example"))
    assert changed(delete(Gateway))
    assert changed(
        Gateway.__table__.insert().values(tenant_id=tenant_id, proxy="sip.example", transport="udp")
    )
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM hunt_groups")) > 0
        assert conn.scalar(text("SELECT count(*) FROM queues")) > 0
    # Lines, their live state and the groups' last answerer are read on every call
    # anyway: they leave the stamp be.
    assert not changed(text("UPDATE users SET display_name = 'Someone'"))
    assert not changed(text("UPDATE hunt_groups SET last_answerer_id = NULL"))
    # Which numbers are groups and queues, and their names (overflows name them).
    for table in ("hunt_groups", "queues"):
        assert changed(text(f"UPDATE {table} SET name = name || 'x'"))
        assert changed(text(f"UPDATE {table} SET short_number = NULL"))
        assert changed(text(f"DELETE FROM {table}"))


def test_a_group_created_is_dialled_by_the_next_call(client, routing_tenant, engine):  # noqa: F811
    assert actions(dialplan(client, "390")) == [("hangup", "UNALLOCATED_NUMBER")]
    changed = copy.deepcopy(routing_tenant)
    changed["groups"].append({"name": "Night", "extension": "390", "members": ["1000"]})
    apply_raw(engine, changed)
    assert any(app == "bridge" for app, _ in actions(dialplan(client, "390")))
