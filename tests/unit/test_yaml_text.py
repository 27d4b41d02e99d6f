"""yaml_text reads and writes what PyYAML's reference classes do, without them for the
documents Centrex itself writes."""

import json
import random
import string

import pytest
import yaml

from provisioning import yaml_text
from provisioning.document import dump_document, dump_text, load_text, parse_document
from tests.conftest import DEMO_YAML, demo_document


def reference_load(text):
    try:
        return yaml.load(text, Loader=yaml_text.StringsLoader), None
    except yaml.YAMLError as exc:
        return None, str(exc)


def fast_load(text):
    try:
        return yaml_text.load(text), None
    except yaml.YAMLError as exc:
        return None, str(exc)


def reference_dump(data):
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@pytest.mark.parametrize(
    "text",
    [
        DEMO_YAML.read_text(),
        "extension: 0100\nflag: yes\nnothing: null\ntilde: ~\nempty:\nquoted: 'null'\n",
        '{"domain": "a.example", "users": [{"extension": 100, "x": true, "y": null}]}',
        "a: [1, {b: c}, [d]]\n",
        "",
        "just text\n",
        "~: key is null\n",
        "a: &x {b: 1}\nc: *x\n",  # anchors and aliases: the reference loader
        "a: !!int 5\nb: !custom x\n",  # tags
        "a: 1\n---\nb: 2\n",  # two documents: an error
        "a: [1, 2\n",  # unclosed: an error
        "a: b: c\n",
        "? [a, b]\n: c\n",  # a list as a key: an error
        "? {a: 1}\n: c\n",
        "a: 'it''s'\nb: \"tab\\there\"\nc: >\n  folded\n  text\nd: |\n  kept\n  lines\n",
        "\ufeffa: 1\n",
        "a:\n- 1\n-\n- - x\n  - y\n",
    ],
)
def test_reading_gives_what_the_reference_loader_gives(text):
    assert fast_load(text) == reference_load(text)


def test_the_export_is_read_without_the_reference_loader(monkeypatch):
    text = dump_text(dump_document(parse_document(demo_document())))
    expected = reference_load(text)[0]

    def refuse(*_args, **_kwargs):
        raise AssertionError("read by PyYAML's pure-Python loader")

    monkeypatch.setattr(yaml, "load", refuse)
    assert yaml_text.load(text) == expected


@pytest.mark.parametrize(
    "value",
    [
        "1000",
        "0100",
        "+33184800100",
        "yes",
        "No",
        "true",
        "null",
        "~",
        "",
        "2026-12-25",
        "14:00",
        "08:00-12:00",
        "1.5",
        "=",
        "<<",
        " leading",
        "trailing ",
        "a: b",
        "a:",
        "a #b",
        "a#b",
        "#x",
        "- x",
        "-x",
        "?",
        ":x",
        "---x",
        "...x",
        "O'Brien",
        "'quoted'",
        '"dq"',
        "@home",
        "a@b.example",
        "Pw!#%&*[]{}|>,?`x",
        "tab\there",
        "line\nbreak",
        "nel\x85",
        "sep\u2028",
        "bom\ufeff",
        "Élodie Müller",
        "中文",
        "emoji 😀",
        "nbsp\u00a0x",
        "word " * 20,
        "x" * 100,
        True,
        False,
        None,
        0,
        -5,
        10**20,
    ],
)
def test_writing_a_value_gives_what_safe_dump_gives(value):
    for data in (
        {"key": value},
        {"users": [{"name": value, "nested": {"deep": {"list": [value, [value]]}}}]},
        {"users": [value, [value], {}, []], "k": {}},
    ):
        assert dump_text(data) == reference_dump(data)


def test_long_text_is_folded_as_pyyaml_folds_it():
    name = "Service des relations avec la clientèle et des réclamations écrites"
    data = {"users": [{"call_handling": {"rule_lists": [{"name": name, "rules": []}]}}]}
    assert dump_text(data) == reference_dump(data)


def test_collections_met_twice_are_written_with_anchors_as_pyyaml_writes_them():
    shared = ["a", "b"]
    data = {"x": shared, "y": {"z": shared}}
    assert dump_text(data) == reference_dump(data)
    assert "&id001" in dump_text(data)


@pytest.mark.parametrize("data", [{}, [], ["a"], "text", {"a": 1.5}, {1: "a"}, {"": "a"}])
def test_anything_else_is_written_by_pyyaml(data):
    assert dump_text(data) == reference_dump(data)


def test_the_export_is_written_without_pyyamls_emitter(monkeypatch):
    data = dump_document(parse_document(demo_document()))
    expected = reference_dump(data)

    def refuse(*_args, **_kwargs):
        raise AssertionError("written by PyYAML's pure-Python dumper")

    monkeypatch.setattr(yaml, "safe_dump", refuse)
    assert yaml_text.dump(data) == expected


def test_random_documents_are_read_and_written_as_pyyaml_does():
    rng = random.Random(10)
    pools = [
        string.ascii_letters + string.digits,
        string.ascii_letters + " ",
        string.printable,
        " -:#'\"!&*?,[]{}|>%@`0123456789.+~",
        "0123456789:-.+eE_ ",
        "yYnNtTfFoO~ul",
        string.ascii_letters + "éàüß€中😀\u00a0\u2028\x85\ufeff",
    ]

    def text():
        pool = rng.choice(pools)
        return "".join(rng.choice(pool) for _ in range(rng.choice([0, 1, 2, 4, 9, 30, 90])))

    def value(depth=0):
        r = rng.random()
        if depth < 4 and r < 0.2:
            return {text() or "k": value(depth + 1) for _ in range(rng.randrange(4))}
        if depth < 4 and r < 0.4:
            return [value(depth + 1) for _ in range(rng.randrange(4))]
        if r < 0.47:
            return rng.choice([True, False, None, 0, 7, -3])
        return text()

    for _ in range(500):
        data = {rng.choice(["users", "numbers", text() or "k"]): value() for _ in range(3)}
        written = reference_dump(data)
        assert dump_text(data) == written
        for source in (written, json.dumps(data), yaml.dump(data, default_style='"')):
            assert fast_load(source) == reference_load(source)


def test_load_text_reports_what_pyyaml_reports():
    from provisioning.document import DocumentInvalid

    with pytest.raises(DocumentInvalid) as info:
        load_text("a: [1, 2\n")
    assert info.value.problems[0].message == (
        f"not valid YAML or JSON: {reference_load('a: [1, 2' + chr(10))[1]}"
    )


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: 2\na: 3\n",  # the fast loop finds it
        "x: &x {a: 1}\ny: {a: 2, a: 3}\n",  # an anchor: the reference loader finds it
        '{"users": [], "users": []}',
    ],
)
def test_a_key_given_twice_is_refused_where_it_is_given_again(text):
    """PyYAML keeps the last of two equal keys without a word: a second `users:` would
    silently drop the first one's users."""
    from provisioning.document import DocumentInvalid

    with pytest.raises(DocumentInvalid) as info:
        load_text(text)
    message = info.value.problems[0].message
    again = text.rindex("a: 3" if "a: 3" in text else '"users"')
    line, column = text.count("\n", 0, again) + 1, again - text.rfind("\n", 0, again)
    assert "twice" in message and f"line {line}, column {column}" in message
    assert "twice" in reference_load(text)[1]  # the reference loader refuses it too


def test_equal_keys_in_different_mappings_are_fine():
    assert load_text("x: {a: 1}\ny: {a: 2}\nz: [{a: 3}, {a: 4}]\n") == {
        "x": {"a": "1"},
        "y": {"a": "2"},
        "z": [{"a": "3"}, {"a": "4"}],
    }
