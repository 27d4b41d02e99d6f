"""Shortcuts on every fetch's path, and what they rely on."""

from __future__ import annotations

from provisioning.feature_codes import (
    CODE,
    CODE_STARTS,
    CODES,
    Feature,
    code_prefix,
    codes_for,
    feature_dialled,
)


def test_every_code_starts_as_the_shortcut_expects() -> None:
    # feature_dialled and code_prefix tell a number that starts otherwise at once.
    assert all(code.prefix.startswith(CODE_STARTS) for code in CODES)
    assert not CODE.fullmatch("1234") and not CODE.fullmatch("0*1")
    assert CODE.fullmatch("*1234") and CODE.fullmatch("#12")


def test_numbers_are_no_codes_and_codes_still_are() -> None:
    tenant = codes_for({"dnd_on": "#78"})
    for number in ("1001", "+33184800101", "0612345678", "", "100000"):
        assert feature_dialled(number) is None
        assert feature_dialled(number, tenant) is None
        assert code_prefix(number, tenant) is None
    dnd = feature_dialled("#78", tenant)
    assert dnd is not None and dnd.feature is Feature.DND_ON
    forward = feature_dialled("*721002")
    assert forward is not None and forward.feature is Feature.FORWARD_ALWAYS_ON
    assert forward.argument == "1002"
    junk = code_prefix("*72x", CODES)
    assert junk is not None and junk.feature is Feature.FORWARD_ALWAYS_ON


def test_lines_are_read_from_the_last_columns_of_each_query() -> None:
    from xmlcurl import loader

    names = [column.key for column in loader._LINE_COLUMNS]
    for query in (loader._TENANT_QUERY, loader._PUBLIC_NUMBER_QUERY):
        assert list(query.selected_columns.keys())[-loader._LINE_WIDTH :] == names


def test_a_line_is_kept_by_every_value_read() -> None:
    from xmlcurl import loader

    values = ("1001", "Alice", "pw", None, 1, "1234", "[]", 2, 1, "[]", "[]", "{}", None, 0, 1)
    line = loader._line_data(values)
    assert loader._line_data(values) is line
    busy = loader._line_data((*values[:-2], 1, 1))
    assert busy is not line and busy.active_calls == 1 and line.active_calls == 0
    gone = loader._line_data((*values[:-1], 0))
    assert gone.registered is False and line.registered is True
