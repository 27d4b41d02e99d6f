"""The rules for typed values: every one that reaches a dial string or the XML."""

import pytest

from provisioning import validation as v


@pytest.mark.parametrize(
    "value, ok",
    [
        ("1000", True),
        ("+33123456789", True),
        ("*318", True),
        ("#21#", True),
        ("", False),
        ("1000,2000", False),
        ("1000|2000", False),
        ("[x=1]1000", False),
        ("{x=1}1000", False),
        ("<a>", False),
        ("1000;x", False),
        ("1000:1", False),
        ("1000@evil.example", False),
        ("sofia/gateway/x/1", False),
        ("${system(id)}", False),
        ("10 00", False),
        ("1" * 21, False),
        ("++33", False),
    ],
)
def test_dialable_whitelist_when_value_then_only_digits_star_hash_leading_plus(value, ok):
    assert v.is_dialable(value) is ok


@pytest.mark.parametrize(
    "typed, country, e164",
    [
        ("01 23 45 67 89", "FR", "+33123456789"),
        ("0123456789", "FR", "+33123456789"),
        ("+33 1 23 45 67 89", "FR", "+33123456789"),
        ("+41 44 668 18 00", "FR", "+41446681800"),
        ("044 668 18 00", "CH", "+41446681800"),
        ("(202) 555-0143", "US", "+12025550143"),
    ],
)
def test_public_number_when_national_or_international_then_e164(typed, country, e164):
    assert v.check_public_number(typed, country) == e164


@pytest.mark.parametrize(
    "typed", ["0800-FLOWERS", "12", "+33 1 23", "01 23 45 67 89 00 00", "0123456789$", "1,2", ""]
)
def test_public_number_when_letters_or_invalid_then_refused(typed):
    with pytest.raises(v.InvalidValue):
        v.check_public_number(typed, "FR")


@pytest.mark.parametrize(
    "ext, ok",
    [
        ("10", True),
        ("1000", True),
        ("12345678", True),
        ("1", False),
        ("123456789", False),
        ("10a", False),
        ("112", False),
        ("15", False),
        ("*10", False),
    ],
)
def test_extension_when_checked_then_digits_and_never_an_emergency_number(ext, ok):
    if ok:
        assert v.check_extension(ext, "FR") == ext
    else:
        with pytest.raises(v.InvalidValue):
            v.check_extension(ext, "FR")


@pytest.mark.parametrize(
    "text",
    [
        "${system(rm -rf /)}",
        "$${domain}",
        "Alice <x>",
        "a|b",
        "a[b]",
        "a{b}",
        'a"b',
        "a\\b",
        "a\nb",
        '<X-PRE-PROCESS cmd="exec" data="id"/>',
        "foo x-pre-process bar",
        "^^:a",
    ],
)
def test_text_when_it_could_steer_freeswitch_then_refused(text):
    with pytest.raises(v.InvalidValue):
        v.check_text(text)


@pytest.mark.parametrize("text", ["Alice Martin", "Zoë O'Brien", "Dupont, Jean", "R&D (2nd)"])
def test_text_when_ordinary_name_then_kept(text):
    assert v.check_text(text) == text


@pytest.mark.parametrize(
    "password, ok",
    [
        ("Alice-Demo-Pass-2026", True),
        ("short1A", False),  # too short
        ("alllowercase1234", False),  # no upper case
        ("ALLUPPERCASE1234", False),  # no lower case
        ("NoDigitsAtAllHere", False),
        ("With Space 1234Ab", False),
        ("Dollar$ign1234Ab", False),
        ("Pass1001word-Xyz", False),  # contains the extension
    ],
)
def test_sip_password_policy(password, ok):
    if ok:
        assert v.check_sip_password(password, extension="1001") == password
    else:
        with pytest.raises(v.InvalidValue):
            v.check_sip_password(password, extension="1001")


@pytest.mark.parametrize(
    "pin, why",
    [
        ("190872", None),
        ("27059314", None),
        ("12345", "6 to 8 digits"),
        ("123456789", "6 to 8 digits"),
        ("19a872", "6 to 8 digits"),
        ("190002", "more than twice"),
        ("901234", "sequence"),
        ("987651", "sequence"),
        ("551001", "number"),  # holds the extension 1001
        ("234567", "sequence"),
        ("846780", "number"),  # part of +33184678099
    ],
)
def test_voicemail_pin_policy_when_checked_then_operator_rules(pin, why):
    own = ["1001", "+33184678099"]
    if why is None:
        assert v.check_voicemail_pin(pin, own_numbers=own) == pin
    else:
        with pytest.raises(v.InvalidValue, match=why):
            v.check_voicemail_pin(pin, own_numbers=own)


@pytest.mark.parametrize(
    "domain, ok",
    [
        ("pbx.example.com", True),
        ("127.0.0.1", True),
        ("Example.COM", True),
        ("localhost", False),
        ("a..b", False),
        ("-a.com", False),
        ("a_b.com", False),
        ("a.com;x", False),
    ],
)
def test_domain(domain, ok):
    if ok:
        assert v.check_domain(domain) == domain.lower()
    else:
        with pytest.raises(v.InvalidValue):
            v.check_domain(domain)


def test_timezone_country_email_host():
    assert v.check_timezone("Europe/Paris") == "Europe/Paris"
    assert v.check_country("fr") == "FR"
    assert v.check_email("a.b@example.com") == "a.b@example.com"
    assert v.check_host_port("sip.example.com:5060") == "sip.example.com:5060"
    for check, bad in [
        (v.check_timezone, "Mars/Olympus"),
        (v.check_country, "XX"),
        (v.check_email, "a@b"),
        (v.check_email, "a,b@example.com"),
        (v.check_host_port, "x.com:99999"),
        (v.check_host_port, "x.com/y"),
    ]:
        with pytest.raises(v.InvalidValue):
            check(bad)


@pytest.mark.parametrize(
    "address",
    [
        "-oQ/tmp/x@example.com",  # sendmail would read an option
        "-f@example.com",
        '"a b"@example.com',
        "a b@example.com",
        "a;id@example.com",
        "a`id`@example.com",
        "a$(id)@example.com",
        "a@-example.com",
        "a..b@example.com",
        "a@[127.0.0.1]",
        "é@example.com",
        "a@example",
    ],
)
def test_email_when_sendmail_could_read_more_than_an_address_then_refused(address):
    with pytest.raises(v.InvalidValue):
        v.check_email(address)


def test_email_when_ordinary_then_kept_with_its_domain_lower_case():
    assert v.check_email(" Jean.Dupont+vm@Example.FR ") == "Jean.Dupont+vm@example.fr"


# A value the renderers would refuse is refused where it is typed, by every rule: the
# XML preprocessor acts on these wherever they stand in a document.
@pytest.mark.parametrize(
    "check, value",
    [
        (v.check_host_port, "x-pre-process"),
        (v.check_host_port, "X-Pre-Process.example.com:5060"),
        (v.check_domain, "x-pre-process.example.com"),
        (v.check_media_name, "x-pre-process"),
        (v.check_media_name, "jazz-x-pre-process-2"),
        (v.check_email, "x-pre-process@example.com"),
        (v.check_text, "X-PRE-PROCESS"),
    ],
)
def test_preprocessor_directive_when_in_any_value_then_refused(check, value):
    with pytest.raises(v.InvalidValue):
        check(value)


def test_fits_is_a_whole_match_without_a_directive():
    assert v.fits(v.MEDIA_NAME, "jazz-2")
    assert not v.fits(v.MEDIA_NAME, "jazz 2")
    assert not v.fits(v.ALERT_INFO_NAME, "x-pre-process")


# The panel password rules of seed 003 ("Modifier le mot de passe"), each broken once.
@pytest.mark.parametrize(
    "password, why",
    [
        ("Maple-472!C", "12 to 20 characters"),  # 11
        ("Maple-4729-Cedar-Oak!", "12 to 20 characters"),  # 21
        ("Maple-4729-Ced\x07", "printable"),
        ("Maple-Cedar-Oak!", "digit"),
        ("4729-5830-6152!", "letter"),
        ("Maple4729Cedar", "special character"),
        ("Maple-4777-Cedar!", "more than twice in a row"),
        ("Maple-1234-Cedar!", "logical sequence"),
        ("Maple-9876-Cedar!", "logical sequence"),
        ("Abcd-4729-Cedar!", "logical sequence"),
        ("Maple-4729-1001!", "line's number"),
        ("Maple-4800-Cedar!", "line's number"),  # 4 digits of +33184800101
    ],
)
def test_panel_password_when_a_rule_is_broken_then_refused_saying_which(password, why):
    with pytest.raises(v.InvalidValue, match=why):
        v.check_panel_password(password, own_numbers=["1001", "+33184800101"])


@pytest.mark.parametrize(
    "password",
    ["Maple-4729-Cedar!", "a1!b2@c3#d4$", "Twelve-char1", "Twenty-chars-4729-Ok"],
)
def test_panel_password_when_every_rule_is_kept_then_accepted(password):
    assert v.check_panel_password(password, own_numbers=["1001", "+33184800101"]) == password


def test_a_line_s_numbers_in_every_form_a_person_would_recognise():
    from provisioning.numbering import line_numbers

    assert line_numbers("1000", "+33184800100", None) == ["1000", "+33184800100", "0184800100"]
    assert line_numbers("1000") == ["1000"]


def test_strings_that_are_not_unicode_text_are_found_with_their_path():
    from provisioning.validation import not_unicode_at

    assert not_unicode_at({"users": [{"name": "Zoé"}, {"name": "ok"}], "n": None}) is None
    assert not_unicode_at({"users": [{"name": "Zoé"}, {"name": "\ud800"}]}) == "users[1].name"
    assert not_unicode_at({"a": {"b": ["c", "d\udfff"]}}) == "a.b[1]"
    assert not_unicode_at({"a": {"\udc80": "x"}}) == "a"  # a key: its mapping's path
    assert not_unicode_at("\ud83d") == ""  # the whole
    assert not_unicode_at("\ud83d\ude00".encode("utf-16", "surrogatepass").decode("utf-16")) is None
