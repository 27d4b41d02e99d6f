"""yaml_text remembers how it writes keys: what it writes stays PyYAML's text."""

import enum

import pytest
import yaml

from provisioning import yaml_text


def reference_dump(data):
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


class Kind(enum.StrEnum):
    NATIONAL = "national"


@pytest.mark.parametrize(
    "key", ["name", "yes", "123", "null", "a: b", "- x", "it's", "2026-12-06", "~", "été"]
)
def test_key_when_written_again_then_the_same_text_as_pyyaml(key):
    data = {key: "x", "users": [{key: 1}, {key: [key]}]}
    assert yaml_text.dump(data) == reference_dump(data)
    assert yaml_text.dump(data) == reference_dump(data)  # remembered now


def test_key_when_a_str_subclass_equal_to_a_written_key_then_not_taken_for_it():
    assert yaml_text.dump({"national": 1}) == "national: 1\n"
    # PyYAML's safe dumper refuses a StrEnum; what it says is the answer, as before.
    with pytest.raises(yaml.representer.RepresenterError):
        reference_dump({Kind.NATIONAL: 1})
    with pytest.raises(yaml.representer.RepresenterError):
        yaml_text.dump({Kind.NATIONAL: 1})


def test_keys_when_more_than_remembered_then_still_written_right(monkeypatch):
    monkeypatch.setattr(yaml_text, "_KEYS", {})
    monkeypatch.setattr(yaml_text, "_MAX_KEYS", 3)
    data = {f"k{i}": i for i in range(10)} | {"true": 1, "k1": 2}
    assert yaml_text.dump(data) == reference_dump(data)
    assert len(yaml_text._KEYS) == 3
