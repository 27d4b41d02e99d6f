"""The trace's phrases (xmlcurl.trace, said by the compiler and by provisioning.explain)
and the panel's words for them (admin.explain.words): every code worded, in English and
in French, with no value the phrase does not give."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from flask_babel import LazyString, force_locale

from admin.explain.words import VERBATIM, WORDS, say
from xmlcurl.trace import Phrase, Step, phrase

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*sorted((ROOT / "xmlcurl").glob("*.py")), ROOT / "provisioning" / "explain.py"]
PLACEHOLDER = re.compile(r"%\((\w+)\)([sdr])")
# Said alike in both languages: the parts are the words (a weekday, in its own phrase).
SAME_IN_FRENCH = {"time"}


def _phrases() -> dict[str, set[str]]:
    """Every `phrase("code", "template", …)` of the sources: code → its templates."""
    found: dict[str, set[str]] = {}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "phrase":
                code, template = node.args[:2]
                assert isinstance(code, ast.Constant) and isinstance(template, ast.Constant), (
                    f"{path}:{node.lineno}: say a phrase with a literal code and template"
                )
                found.setdefault(code.value, set()).add(template.value)
    return found


PHRASES = _phrases()


def _sample(template: str) -> Phrase:
    return Phrase(
        "",
        template,
        tuple((name, 7 if kind == "d" else "x") for name, kind in PLACEHOLDER.findall(template)),
    )


def test_a_code_is_one_phrase_and_every_one_is_worded():
    assert len(PHRASES) > 150
    assert {code for code, templates in PHRASES.items() if len(templates) > 1} == set()
    assert set(PHRASES) - set(WORDS) - VERBATIM == set()
    assert set(WORDS) | VERBATIM <= set(PHRASES)  # nothing worded that is never said
    assert VERBATIM.isdisjoint(WORDS)


def test_the_panel_uses_no_value_the_phrase_does_not_give():
    for code, wording in WORDS.items():
        if isinstance(wording, LazyString):
            (template,) = PHRASES[code]
            given = set(PLACEHOLDER.findall(template))
            assert set(PLACEHOLDER.findall(wording._args[0])) <= given, code


@pytest.mark.parametrize("code", sorted(set(PHRASES) - VERBATIM))
def test_every_phrase_is_worded_in_french_and_in_english(babel_app, code):
    (template,) = PHRASES[code]
    sample = _sample(template)
    said = Phrase(code, template, sample.values)
    with force_locale("en"):
        english = say(said)
    with force_locale("fr"):
        french = say(said)
    assert english and french
    assert "%(" not in french and "%(" not in english  # every placeholder filled
    if code not in SAME_IN_FRENCH:
        assert french != english, code


def test_a_phrase_is_its_english_sentence_and_nested_phrases_are_worded_too(babel_app):
    kind = phrase("forward_kind_busy", "busy")
    said = phrase("forward_to", "%(kind)s to %(target)s", kind=kind, target="1002")
    assert str(said) == "busy to 1002"
    step = Step("forward", said, False, None)
    assert (step.rule, step.why) == ("busy to 1002", "")
    with force_locale("fr"):
        assert say(said) == "renvoi si occupé vers 1002"
        assert say(phrase("extension", "%(extension)s", extension="1001")) == "1001"
        assert say(phrase("not_worded_yet", "as %(x)s", x="said")) == "as said"
    with force_locale("en"):
        assert say(said) == "forward if busy to 1002"
