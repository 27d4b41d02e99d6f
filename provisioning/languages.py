"""The language a tenant's users read until they choose one: the panel's default and the
language of the names Centrex writes for them (national holidays)."""

from __future__ import annotations

# A tenant's country → its users' language; English elsewhere.
COUNTRY_LANGUAGES = {"FR": "fr"}
DEFAULT_LANGUAGE = "en"


def tenant_language(country: str) -> str:
    return COUNTRY_LANGUAGES.get(country.upper(), DEFAULT_LANGUAGE)
