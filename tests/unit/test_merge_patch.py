"""JSON merge patch (RFC 7396) as a user's PATCH applies it: the RFC's own examples."""

import pytest

from provisioning.user_settings import merge_patch

# RFC 7396, appendix A: original, patch, result.
EXAMPLES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize("original, patch, result", EXAMPLES)
def test_the_rfc_s_examples(original, patch, result):
    assert merge_patch(original, patch) == result


def test_the_original_is_left_as_it_was():
    original = {"voicemail": {"pin": "270593", "emails": ["a@example.com"]}}
    merge_patch(original, {"voicemail": {"emails": None}})
    assert original == {"voicemail": {"pin": "270593", "emails": ["a@example.com"]}}
