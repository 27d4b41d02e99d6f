"""The faster forms of the rules answer exactly what the plain forms answer.

Each plain form below is the rule as it was written before it was made faster (the
library called as such, one test per character); the rules must keep agreeing with
them on every value, valid or not, message included.
"""

import itertools
import random
import re
import string

import email_validator
import phonenumbers
import pytest
from phonenumbers import shortnumberinfo

from provisioning import rule_speed
from provisioning import validation as v


def _plain_has_sequence(digits: str, length: int) -> bool:
    for start in range(len(digits) - length + 1):
        window = [int(d) for d in digits[start : start + length]]
        steps = {b - a for a, b in itertools.pairwise(window)}
        if steps in ({1}, {-1}):
            return True
    return False


def _plain_voicemail_pin(value: str, *, own_numbers: list[str]) -> str:
    if not re.fullmatch(r"[0-9]{6,8}", value):
        raise v.InvalidValue("must be 6 to 8 digits")
    if re.search(r"(\d)\1\1", value):
        raise v.InvalidValue("must not repeat the same digit more than twice in a row")
    if _plain_has_sequence(value, 4):
        raise v.InvalidValue("must not contain a sequence such as 1234 or 4321")
    for number in own_numbers:
        digits = re.sub(r"\D", "", number)
        if len(digits) >= 4 and any(digits[i : i + 4] in value for i in range(len(digits) - 3)):
            raise v.InvalidValue("must not contain the line's number or part of it")
    return value


def _plain_sip_password(value: str, *, extension: str) -> str:
    if not 12 <= len(value) <= 64:
        raise v.InvalidValue("must be 12 to 64 characters")
    if any(c.isspace() or not c.isprintable() or not c.isascii() or c == "$" for c in value):
        raise v.InvalidValue("must be printable ASCII without spaces or '$'")
    if not (
        any(c.islower() for c in value)
        and any(c.isupper() for c in value)
        and any(c.isdigit() for c in value)
    ):
        raise v.InvalidValue("must mix lower-case letters, upper-case letters and digits")
    if extension in value:
        raise v.InvalidValue("must not contain the extension")
    return value


def _outcome(check, *args, **kw):
    try:
        return "ok", check(*args, **kw)
    except v.InvalidValue as exc:
        return "refused", str(exc)


def test_emergency_digits_when_any_short_extension_then_as_phonenumbers_says():
    regions = ["FR", "BE", "CH", "DE", "GB", "US", "BR", "CL", "NI", "IT", "ES", "fr"]
    short = ["".join(p) for n in (2, 3) for p in itertools.product(string.digits, repeat=n)]
    for region in regions:
        for digits in short:
            expected = shortnumberinfo.is_emergency_number(digits, region)
            assert rule_speed.is_emergency_digits(digits, region) is expected, (region, digits)


def test_emergency_digits_when_every_region_and_longer_extensions_then_as_phonenumbers_says():
    rng = random.Random(7)
    regions = [*sorted(phonenumbers.SUPPORTED_SHORT_REGIONS), "ZZ", "XK"]
    for region in regions:
        values = ["112", "911", "999", "000", "08", "110", "1122", "0112"]
        values += [str(rng.randrange(10**n)).zfill(n) for n in range(2, 9) for _ in range(3)]
        for digits in values:
            expected = shortnumberinfo.is_emergency_number(digits, region)
            assert rule_speed.is_emergency_digits(digits, region) is expected, (region, digits)


def test_extension_when_emergency_number_then_refused_as_before():
    with pytest.raises(v.InvalidValue, match="112 is an emergency number in FR"):
        v.check_extension("112", "FR")
    assert v.check_extension("1120", "FR") == "1120"


def test_digit_sequences_when_any_pin_then_same_as_stepwise_reading():
    rng = random.Random(3)
    values = ["".join(p) for p in itertools.product("0123456789", repeat=4)]
    values += [str(rng.randrange(10**8)).zfill(rng.choice([6, 7, 8])) for _ in range(20000)]
    values += ["0123", "6789", "9876", "3210", "7890", "0987", "1212", "123", ""]
    for digits in values:
        for length in (2, 3, 4, 5, 10, 11):
            assert v._has_sequence(digits, length) is _plain_has_sequence(digits, length)


def test_has_sequence_when_other_scripts_digits_then_read_as_digits_still():
    arabic_indic = "".join(chr(0x0660 + d) for d in (1, 2, 3, 4))  # ١٢٣٤
    assert v._has_sequence(arabic_indic, 4) is _plain_has_sequence(arabic_indic, 4) is True


def test_voicemail_pin_when_any_pin_then_same_verdict_and_message():
    rng = random.Random(5)
    owns = [["200000"], ["200000", "+33189000000", "0189000000"], ["12", "+3312"], []]
    pins = [str(rng.randrange(10**8)).zfill(rng.choice([5, 6, 7, 8, 9])) for _ in range(20000)]
    pins += ["000000", "123456", "654321", "200000", "189000", "12a456", "١٢٣٤٥٦", " 123456"]
    for pin in pins:
        own = rng.choice(owns)
        expected = _outcome(_plain_voicemail_pin, pin, own_numbers=own)
        assert _outcome(v.check_voicemail_pin, pin, own_numbers=own) == expected, (pin, own)


def test_sip_password_when_any_characters_then_same_verdict_and_message():
    rng = random.Random(11)
    alphabet = string.printable + "$éß€\u00a0\u2028\x7f\x00ＡΩ٣"
    lengths = [rng.randrange(10, 20) for _ in range(5000)]
    values = ["".join(rng.choice(alphabet) for _ in range(n)) for n in lengths]
    values += [
        "Abcdefgh1234",
        "abcdefgh1234",
        "ABCDEFGH1234",
        "Abcdefghijkl",
        "Abcdef 1234gh",
        "Abcdef$1234gh",
        "Abcdéfgh1234",
        "Abcdefgh1234\t",
        "Abc1000defgh",
        "Abcdefgh１234",
    ]
    for value in values:
        expected = _outcome(_plain_sip_password, value, extension="1000")
        assert _outcome(v.check_sip_password, value, extension="1000") == expected, value


def test_email_domains_when_checked_then_read_through_the_remembering_check():
    # The name email-validator's validate_email calls for the domain part: if a new
    # version stops calling it, this says so (the rule would still be right, but slow).
    reader = rule_speed._EMAIL_MODULE.validate_email_domain_name
    assert hasattr(reader, "remembered")
    reader.remembered.cache_clear()
    v.check_email("a@cache.example.org")
    v.check_email("b@cache.example.org")
    info = reader.remembered.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_email_when_two_different_bad_domains_then_each_its_own_message():
    first = _outcome(v.check_email, "a@exa_mple.com")
    second = _outcome(v.check_email, "a@example.invalid")
    again = _outcome(v.check_email, "b@exa_mple.com")
    assert first[0] == second[0] == again[0] == "refused"
    assert "invalid characters: '_'" in first[1]
    assert "special-use or reserved name" in second[1]
    assert again == first
    assert first != second


def test_email_when_same_domain_in_other_addresses_then_as_email_validator_alone():
    original = rule_speed._EMAIL_MODULE.validate_email_domain_name.original
    addresses = [
        "Jean.Dupont+vm@Example.FR",
        "x@EXAMPLE.fr",
        "postmaster@example.fr",
        "a..b@example.fr",
        "-a@example.fr",
        "a@example..fr",
        "a@-example.fr",
        "a@example.fr.",
        "a@xn--bcher-kva.example",
        "a@bücher.example",
        "a@" + "x" * 64 + ".fr",
        "a" * 65 + "@example.fr",
        "a@" + ".".join(["y" * 60] * 5) + ".fr",
        "a@localhost",
        "a@example",
    ]
    for address in addresses:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(rule_speed._EMAIL_MODULE, "validate_email_domain_name", original)
            expected = _outcome(v.check_email, address)
        assert _outcome(v.check_email, address) == expected, address
        assert _outcome(v.check_email, address) == expected, address  # remembered now


def test_email_when_special_use_names_change_then_the_domain_is_read_again(monkeypatch):
    assert v.check_email("a@shop.example.net") == "a@shop.example.net"
    names = [*email_validator.SPECIAL_USE_DOMAIN_NAMES, "net"]
    monkeypatch.setattr(email_validator, "SPECIAL_USE_DOMAIN_NAMES", names)
    with pytest.raises(v.InvalidValue, match="special-use or reserved name"):
        v.check_email("a@shop.example.net")


def test_remember_in_libraries_when_called_again_then_nothing_stacked():
    reader = rule_speed._EMAIL_MODULE.validate_email_domain_name
    rule_speed.remember_in_libraries()
    assert rule_speed._EMAIL_MODULE.validate_email_domain_name is reader
