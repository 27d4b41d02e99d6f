"""INs of fixed lengths (centrex.db.slots): the same rows as an expanding IN, a handful
of statements for every length."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, create_engine, select

from centrex.db import in_slots, slot_values, slots

ROWS = Table("rows", MetaData(), Column("id", Integer, primary_key=True), Column("name", String))
NAMES = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]
ENGINE = create_engine("sqlite://")
ROWS.metadata.create_all(ENGINE)
with ENGINE.begin() as conn:
    conn.execute(ROWS.insert(), [{"name": n} for n in NAMES])


def test_lengths_go_by_powers_of_two():
    lengths = (0, 1, 2, 3, 4, 5, 8, 9, 64, 65)
    assert [slots(n) for n in lengths] == [1, 1, 2, 4, 4, 8, 8, 16, 64, 128]
    assert slot_values("x", ["p", "q", "r"]) == {"x0": "p", "x1": "q", "x2": "r", "x3": "r"}


@given(st.lists(st.sampled_from([*NAMES, "zz", ""]), min_size=1, max_size=40))
def test_the_same_rows_as_an_expanding_in(wanted):
    expanding = select(ROWS.c.id).where(ROWS.c.name.in_(bindparam("names", expanding=True)))
    fixed = select(ROWS.c.id).where(in_slots(ROWS.c.name, "n", slots(len(wanted))))
    with ENGINE.connect() as conn:
        expected = sorted(conn.scalars(expanding, {"names": wanted}))
        assert sorted(conn.scalars(fixed, slot_values("n", wanted))) == expected
