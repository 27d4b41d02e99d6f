"""What kind of number a dialled or typed number is, seen from a tenant's country.

Pure. The one place that decides which call-barring category a call, a forward or a
transfer falls in (the categories of the operator guide's "Blocage d'appel"), so that
a user who may not call premium or international numbers cannot reach them through a
forward either (toll fraud).
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType, shortnumberinfo

from provisioning import rule_speed


class Category(enum.StrEnum):
    EMERGENCY = "emergency"  # always allowed, never barred
    # Geographic numbers of the tenant's own area (its main number's area code).
    LOCAL = "local"
    # Fixed, mobile, toll-free and VoIP numbers of the tenant's country.
    NATIONAL = "national"
    INTERNATIONAL = "international"  # any number of another country
    PREMIUM = "premium"  # premium rate, shared cost, and short service numbers
    OPERATOR = "operator"  # the carriers' own short numbers (10xx in France)
    DIRECTORY = "directory"  # directory enquiries (118xxx in France)
    ACCESS_CODES = "access_codes"  # every star code (*318, *55…)
    SETTING_CODES = "setting_codes"  # star codes that change the line's settings


# What can be barred: everything but emergency numbers.
BARRABLE = frozenset(Category) - {Category.EMERGENCY}
# What a user may call when nothing else is said.
DEFAULT_ALLOWED = frozenset(
    {Category.LOCAL, Category.NATIONAL, Category.ACCESS_CODES, Category.SETTING_CODES}
)
DEFAULT_BARRED = BARRABLE - DEFAULT_ALLOWED


def allowed_from_barring(barred: frozenset[Category] | set[Category]) -> frozenset[Category]:
    return BARRABLE - barred


def barring_from_allowed(allowed_categories: frozenset[Category]) -> list[Category]:
    """The barred categories, sorted, as the document lists them."""
    return sorted(BARRABLE - allowed_categories)


def allowed_from_legacy(old: frozenset[Category] | set[Category]) -> frozenset[Category]:
    """An allow-list written before the categories were split, read as it was meant:
    national took in local numbers, premium took in operator and directory numbers,
    and star codes were never barred."""
    out = set(old) | {Category.ACCESS_CODES, Category.SETTING_CODES}
    if Category.NATIONAL in old:
        out.add(Category.LOCAL)
    if Category.PREMIUM in old:
        out |= {Category.OPERATOR, Category.DIRECTORY}
    return frozenset(out - {Category.EMERGENCY})


# Emergency numbers phonenumbers does not know as such (it has 15, 17, 18 and 112 for
# France): the rest of the French list, free and always to be reachable.
_EXTRA_EMERGENCY = {"FR": frozenset({"114", "115", "119", "191", "196", "197"})}
# Short numbers with a category of their own, by country.
_SHORT_CATEGORIES: dict[str, tuple[tuple[re.Pattern[str], Category], ...]] = {
    "FR": (
        (re.compile(r"118[0-9]{3}"), Category.DIRECTORY),
        (re.compile(r"10[0-9]{2}"), Category.OPERATOR),
    ),
}

_PREMIUM_TYPES = {PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST}
# Only these have an area (phonenumbers' own rule for geographical numbers).
_GEOGRAPHIC_TYPES = {PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


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


def classify(dialled: str, country: str, home: str | None = None) -> Classified:
    """`dialled` is whitelisted (digits, `*`, `#`, a leading +). Apart from a trailing
    send key, a `*` or `#` makes it no phone number: phonenumbers would skip them (`1*5`
    reads as 15, an emergency number) while the carrier would be sent them. `home` is
    the tenant's main number (E.164): geographic numbers of its area are local."""
    dialled = dialled.removesuffix(_SEND_KEY)
    if not _PHONE_DIGITS.fullmatch(dialled):
        raise NotANumber("holds * or #: not a phone number")
    if is_emergency(dialled, country):
        return Classified(None, Category.EMERGENCY, dialled)
    try:
        parsed = phonenumbers.parse(dialled, country)
    except phonenumbers.NumberParseException as exc:
        raise NotANumber(str(exc)) from None
    if not phonenumbers.is_valid_number(parsed):
        if not dialled.startswith(("+", "00")) and shortnumberinfo.is_valid_short_number_for_region(
            phonenumbers.parse(dialled, country), country
        ):
            return Classified(None, _short_category(dialled, country), dialled)
        raise NotANumber("not a valid phone number")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if phonenumbers.region_code_for_number(parsed) != country:
        return Classified(e164, Category.INTERNATIONAL, dialled)
    kind = phonenumbers.number_type(parsed)
    if kind in _PREMIUM_TYPES:
        return Classified(e164, Category.PREMIUM, dialled)
    if home is not None and kind in _GEOGRAPHIC_TYPES:
        area = _home_area(home)
        if area is not None and _area(parsed) == area:
            return Classified(e164, Category.LOCAL, dialled)
    return Classified(e164, Category.NATIONAL, dialled)


def is_emergency(dialled: str, country: str) -> bool:
    if dialled in _EXTRA_EMERGENCY.get(country, ()):
        return True
    if dialled.isascii() and dialled.isdigit():
        # phonenumbers' own answer, its pattern compiled once (an extension is checked
        # on every user of every apply).
        return rule_speed.is_emergency_digits(dialled, country)
    return _PHONE_DIGITS.fullmatch(dialled) is not None and shortnumberinfo.is_emergency_number(
        dialled, country
    )


def _short_category(digits: str, country: str) -> Category:
    for pattern, category in _SHORT_CATEGORIES.get(country, ()):
        if pattern.fullmatch(digits):
            return category
    return Category.PREMIUM


def _area(parsed: phonenumbers.PhoneNumber) -> str | None:
    """A geographic number's country and area code (`33 1` for 01 84 80 01 00); None
    for numbers of no area (mobile, VoIP, non-geographic)."""
    length = phonenumbers.length_of_geographical_area_code(parsed)
    if length == 0:
        return None
    national = phonenumbers.national_significant_number(parsed)
    return f"{parsed.country_code} {national[:length]}"


@functools.lru_cache(maxsize=1024)
def _home_area(home: str) -> str | None:
    """A tenant's main number's area (read once per main number)."""
    try:
        return _area(phonenumbers.parse(home))
    except phonenumbers.NumberParseException:
        return None


# The tenant-wide "dial 0 for an outside line" access code.
OUTSIDE_LINE_PREFIX = "0"


def outside_number(dialled: str, country: str, outside_prefix: bool) -> str:
    """What an outside call dialled on a phone is for: with the tenant's outside-line
    prefix on, the dialled digits less the `0` (an emergency number also works bare,
    and a number in `+` form needs no prefix); without it, the digits as dialled.
    Extensions and feature codes never get here: they are dialled bare."""
    if not outside_prefix:
        return dialled
    digits = dialled.removesuffix(_SEND_KEY)
    if digits.startswith("+") or is_emergency(digits, country):
        return dialled
    if not dialled.startswith(OUTSIDE_LINE_PREFIX):
        raise NotANumber(f"outside numbers are dialled after {OUTSIDE_LINE_PREFIX}")
    return dialled.removeprefix(OUTSIDE_LINE_PREFIX)


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
    """Emergency numbers always; a star code that changes settings when both kinds of
    codes are allowed (barring access codes bars them all)."""
    if category is Category.EMERGENCY:
        return True
    if category is Category.SETTING_CODES and Category.ACCESS_CODES not in allowed_categories:
        return False
    return category in allowed_categories


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
