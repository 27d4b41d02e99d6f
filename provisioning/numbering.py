"""What kind of number a dialled or typed number is, seen from a tenant's country.

Pure. Decides which destination category a call or a forward falls in, so that a
user who may not call premium or international numbers cannot reach them through a
forward either (toll fraud).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType, shortnumberinfo


class Category(enum.StrEnum):
    EMERGENCY = "emergency"  # always allowed
    NATIONAL = "national"  # fixed, mobile, toll-free and VoIP numbers of the tenant's country
    INTERNATIONAL = "international"  # any number of another country
    PREMIUM = "premium"  # premium rate, shared cost, and short service numbers


# What a user may call when nothing else is said.
DEFAULT_ALLOWED = frozenset({Category.NATIONAL})

_PREMIUM_TYPES = {PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST}


@dataclass(frozen=True)
class Classified:
    e164: str | None  # None for short numbers, which only exist nationally
    category: Category
    # What is dialled out when there is no E.164 form: the digits, without a send key.
    digits: str


class NotANumber(ValueError):
    pass


# Digits and an optional leading +: anything else is not a phone number.
_PHONE_DIGITS = re.compile(r"\+?[0-9]{1,20}")
# Phones send `#` to mean "dial now"; a trailing one is not part of the number.
_SEND_KEY = "#"


def classify(dialled: str, country: str) -> Classified:
    """`dialled` is whitelisted (digits, `*`, `#`, a leading +). Apart from a trailing
    send key, a `*` or `#` makes it no phone number: phonenumbers would skip them (`1*5`
    reads as 15, an emergency number) while the carrier would be sent them."""
    dialled = dialled.removesuffix(_SEND_KEY)
    if not _PHONE_DIGITS.fullmatch(dialled):
        raise NotANumber("holds * or #: not a phone number")
    if shortnumberinfo.is_emergency_number(dialled, country):
        return Classified(None, Category.EMERGENCY, dialled)
    try:
        parsed = phonenumbers.parse(dialled, country)
    except phonenumbers.NumberParseException as exc:
        raise NotANumber(str(exc)) from None
    if not phonenumbers.is_valid_number(parsed):
        if not dialled.startswith(("+", "00")) and shortnumberinfo.is_valid_short_number_for_region(
            phonenumbers.parse(dialled, country), country
        ):
            return Classified(None, Category.PREMIUM, dialled)
        raise NotANumber("not a valid phone number")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if phonenumbers.region_code_for_number(parsed) != country:
        return Classified(e164, Category.INTERNATIONAL, dialled)
    if phonenumbers.number_type(parsed) in _PREMIUM_TYPES:
        return Classified(e164, Category.PREMIUM, dialled)
    return Classified(e164, Category.NATIONAL, dialled)


def to_e164(number: str, country: str) -> str | None:
    """A number as a caller ID carries it, in E.164 if it is a valid phone number: in
    national form for `country`, international, or international digits without their
    `+` (some carriers send those). One reading for routing (caller lists, contacts) and
    the call log, so that a contact recognised in one is recognised in the other."""
    for text, region in ((number, country), ("+" + number.lstrip("+"), None)):
        try:
            parsed = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return None


def national_digits(e164: str) -> str:
    """An E.164 number as dialled at home, digits only (`+33184800100` → `0184800100`)."""
    national = phonenumbers.format_number(
        phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL
    )
    return "".join(c for c in national if c.isdigit())


def line_numbers(extension: str, *numbers: str | None) -> list[str]:
    """Every form of a line's numbers a person could put in a PIN or a password (which
    must hold none of them): the extension, and each E.164 number as written and in
    national form. One definition for the document, the panel and the phone's menu."""
    forms = [extension]
    for number in numbers:
        if number:
            forms += [number, national_digits(number)]
    return forms


def allowed(category: Category, allowed_categories: frozenset[Category]) -> bool:
    return category is Category.EMERGENCY or category in allowed_categories


def format_for_carrier(e164: str, number_format: str) -> str:
    """A number as a carrier trunk wants it: `e164` (+33…), `e164-digits` (33…) or
    `national` (0…, the digits only)."""
    if number_format == "e164-digits":
        return e164.lstrip("+")
    if number_format == "national":
        parsed = phonenumbers.parse(e164)
        national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        return "".join(c for c in national if c.isdigit())
    return e164
