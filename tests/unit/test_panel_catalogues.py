"""The panel's catalogues: every message the panel says has its French translation, and
the catalogues hold nothing else."""

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from admin.languages import LANGUAGES, TRANSLATIONS, Catalogues

ADMIN = TRANSLATIONS.parent
KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}


def _extracted() -> set[str | tuple[str, ...]]:
    """The messages of the panel's code and templates, as `pybabel extract` finds them
    with admin/babel.cfg."""
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    found = extract_from_dir(ADMIN, method_map, keywords=KEYWORDS)
    return {message for _, _, message, _, _ in found}


def _catalogue(language: str):
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po)


def _translated(entry) -> bool:
    forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
    return all(forms)


def test_french_translates_every_message_of_the_panel():
    extracted = _extracted()
    assert len(extracted) > 80
    french = _catalogue("fr")
    missing = [
        message
        for message in extracted
        if message not in french or french[message].fuzzy or not _translated(french[message])
    ]
    assert missing == []
    assert list(french.check()) == []  # placeholders as the English has them


def test_every_catalogue_holds_the_panel_s_messages_and_no_others():
    extracted = _extracted()
    for language in LANGUAGES:
        catalogue = _catalogue(language)
        held = {m.id for m in catalogue if m.id}
        assert held == extracted, language


def test_the_catalogues_are_compiled_when_the_panel_starts():
    compiled = Catalogues().compiled
    assert set(compiled) == set(LANGUAGES)
    assert compiled["fr"].gettext("Do not disturb") == "Ne pas déranger"
    assert compiled["fr"].ngettext("%(num)s call", "%(num)s calls", 2) == "%(num)s appels"
    assert compiled["en"].gettext("Do not disturb") == "Do not disturb"
