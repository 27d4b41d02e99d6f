"""Exact, faster forms of what the validation rules ask of their libraries.

A 100,000-user document runs every rule on every user, and a few library calls cost
more than the rule around them: email-validator reads an address's domain afresh for
each address (IDNA tables, 50 µs) though a tenant's addresses share a few domains, and
phonenumbers looks an extension up against the emergency numbers through its general
parsing of any typed number. Each helper here answers what the library answers, for
the inputs the rules give it; `tests/unit/test_rule_speed.py` holds them to it.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable
from typing import Any

import email_validator
import phonenumbers
from phonenumbers.phonemetadata import PhoneMetadata


@functools.cache
def _emergency_pattern(country: str) -> re.Pattern[str] | None:
    metadata = PhoneMetadata.short_metadata_for_region(country.upper(), None)
    desc = None if metadata is None else metadata.emergency
    pattern = None if desc is None else desc.national_number_pattern
    return re.compile(pattern) if pattern else None


def is_emergency_digits(digits: str, country: str) -> bool:
    """`shortnumberinfo.is_emergency_number(digits, country)` for ASCII digits only
    (an extension): for those, that function reads the digits as they are and matches
    the whole of them against the country's emergency pattern, which is all this does,
    with the pattern compiled once."""
    pattern = _emergency_pattern(country)
    return pattern is not None and pattern.fullmatch(digits) is not None


@functools.cache
def digit_sequences(length: int) -> re.Pattern[str]:
    """`length` (≥ 2) consecutive ascending or descending ASCII digits: 0123 … 6789 and
    3210 … 9876 for 4."""
    ascending = ["".join(map(str, range(first, first + length))) for first in range(11 - length)]
    return re.compile("|".join(ascending + [run[::-1] for run in ascending]) or "(?!)")


# email-validator's validate_email calls this name of its module for the domain part.
_EMAIL_MODULE = importlib.import_module("email_validator.validate_email")
_DOMAIN_CHECK = "validate_email_domain_name"


def _domain_reader(check: Callable[..., Any]) -> Callable[..., Any]:
    """`check` (email-validator's domain check, a pure function of the domain, its two
    flags and the special-use names) remembered per domain. A refused domain is not
    remembered: it raises afresh, with its own message, each time."""

    @functools.lru_cache(maxsize=4096)
    def remembered(
        domain: str, test_environment: bool, globally_deliverable: bool, _special: tuple[str, ...]
    ) -> dict[str, Any]:
        return dict(
            check(
                domain, test_environment=test_environment, globally_deliverable=globally_deliverable
            )
        )

    def read_domain(
        domain: str, test_environment: bool = False, globally_deliverable: bool = True
    ) -> dict[str, Any]:
        special = tuple(email_validator.SPECIAL_USE_DOMAIN_NAMES)
        # A copy: the caller may keep or change what it is given.
        return dict(remembered(domain, test_environment, globally_deliverable, special))

    read_domain.remembered = remembered  # type: ignore[attr-defined]
    read_domain.original = check  # type: ignore[attr-defined]
    return read_domain


def remember_in_libraries() -> None:
    """Make the libraries the rules call keep what they work out, process-wide:
    phonenumbers its compiled metadata patterns (its own option: without it every
    pattern of every number type is looked up in the `re` module's cache, 12 lookups a
    number), email-validator each domain it has accepted. Idempotent."""
    phonenumbers.enable_pattern_cache()
    _cache_email_domains()


def _cache_email_domains() -> None:
    # Left as it is if the library no longer calls its domain check by that name.
    check = getattr(_EMAIL_MODULE, _DOMAIN_CHECK, None)
    if check is None or hasattr(check, "remembered"):
        return
    setattr(_EMAIL_MODULE, _DOMAIN_CHECK, _domain_reader(check))
