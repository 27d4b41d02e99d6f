"""Applying and exporting a tenant of thousands of users: users and numbers compared as
plain values and written in batches, the document read user by user, the export built
without a model per user — with the same report, rows and document as ever."""

import copy

import pytest
from sqlalchemy import func, select

from centrex.db import make_session_factory
from provisioning import service
from provisioning.document import DocumentInvalid, dump_document, parse_document
from provisioning.models import GroupMember, PublicNumber, Tenant, User
from tests.conftest import apply_raw, demo_document

DOMAIN = "big.example"
# More users than one batch of rows (service._BATCH), so that every statement repeats.
USERS = 2_500


def big_document(users: int = USERS) -> dict:
    raw = demo_document(DOMAIN)
    for i in range(users):
        extension = str(200000 + i)
        user = {
            "extension": extension,
            "name": f"User {i}",
            "sip_password": f"Pass{i:06d}Word",
            "voicemail": {"pin": "190872" if i % 2 else "270593"},
        }
        if i % 3 == 0:
            user["voicemail"]["emails"] = [f"user{i}@big.example"]
        if i % 5 == 0:
            user["contacts"] = [{"name": "Home", "numbers": ["01 42 00 00 00"]}]
        if i % 7 == 0:
            user["call_handling"] = {"forward_busy": {"to": str(200000 + (i + 1) % users)}}
        if i % 11 == 0:
            user["allowed_destinations"] = ["national", "international"]
        raw["users"].append(user)
    raw["groups"] = [
        {"name": "Sales", "extension": "300", "members": ["1000", "200001", "200002"]},
        {"name": "Support", "extension": "301", "members": ["200003", "1001"]},
    ]
    raw["numbers"].append({"number": "+33184800102", "label": "Sales line", "user": "200002"})
    return raw


def apply_data(engine, raw) -> service.ApplyReport:
    with make_session_factory(engine).begin() as session:
        return service.apply_data(session, copy.deepcopy(raw))


def export(engine, domain=DOMAIN) -> dict:
    with make_session_factory(engine).begin() as session:
        return service.export_data(session, domain)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_new_tenant_is_created_whole_and_exported_as_written(engine):
    raw = big_document()
    report = apply_data(engine, raw)
    extensions = [u["extension"] for u in raw["users"]]
    assert report.created == [
        f"tenant {DOMAIN}",
        *(f"user {e}" for e in extensions),
        "number +33184800100",
        "number +33184800101",
        "number +33184800102",
        "gateway",
        "group Sales",
        "group Support",
    ]
    assert report.updated == report.deleted == []
    assert export(engine) == dump_document(parse_document(big_document()))


def test_the_same_document_again_changes_nothing_and_keeps_the_settings_stamp(engine, session):
    apply_data(engine, big_document())
    stamp = session.scalar(select(Tenant.settings_stamp))
    assert not apply_data(engine, big_document()).changed
    session.expire_all()
    assert session.scalar(select(Tenant.settings_stamp)) == stamp


def test_changes_added_and_removed_users_are_reported_in_order_and_written(engine, session):
    apply_data(engine, big_document())
    raw = big_document()  # users[k] is 200000 + k - 3 after the demo's three
    raw["users"][4]["voicemail"] = {"pin": "190872", "emails": ["new@big.example"]}
    raw["users"][500]["name"] = "Renamed"
    del raw["users"][1003 : 1003 + 1200]  # 201000 to 202199
    for i in range(1100):
        new = {"extension": str(300000 + i), "name": f"New {i}", "sip_password": "NewPass1234x"}
        raw["users"].append({**new, "voicemail": {"enabled": False}})
    report = apply_data(engine, raw)
    assert report.deleted == [f"user {ext}" for ext in range(201000, 202200)]
    assert report.created == [f"user {ext}" for ext in range(300000, 301100)]
    # The users after the removed ones moved up in the document.
    moved = [f"user {ext}" for ext in range(202200, 202500)]
    assert report.updated == ["user 200001", "user 200497", *moved]
    assert export(engine) == dump_document(parse_document(copy.deepcopy(raw)))
    assert count(session, User) == 3 + USERS - 1200 + 1100


def test_positions_follow_the_document_and_only_what_differs_is_updated(engine):
    apply_data(engine, big_document())
    raw = big_document()
    raw["users"][10]["name"] = "Renamed"
    raw["users"][2000]["max_concurrent_calls"] = 2
    report = apply_data(engine, raw)
    assert report.as_dict() == {
        "created": [],
        "updated": ["user 200007", "user 201997"],
        "deleted": [],
    }
    raw["users"].insert(0, raw["users"].pop())  # the last user moves first: all move
    report = apply_data(engine, raw)
    assert len(report.updated) == len(raw["users"])
    assert export(engine)["users"][0]["extension"] == raw["users"][0]["extension"]


def test_a_removed_group_member_leaves_the_group_and_the_tenant(engine, session):
    raw = demo_document()
    raw["groups"] = [{"name": "Sales", "extension": "300", "members": ["1000", "1001", "1002"]}]
    apply_raw(engine, raw)
    raw = demo_document()
    raw["users"] = raw["users"][:2]
    raw["groups"] = [{"name": "Sales", "extension": "300", "members": ["1000", "1001"]}]
    report = apply_raw(engine, raw)
    assert report.as_dict() == {"created": [], "updated": ["group Sales"], "deleted": ["user 1002"]}
    assert count(session, GroupMember) == 2
    assert count(session, User) == 2


def test_numbers_point_at_new_users_and_follow_their_removal(engine, session):
    apply_data(engine, big_document())
    raw = big_document()
    raw["users"].append(
        {
            "extension": "400000",
            "name": "Late",
            "sip_password": "LatePass1234",
            "voicemail": {"enabled": False},
        }
    )
    raw["numbers"][2]["user"] = "400000"
    report = apply_data(engine, raw)
    assert report.created == ["user 400000"]
    assert report.updated == ["number +33184800102"]
    new_id = session.scalar(select(User.id).where(User.extension == "400000"))
    assert (
        session.scalar(select(PublicNumber.user_id).where(PublicNumber.number == "+33184800102"))
        == new_id
    )
    raw["numbers"].pop(2)
    assert apply_data(engine, raw).deleted == ["number +33184800102"]


def test_a_document_with_a_problem_in_its_last_user_writes_nothing(engine, session):
    apply_data(engine, big_document())
    raw = big_document()
    raw["users"][0]["name"] = "Renamed"
    raw["users"][-1]["extension"] = "abc"
    with pytest.raises(DocumentInvalid) as info:
        apply_data(engine, raw)
    assert [p.path for p in info.value.problems] == [f"users[{len(raw['users']) - 1}].extension"]
    assert export(engine)["users"][0]["name"] == "Reception"


def test_the_export_is_the_document_the_models_give(engine):
    raw = big_document(300)
    raw["users"][5]["call_handling"] = {"selective": {}, "caller_id": {"withhold": True}}
    raw["users"][6]["voicemail"] = {"enabled": False}
    raw["users"][7].update(max_concurrent_calls=5, call_waiting=False, panel_admin=True)
    apply_data(engine, raw)
    with make_session_factory(engine).begin() as session:
        assert service.export_data(session, DOMAIN) == dump_document(
            service.export_document(session, DOMAIN)
        )
    with pytest.raises(service.NotFound):
        export(engine, "nobody.example")
