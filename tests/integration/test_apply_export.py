"""Declarative provisioning: apply is idempotent, removes what the document drops,
validates before writing, and export gives the canonical document back."""

import pytest
from sqlalchemy import func, select

from provisioning import service
from provisioning.document import DocumentInvalid, dump_document, parse_document
from provisioning.models import PublicNumber, Tenant, User
from tests.conftest import apply_raw, demo_document


def export(session, domain="127.0.0.1"):
    return dump_document(service.export_document(session, domain))


def test_apply_twice_changes_nothing(engine):
    first = apply_raw(engine, demo_document())
    assert first.created[:2] == ["tenant 127.0.0.1", "user 1000"]
    second = apply_raw(engine, demo_document())
    assert not second.changed


def test_export_gives_the_canonical_document_back(engine, session):
    raw = demo_document()
    apply_raw(engine, raw)
    assert export(session) == dump_document(parse_document(demo_document()))


def test_export_keeps_the_documents_order(engine, session):
    raw = demo_document()
    raw["users"].reverse()
    raw["numbers"].reverse()
    apply_raw(engine, raw)
    doc = export(session)
    assert [u["extension"] for u in doc["users"]] == ["1002", "1001", "1000"]
    assert [n["number"] for n in doc["numbers"]] == ["+33184800101", "+33184800100"]


def test_items_removed_from_the_document_are_removed(engine, session):
    apply_raw(engine, demo_document())
    raw = demo_document()
    raw["users"] = [u for u in raw["users"] if u["extension"] != "1002"]
    raw["numbers"] = raw["numbers"][:1]
    del raw["users"][1]["public_number"]
    del raw["gateway"]
    report = apply_raw(engine, raw)
    assert sorted(report.deleted) == ["gateway", "number +33184800101", "user 1002"]
    doc = export(session)
    assert [u["extension"] for u in doc["users"]] == ["1000", "1001"]
    assert "gateway" not in doc


def test_a_changed_field_is_one_update(engine, session):
    apply_raw(engine, demo_document())
    raw = demo_document()
    raw["users"][1]["name"] = "Alice Dupont"
    report = apply_raw(engine, raw)
    assert report.as_dict() == {"created": [], "updated": ["user 1001"], "deleted": []}
    assert export(session)["users"][1]["name"] == "Alice Dupont"


def test_invalid_document_writes_nothing(engine, session):
    apply_raw(engine, demo_document())
    raw = demo_document()
    raw["users"][0]["name"] = "Renamed"
    raw["users"][1]["extension"] = "abc"
    with pytest.raises(DocumentInvalid):
        apply_raw(engine, raw)
    assert export(session)["users"][0]["name"] == "Reception"


def test_a_number_of_another_tenant_is_refused_and_nothing_written(engine, session):
    apply_raw(engine, demo_document())
    other = demo_document("pbx.other.example")
    with pytest.raises(DocumentInvalid) as info:
        apply_raw(engine, other)
    assert [p.path for p in info.value.problems] == ["numbers[0].number", "numbers[1].number"]
    assert session.scalar(select(func.count()).select_from(Tenant)) == 1


def test_deleting_a_tenant_removes_everything_it_owns(engine, session):
    apply_raw(engine, demo_document())
    service.delete_tenant(session, "127.0.0.1")
    session.flush()
    assert session.scalar(select(func.count()).select_from(User)) == 0
    assert session.scalar(select(func.count()).select_from(PublicNumber)) == 0
    with pytest.raises(service.NotFound):
        service.export_document(session, "127.0.0.1")


def test_national_holidays_import_into_the_tenant_is_idempotent(engine, session):
    apply_raw(engine, demo_document())
    report = service.import_holidays(session, "127.0.0.1", None, 2027)
    assert report.updated == ["tenant 127.0.0.1"]
    holidays = export(session)["holidays"]
    # Named in the tenant's language (the demo tenant is in France).
    assert {"name": "Lundi de Pâques", "date": "2027-03-29"} in holidays
    assert {"name": "Lundi de Pentecôte", "date": "2027-05-17"} in holidays
    assert len(holidays) == 11
    assert not service.import_holidays(session, "127.0.0.1", None, 2027).changed


def test_national_holidays_import_into_a_users_special_days(engine, session):
    raw = demo_document()
    raw["users"][1]["call_handling"] = {
        "rule_lists": [{"name": "Off", "default": {"action": "voicemail"}}],
        "planner": {"special_days": {"rule_list": "Off"}},
    }
    apply_raw(engine, raw)
    service.import_holidays(session, "127.0.0.1", "BE", 2027, "1001")
    dates = export(session)["users"][1]["call_handling"]["planner"]["special_days"]["dates"]
    assert "2027-07-21" in dates  # Belgian national day
    with pytest.raises(DocumentInvalid):
        service.import_holidays(session, "127.0.0.1", None, 2027, "1000")  # no special days set
    with pytest.raises(service.NotFound):
        service.import_holidays(session, "127.0.0.1", "ZZ", 2027)


def test_one_user_exports_as_in_the_whole_document(session, demo_tenant):
    from provisioning import service

    whole = service.export_document(session, "127.0.0.1")
    for user in whole.users:
        assert service.export_user(session, "127.0.0.1", user.extension) == user
    with pytest.raises(service.NotFound):
        service.export_user(session, "127.0.0.1", "4242")
    with pytest.raises(service.NotFound):
        service.export_user(session, "other.example", "1000")
