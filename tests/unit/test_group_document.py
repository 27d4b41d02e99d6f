"""Hunt groups in the tenant document: the checks `parse_document` runs on them."""

import pytest

from provisioning.document import parse_document
from tests.conftest import demo_document
from tests.unit.test_document import problems


def doc_with(*groups, **changes):
    return demo_document(groups=list(groups), **changes)


def sales(**kw):
    return {"name": "Sales", "extension": "300", "members": ["1000", "1001"], **kw}


def test_a_valid_group_keeps_its_settings_and_defaults():
    group = parse_document(doc_with(sales(short_number="250"))).groups[0]
    assert (group.distribution, group.rings, group.cycles, group.max_members) == (
        "hierarchical",
        4,
        1,
        10,
    )
    assert group.overflow.kind == "hangup" and not group.members_call_handling


@pytest.mark.parametrize(
    ("groups", "path", "message"),
    [
        ((sales(), sales(extension="301")), "groups[1].name", "already the name"),
        ((sales(), sales(name="Support")), "groups[1].extension", "already used"),
        ((sales(extension="1000"),), "groups[0].extension", "already used"),
        ((sales(short_number="199"),), "groups[0].short_number", "between 200 and 999"),
        ((sales(short_number="1000"),), "groups[0].short_number", ""),
        (
            (sales(members=["1000", "1001", "1002"], max_members=2),),
            "groups[0].members",
            "at most 2",
        ),
        ((sales(members=["1000", "4242"]),), "groups[0].members[1]", "no user"),
        ((sales(members=["1000", "1000"]),), "groups[0].members[1]", "twice"),
        ((sales(overflow={"group": "Nowhere"}),), "groups[0].overflow.group", "no group"),
        ((sales(overflow={"voicemail": "1002"}),), "groups[0].overflow.voicemail", "voicemail"),
        (
            (
                sales(overflow={"group": "Support"}),
                sales(name="Support", extension="301", overflow={"group": "Sales"}),
            ),
            "groups[0].overflow",
            "overflow loop",
        ),
    ],
)
def test_group_problems_are_reported_with_their_path(groups, path, message):
    found = problems(doc_with(*groups))
    assert path in found, found
    assert message in found[path]


@pytest.mark.parametrize("field", [{"rings": 0}, {"cycles": 11}, {"distribution": "round"}])
def test_out_of_range_settings_are_refused(field):
    assert any(p.startswith("groups[0]") for p in problems(doc_with(sales(**field))))
