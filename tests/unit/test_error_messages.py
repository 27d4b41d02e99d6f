"""Domain errors as data (provisioning.errors) and the panel's words for them
(admin.messages): codes stable, English the same everywhere, French for every refusal
the panel can show, and a refusal without a code still said."""

import ast
import re
import typing
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale
from pydantic_core.core_schema import ErrorType

from admin.languages import TRANSLATIONS, Catalogues
from admin.messages import MESSAGES, word
from provisioning import validation as v
from provisioning.document import DocumentInvalid, parse_document
from provisioning.errors import DomainError, Problem, Said, said, structure_problem

ROOT = Path(__file__).resolve().parents[2]
# The modules whose refusals the panel can show: a line's settings, a user's values and
# contacts (the panel applies the whole document: the user's own checks), media, log-in
# and passwords. Their every code has its words in admin.messages.
PANEL_MODULES = [
    "provisioning/validation.py",
    "provisioning/call_handling.py",
    "provisioning/line_settings.py",
    "provisioning/contacts_csv.py",
    "provisioning/media.py",
    "provisioning/mpeg.py",
    "provisioning/lookup.py",
    "provisioning/accounts.py",
    "provisioning/park.py",
    "provisioning/conferences.py",
    "provisioning/conference_rooms.py",
    "provisioning/account_security.py",
    "esl/clicktocall.py",
    "esl/calllog.py",
    "provisioning/explain.py",
]
PANEL_CODES = {
    "pin_required",
    "contact_listed_twice",
    "number_listed_twice",
    "media_limit",
    "unknown_media",
}
PLACEHOLDER = re.compile(r"%\((\w+)\)([sdr])")


def _said_in(path: Path) -> list[tuple[str, str]]:
    """Every `said("code", "template", …)` of a module: its code and template."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "said":
            code, template = node.args[:2]
            assert isinstance(code, ast.Constant) and isinstance(template, ast.Constant), (
                f"{path}:{node.lineno}: say a refusal with a literal code and template"
            )
            found.append((code.value, template.value))
    return found


def _domain() -> dict[str, set[str]]:
    templates: dict[str, set[str]] = {}
    for package in ("provisioning", "esl", "xmlcurl", "centrex"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for code, template in _said_in(path):
                templates.setdefault(code, set()).add(template)
    return templates


def _sample(template: str) -> dict[str, str | int]:
    return {name: 7 if kind == "d" else "x" for name, kind in PLACEHOLDER.findall(template)}


def test_a_code_means_one_thing_worded_one_way():
    domain = _domain()
    assert len(domain) > 100
    assert {code: t for code, t in domain.items() if len(t) > 1} == {}
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", code) for code in domain)


def test_the_panel_says_every_refusal_it_can_show_with_the_domain_s_own_template():
    domain = _domain()
    shown = {code for m in PANEL_MODULES for code, _ in _said_in(ROOT / m)} | PANEL_CODES
    assert shown - set(MESSAGES) == set()
    structure = set(typing.get_args(ErrorType))
    for code, template in MESSAGES.items():
        # The panel's English is the domain's, so a French catalogue entry is the
        # translation of what the CLI and the REST API say; pydantic's types excepted.
        if code not in structure:
            assert domain.get(code) == {template._args[0]}, code
        else:
            assert code not in domain, code


def test_every_french_template_renders_with_the_domain_s_params():
    french = Catalogues().compiled["fr"]
    with (TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po)
    for lazy in MESSAGES.values():
        template = lazy._args[0]
        assert catalogue[template].string, template
        translated = french.gettext(template)
        assert translated != template or "%(" in template
        assert "%(" not in translated % _sample(template)


def test_said_is_its_english_sentence_and_a_problem_keeps_code_and_params():
    refusal = said(
        "extension_taken",
        "%(extension)s is already used by %(owner)s",
        extension="1001",
        owner="users[1]",
    )
    assert str(refusal) == "1001 is already used by users[1]"
    problem = Problem("users[3].extension", refusal)
    assert (problem.path, problem.message, problem.code) == (
        "users[3].extension",
        "1001 is already used by users[1]",
        "extension_taken",
    )
    assert problem.params == {"extension": "1001", "owner": "users[1]"}
    assert str(problem) == "users[3].extension: 1001 is already used by users[1]"
    assert (
        str(said("email_characters", "letters and . _ %% + - only")) == "letters and . _ % + - only"
    )
    # Problems stay hashable and comparable, as the document's checks use them.
    assert len({problem, Problem("users[3].extension", refusal)}) == 1


def test_a_refusal_without_a_code_is_said_as_it_is():
    problem = Problem("users[0].name", "must be nice")
    assert (problem.code, problem.params, problem.message) == ("", {}, "must be nice")
    error = DomainError("no way")
    assert (error.code, str(error), error.problems) == ("", "no way", [Problem("", "no way")])


def test_validation_raises_its_code_and_the_document_keeps_it_with_the_path():
    with pytest.raises(v.InvalidValue) as raised:
        v.check_public_number("06 12", "FR")
    assert raised.value.code == "number_invalid" and raised.value.params == {"country": "FR"}
    raw = {
        "domain": "pbx.example.com",
        "name": "Example",
        "timezone": "Europe/Paris",
        "country": "FR",
        "users": [
            {"extension": "1001", "name": "A", "sip_password": "Secret-Pass-42x"},
            {"extension": "1001", "name": "B", "sip_password": "Secret-Pass-43x"},
        ],
    }
    with pytest.raises(DocumentInvalid) as invalid:
        parse_document(raw)
    taken = [p for p in invalid.value.problems if p.code == "extension_taken"]
    assert [(p.path, p.params) for p in taken] == [
        ("users[1].extension", {"extension": "1001", "owner": "users[0]"})
    ]


def test_structural_problems_carry_pydantic_s_type_as_code():
    problem = structure_problem(
        "users[0].contacts",
        {"type": "too_long", "msg": "List should have at most 5 items", "ctx": {"max_length": 5}},
    )
    assert (problem.code, problem.params, problem.message) == (
        "too_long",
        {"max_length": 5},
        "List should have at most 5 items",
    )
    odd = structure_problem("x", {"type": "string_pattern_mismatch", "msg": "100% wrong"})
    assert odd.message == "100% wrong"


def test_word_says_a_refusal_in_the_user_s_language_and_falls_back_to_english(babel_app):
    loop = Problem("call_handling.forward_always.to", v.forwarding_loop(["1001", "1002", "1001"]))
    with force_locale("fr"):
        assert word(loop) == "renvois en boucle : 1001 → 1002 → 1001"
        assert word(Problem("x", "no code yet")) == "no code yet"
        assert word(Problem("x", Said("a_code_the_panel_lacks", "as the domain says it"))) == (
            "as the domain says it"
        )
        # A panel template that lost a placeholder: the domain's own English, not an error.
        assert word(Problem("x", Said("forwarding_loop", "loop", {}))) == "loop"
        with pytest.raises(v.InvalidValue) as raised:
            v.check_panel_password("short", own_numbers=[])
        assert word(raised.value) == "doit compter de 12 à 20 caractères"
    with force_locale("en"):
        assert word(loop) == "forwarding loop 1001 → 1002 → 1001"
