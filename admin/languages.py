"""The panel in French and English (Flask-Babel), numbers and dates as the user reads them.

The language of a request: the one the user chose with the panel's switch (a cookie),
else the language of the tenant's country (FR → French), else the browser's preference
among French and English, else English. Dates and times are shown in the tenant's
timezone, phone numbers in the national format of the tenant's country.

The catalogues are `translations/<language>/LC_MESSAGES/messages.po`; each process
compiles them once, in memory, with babel's own compiler: there is no `.mo` file to
build or to ship.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import phonenumbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, g, has_request_context, request
from flask_babel import Babel, Domain, format_date, format_datetime, format_number, get_locale
from werkzeug.wrappers import Response as WerkzeugResponse

from provisioning.languages import COUNTRY_LANGUAGES, DEFAULT_LANGUAGE

# Each language named in itself, for the switch.
LANGUAGES = {"fr": "Français", "en": "English"}
COOKIE = "centrex_language"
_COOKIE_DAYS = 365
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


@dataclass(frozen=True)
class TenantPlace:
    """Where the logged-in user's tenant is: how its numbers and times are written."""

    country: str
    timezone: str
    # The company's name, shown in the header.
    name: str = ""


def _compiled(po: Path) -> Translations:
    with po.open("rb") as text:
        catalog = read_po(text)
    mo = BytesIO()
    write_mo(mo, catalog)
    mo.seek(0)
    return Translations(mo)


class Catalogues(Domain):
    """The panel's catalogues, compiled from their `.po` files (fuzzy entries left out)."""

    def __init__(self, directory: Path = TRANSLATIONS) -> None:
        super().__init__(translation_directories=[str(directory)])
        self.compiled = {
            po.parent.parent.name: _compiled(po)
            for po in sorted(directory.glob("*/LC_MESSAGES/messages.po"))
        }

    def get_translations(self) -> NullTranslations:
        locale = get_locale()
        return self.compiled.get(str(locale), NullTranslations())


@functools.cache
def catalogues() -> Catalogues:
    return Catalogues()


def _tenant_place() -> TenantPlace | None:
    place: TenantPlace | None = g.get("panel_tenant")
    return place


def select_language() -> str:
    if not has_request_context():
        return DEFAULT_LANGUAGE
    chosen = request.cookies.get(COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    place = _tenant_place()
    if place is not None and place.country in COUNTRY_LANGUAGES:
        return COUNTRY_LANGUAGES[place.country]
    best: str | None = request.accept_languages.best_match(LANGUAGES)
    return best or DEFAULT_LANGUAGE


def _select_timezone() -> str | None:
    place = _tenant_place() if has_request_context() else None
    return None if place is None else place.timezone


def remember_language(response: WerkzeugResponse, language: str, secure: bool) -> None:
    response.set_cookie(
        COOKIE,
        language,
        max_age=_COOKIE_DAYS * 24 * 3600,
        secure=secure,
        httponly=True,
        samesite="Lax",
    )


def phone_number(number: str, country: str | None = None) -> str:
    """An E.164 number as the tenant writes it: national format for its own country
    (`06 12 34 56 78`), international for others (`+44 20 7946 0958`); anything else
    (an extension, `voicemail`, a number that is not valid) as it is."""
    if not number.startswith("+"):
        return number
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return number
    if not phonenumbers.is_valid_number(parsed):
        return number
    if country is None:
        place = _tenant_place() if has_request_context() else None
        country = place.country if place is not None else None
    national = phonenumbers.region_code_for_number(parsed) == country
    return phonenumbers.format_number(
        parsed,
        phonenumbers.PhoneNumberFormat.NATIONAL
        if national
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    )


def date_and_time(value: datetime) -> str:
    """A moment in the tenant's timezone, as the user's language writes it briefly."""
    text: str = format_datetime(value, "short")
    return text


def date_only(value: date) -> str:
    """A calendar date as the user's language writes it (a reminder's day)."""
    text: str = format_date(value, "medium")
    return text


def number(value: int) -> str:
    text: str = format_number(value)
    return text


def init_languages(app: Flask) -> None:
    Babel(app, locale_selector=select_language, timezone_selector=_select_timezone)
    app.add_template_filter(phone_number, "phone")
    app.add_template_filter(date_and_time, "date_and_time")
    app.add_template_filter(date_only, "date_only")
    app.add_template_filter(number, "number")


def use_catalogues() -> None:
    """The panel's catalogues for this request's translations."""
    catalogues().as_default()


def language_context() -> dict[str, Any]:
    return {"languages": LANGUAGES, "language": str(get_locale())}
