"""Rules for every value a person types that can reach FreeSWITCH.

Pure functions, no I/O. Each `check_*` returns the normalised value or raises
`InvalidValue` with a message meant for the person who typed it, said with its code
(`provisioning.errors`). Numbers end up in dial
strings and everything ends up in XML that FreeSWITCH preprocesses, so the rules are
whitelists (see FreeSWITCH's dial-string syntax: `, | [ ] { } < > ; : @ / $` all mean
something there).
"""

from __future__ import annotations

import ipaddress
import itertools
import re
import zoneinfo
from functools import cache
from typing import Any

import email_validator
import phonenumbers

from provisioning import rule_speed
from provisioning.errors import DomainError, Said, said
from provisioning.numbering import is_emergency

# What FreeSWITCH may be asked to dial: digits, star codes, a leading +.
DIALABLE = re.compile(r"\+?[0-9*#]{1,20}")
EXTENSION = re.compile(r"[0-9]{2,8}")
# Typed numbers may carry readability separators; letters (vanity numbers) are refused.
TYPED_NUMBER = re.compile(r"\+?[0-9(][0-9 .()\-]{0,30}")
DOMAIN_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9.\-]{1,253}\.[A-Za-z]{2,63}")
HOST_PORT = re.compile(
    r"(?P<host>[A-Za-z0-9.\-]{1,253}|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?"
)
# What FreeSWITCH's XML preprocessor acts on wherever it stands in a document it reads:
# `$${…}` is expanded, and a line holding "x-pre-process" is executed or dropped. The
# renderers refuse any document holding one, so no value holding one is ever accepted:
# every check below goes through `fits` (or refuses it outright, as free text does).
PREPROCESSOR_DIRECTIVE = r"\$\$\{|x-pre-process"
_DIRECTIVE = re.compile(PREPROCESSOR_DIRECTIVE, re.IGNORECASE)
# Free text may be shown anywhere, but must not steer FreeSWITCH: `$` starts a variable
# expansion, brackets and pipes open dial-string syntax.
FORBIDDEN_IN_TEXT = re.compile(
    r"[$\[\]{}<>|^\\\"\x00-\x1f\x7f]|" + PREPROCESSOR_DIRECTIVE, re.IGNORECASE
)

# A distinctive ring is named by what phones know (Bellcore-dr2, ring3, …).
ALERT_INFO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]{0,31}")
# Names of uploaded announcements, hold music and ringback tones (also file names).
MEDIA_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")

MAX_TEXT = 64

# Each e-mail domain read once per process, not once per address (check_email); the
# phone numbers' patterns compiled once.
rule_speed.remember_in_libraries()


class InvalidValue(DomainError, ValueError):
    """A typed value breaks a rule; the message says which, in plain words."""


# Refusals several checks say alike.
NOT_TENANT_NUMBER = said("not_tenant_number", "must be one of the tenant's numbers")


def unknown_user(extension: str) -> Said:
    return said("unknown_user", "no user has extension %(extension)s", extension=extension)


def unknown_schedule(name: str) -> Said:
    return said("unknown_schedule", "no schedule named %(name)r", name=name)


def extension_taken(extension: str, owner: str) -> Said:
    """`extension` is already the number of `owner` (the path of a user, group…)."""
    return said(
        "extension_taken",
        "%(extension)s is already used by %(owner)s",
        extension=extension,
        owner=owner,
    )


def forwarding_loop(circle: list[str]) -> Said:
    return said("forwarding_loop", "forwarding loop %(circle)s", circle=" → ".join(circle))


REPEATED_DIGIT = said("repeated_digit", "must not repeat the same digit more than twice in a row")
HOLDS_OWN_NUMBER = said("holds_own_number", "must not contain the line's number or part of it")


# Years the national-holiday tables are asked about: they answer nothing far from ours.
HOLIDAY_YEARS = range(1900, 2201)


def whole_number(text: str, default: int = 0, digits: int = 18) -> int:
    """A number sent as text (by FreeSWITCH: a length, a time in µs, seconds, a port; by
    a form: a row, a year), or `default` for anything else: `isdigit()` alone lets in
    digits such as "²" that `int()` refuses, and numbers too large for a date, a float
    or `int()` itself."""
    if text.isascii() and text.isdigit() and len(text) <= digits:
        return int(text)
    return default


# A UTF-16 surrogate alone: no character, so no UTF-8 either (it cannot be stored, sent
# or shown), yet JSON and YAML escapes spell one ("\ud800").
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def not_unicode_at(data: Any) -> str | None:
    """Where plain data (read from JSON or YAML) holds a string that is not Unicode
    text, as a document path (`users[0].name`; for a key, the path of its mapping; ""
    for the whole); None when it holds none. Checked where data is read, before any
    rule or lookup sees it. The string itself is never repeated in a message: it could
    not be sent."""
    pending: list[tuple[str, Any]] = [("", data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            if not value.isascii() and _LONE_SURROGATE.search(value):
                return path
        elif isinstance(value, dict):
            for key, item in value.items():
                inner = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and not key.isascii() and _LONE_SURROGATE.search(key):
                    return path
                pending.append((inner, item))
        elif isinstance(value, list):
            pending.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
    return None


def fits(pattern: re.Pattern[str], value: str) -> bool:
    """`value` is all of `pattern`, and FreeSWITCH reads it as written."""
    return pattern.fullmatch(value) is not None and _DIRECTIVE.search(value) is None


def is_dialable(value: str) -> bool:
    return DIALABLE.fullmatch(value) is not None


def check_text(value: str, *, max_length: int = MAX_TEXT, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise InvalidValue(said("text_empty", "must not be empty"))
    if len(value) > max_length:
        raise InvalidValue(
            said("text_too_long", "must be at most %(max)d characters", max=max_length)
        )
    bad = FORBIDDEN_IN_TEXT.search(value)
    if bad:
        raise InvalidValue(said("text_forbidden", "must not contain %(text)r", text=bad.group()))
    return value


def check_extension(value: str, country: str) -> str:
    if not EXTENSION.fullmatch(value):
        raise InvalidValue(said("extension_digits", "must be 2 to 8 digits"))
    if is_emergency(value, country):
        raise InvalidValue(
            said(
                "emergency_extension",
                "%(value)s is an emergency number in %(country)s",
                value=value,
                country=country,
            )
        )
    return value


def check_public_number(value: str, country: str) -> str:
    """A number typed in national or international form → E.164 (`+33123456789`)."""
    value = value.strip()
    if not TYPED_NUMBER.fullmatch(value):
        raise InvalidValue(
            said("number_characters", "must be a phone number: digits, an optional leading +")
        )
    try:
        parsed = phonenumbers.parse(value, country)
    except phonenumbers.NumberParseException as exc:
        raise InvalidValue(
            said("number_unreadable", "is not a phone number (%(reason)s)", reason=str(exc))
        ) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidValue(
            said(
                "number_invalid",
                "is not a valid phone number in %(country)s or abroad",
                country=country,
            )
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


DNS_NAME = said("dns_name", "must be a DNS name such as pbx.example.com")


def check_domain(value: str) -> str:
    value = value.strip().lower()
    if _DIRECTIVE.search(value):
        raise InvalidValue(DNS_NAME)
    try:
        ipaddress.IPv4Address(value)
        return value
    except ValueError:
        pass
    labels = value.split(".")
    if len(value) > 253 or len(labels) < 2 or not all(DOMAIN_LABEL.fullmatch(x) for x in labels):
        raise InvalidValue(DNS_NAME)
    return value


def check_host_port(value: str) -> str:
    value = value.strip()
    match = HOST_PORT.fullmatch(value)
    if (
        not match
        or not fits(HOST_PORT, value)
        or (match["port"] and not 0 < int(match["port"]) < 65536)
    ):
        raise InvalidValue(
            said("host_port", "must be a host name or address, with an optional :port")
        )
    return match.group()


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_timezone(value: str) -> str:
    if value not in _timezones():
        raise InvalidValue(said("timezone", "must be an IANA time zone such as Europe/Paris"))
    return value


def check_country(value: str) -> str:
    value = value.strip().upper()
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidValue(
            said("country", "must be an ISO 3166 two-letter country code such as FR")
        )
    return value


def check_email(value: str) -> str:
    """An address mod_voicemail can mail to. It puts the address on sendmail's command
    line, so beyond being an address by the standard's rules (email-validator), it holds
    nothing a shell or sendmail would read as more: no leading '-' (an option), no
    quotes, spaces or separators."""
    try:
        address = email_validator.validate_email(
            value.strip(),
            check_deliverability=False,
            allow_smtputf8=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
        ).normalized
    except email_validator.EmailNotValidError as exc:
        raise InvalidValue(
            said(
                "email_invalid",
                "must be an e-mail address such as name@example.com (%(reason)s)",
                reason=str(exc),
            )
        ) from None
    if address.startswith("-") or not fits(EMAIL, address):
        raise InvalidValue(
            said(
                "email_characters",
                "must be an e-mail address such as name@example.com, of letters, digits and "
                ". _ %% + - only, not starting with -",
            )
        )
    return address


# Printable ASCII but the space and '$' (0x21-0x7e without 0x24): one regular
# expression instead of four string tests on each character.
_SIP_PASSWORD_CHARACTERS = re.compile(r"[!-#%-~]*")
_LOWER, _UPPER, _DIGIT = re.compile("[a-z]"), re.compile("[A-Z]"), re.compile("[0-9]")


def check_sip_password(value: str, *, extension: str) -> str:
    """Phones keep this secret; it must resist online guessing (toll fraud starts here)."""
    if not 12 <= len(value) <= 64:
        raise InvalidValue(said("sip_password_length", "must be 12 to 64 characters"))
    if not _SIP_PASSWORD_CHARACTERS.fullmatch(value):
        raise InvalidValue(
            said("sip_password_characters", "must be printable ASCII without spaces or '$'")
        )
    # Only ASCII is left: its lower-case letters, upper-case letters and digits.
    if not (_LOWER.search(value) and _UPPER.search(value) and _DIGIT.search(value)):
        raise InvalidValue(
            said("sip_password_mix", "must mix lower-case letters, upper-case letters and digits")
        )
    if extension in value:
        raise InvalidValue(said("sip_password_extension", "must not contain the extension"))
    return value


def _has_sequence(digits: str, length: int) -> bool:
    """True if `digits` holds `length` consecutive ascending or descending digits."""
    if length >= 2 and digits.isascii():
        return rule_speed.digit_sequences(length).search(digits) is not None
    for start in range(len(digits) - length + 1):
        window = [int(d) for d in digits[start : start + length]]
        steps = {b - a for a, b in itertools.pairwise(window)}
        if steps in ({1}, {-1}):
            return True
    return False


_PIN = re.compile(r"[0-9]{6,8}")
_SAME_DIGIT_THRICE = re.compile(r"(\d)\1\1")
_NOT_DIGIT = re.compile(r"\D")


def check_voicemail_pin(value: str, *, own_numbers: list[str]) -> str:
    """The PIN rules users know from operator portals (digits, 6–8, nothing guessable)."""
    if not _PIN.fullmatch(value):
        raise InvalidValue(said("pin_digits", "must be 6 to 8 digits"))
    if _SAME_DIGIT_THRICE.search(value):
        raise InvalidValue(REPEATED_DIGIT)
    if _has_sequence(value, 4):
        raise InvalidValue(said("pin_sequence", "must not contain a sequence such as 1234 or 4321"))
    # Four digits in a row of a number are in the PIN if and only if one of the PIN's
    # own four-digit windows is in the number: the PIN's few windows are looked for.
    windows = [value[i : i + 4] for i in range(len(value) - 3)]
    for number in own_numbers:
        digits = _NOT_DIGIT.sub("", number)
        if len(digits) >= 4 and any(window in digits for window in windows):
            raise InvalidValue(HOLDS_OWN_NUMBER)
    return value


def _has_letter_sequence(text: str, length: int) -> bool:
    """True if `text` holds `length` consecutive ascending or descending letters (abcd)."""
    letters = text.lower()
    for start in range(len(letters) - length + 1):
        window = letters[start : start + length]
        if window.isascii() and window.isalpha():
            steps = {ord(b) - ord(a) for a, b in itertools.pairwise(window)}
            if steps in ({1}, {-1}):
                return True
    return False


def check_panel_password(value: str, *, own_numbers: list[str]) -> str:
    """The panel password rules of operator portals (seed 003, "Modifier le mot de
    passe"): 12–20 characters, a digit, a letter and a special character, no digit
    three times in a row, no logical sequence, nothing of the account's numbers."""
    if not 12 <= len(value) <= 20:
        raise InvalidValue(said("password_length", "must be 12 to 20 characters"))
    if any(not c.isprintable() for c in value):
        raise InvalidValue(said("password_printable", "must hold printable characters only"))
    if not any(c.isdigit() for c in value):
        raise InvalidValue(said("password_digit", "must hold at least one digit"))
    if not any(c.isalpha() for c in value):
        raise InvalidValue(said("password_letter", "must hold at least one letter"))
    if all(c.isalnum() for c in value):
        raise InvalidValue(
            said("password_special", "must hold at least one special character, such as ! or -")
        )
    if re.search(r"(\d)\1\1", value):
        raise InvalidValue(REPEATED_DIGIT)
    digits = "".join(c if c.isdigit() else " " for c in value)
    if any(_has_sequence(run, 4) for run in digits.split()) or _has_letter_sequence(value, 4):
        raise InvalidValue(
            said("password_sequence", "must not be a logical sequence such as 1234, 4321 or abcd")
        )
    for number in own_numbers:
        own = re.sub(r"\D", "", number)
        parts = {own[i : i + 4] for i in range(len(own) - 3)} if len(own) >= 4 else {own}
        if own and any(part in value for part in parts):
            raise InvalidValue(HOLDS_OWN_NUMBER)
    return value


def check_media_name(value: str) -> str:
    if not fits(MEDIA_NAME, value):
        raise InvalidValue(
            said(
                "media_name",
                "1 to 32 lower-case letters, digits, '-' or '_', starting with a letter or a "
                "digit, never holding x-pre-process (a FreeSWITCH directive)",
            )
        )
    return value
