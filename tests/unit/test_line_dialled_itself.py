r"""A ring of one line dials its phones without the `user/` lookup, and sets on the legs
what the directory entry would.

FreeSWITCH refuses application data holding `\'`, expands the bridge's data
(switch_channel_expand_variables: `\\` gives `\`, `\'` is dropped, a function's
result such as `${url_decode(…)}` is inserted as it is), then reads its `{^^|…}`
block with switch_event_create_brackets: split at `|`, then each variable at its first
`=`, both with switch_separate_string, which drops quotes and backslashes and trims
spaces. `fs_brackets` below follows that code (switch_caller.c, switch_channel.c,
switch_utils.c separate_string_char_delim and cleanup_separated_string, 1.10.12), so
that a value is checked to come out as it went in, or the line to be rung through
`user/` as before."""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import quote_plus, unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from tests.fsrequests import fixture_fields, fs_body, with_fields
from tests.unit.test_dialplan_compile import DOMAIN, NOW, TENANT, data, line, request
from xmlcurl import fsnames as fs
from xmlcurl import render
from xmlcurl.decisions import (
    DirectoryDomain,
    GatewayEndpoint,
    LegOptions,
    Ring,
    Route,
    UserEndpoint,
)
from xmlcurl.dialplan import compile_call
from xmlcurl.directory import directory_user, line_leg
from xmlcurl.request import call_request, parse_fields


def _separate(text: str, delim: str, limit: int) -> list[str]:
    parts, start, i, quoted = [], 0, 0, False
    while i < len(text) and len(parts) < limit - 1:
        c = text[i]
        if c == "\\":
            i += 1
        elif c == "'" and (quoted or "'" in text[i + 1 :]):
            quoted = not quoted
        elif c == delim and not quoted:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return [_cleanup(p, delim) for p in parts]


def _cleanup(text: str, delim: str) -> str:
    text = text.lstrip(" ")
    out, end, quoted, i = "", 0, False, 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in ("'", '"', delim, "\\"):
            out += text[i + 1]
            end, i = len(out), i + 2
            continue
        if c == "'" and (quoted or "'" in text[i + 1 :]):
            quoted = not quoted
            if quoted:
                end = len(out)
        else:
            out += c
            if c != " " or quoted:
                end = len(out)
        i += 1
    return out[:end]


_URL_DECODE = re.compile(r"\$\{url_decode\(([^)]*)\)\}")


def _expanded(data: str) -> str:
    """An application's data after its variables' expansion: its backslashes, an
    escaped `$` (kept as it is, with what follows), and `${url_decode(…)}` (the only
    function in a bridge's block expanded on the caller's leg)."""
    assert "\\'" not in data, "FreeSWITCH refuses the application"
    out, i = "", 0
    while i < len(data):
        function = _URL_DECODE.match(data, i)
        if function:
            out, i = out + unquote(function[1]), function.end()
        elif data[i] == "\\" and data[i + 1 : i + 2] == "\\":
            out, i = out + "\\", i + 2
        elif data[i] == "\\" and data[i + 1 : i + 2] == "$":
            out, i = out + "$", i + 2
        elif data[i] == "\\" and data[i + 1 : i + 2] == "'":
            i += 2
        else:
            out, i = out + data[i], i + 1
    return out


def fs_brackets(bridge_data: str) -> tuple[dict[str, str], str]:
    """The variables FreeSWITCH sets on every leg, and what it dials."""
    dial_string = _expanded(bridge_data)
    assert dial_string.startswith("{^^|")
    depth = 0  # the block ends at its own closing brace (switch_find_end_paren)
    for at, c in enumerate(dial_string):
        depth += (c == "{") - (c == "}")
        if depth == 0:
            end = at
            break
    variables = {}
    for item in _separate(dial_string[4:end], "|", 1024):
        pair = _separate(item, "=", 2)
        if len(pair) == 2:
            variables[pair[0]] = pair[1]
    return variables, dial_string[end + 1 :]


def bridge_actions(route: Route) -> list[tuple[str, str | None]]:
    root = etree.fromstring(render.dialplan(route))
    return [(a.get("application"), a.get("data")) for a in root.iter("action")]


def the_bridge(route: Route) -> str:
    return next(d for a, d in bridge_actions(route) if a == fs.APP_BRIDGE)


def directory_variables(display_name: str) -> dict[str, str]:
    entry = directory_user(TENANT, line("1000", display_name=display_name))
    xml = render.directory(DirectoryDomain(DOMAIN, (entry,)))
    return {v.get("name"): v.get("value") for v in etree.fromstring(xml).iter("variable")}


def ring_1000(display_name: str = "User 1000") -> Route:
    return compile_call(request("1000"), data(line("1000", display_name=display_name)), NOW)


def test_the_line_s_own_leg_carries_the_line_s_leg_variables():
    route = ring_1000()
    ring = next(a for a in route.actions if isinstance(a, Ring))
    assert ring.endpoints[0].leg == line_leg(TENANT, line("1000"))


def test_a_ring_of_one_line_dials_its_contacts_with_what_the_directory_would_set():
    actions = bridge_actions(ring_1000())
    at = actions.index((fs.APP_SET, f"{fs.V_DIALED_USER}=1000"))
    assert actions[at + 1] == (fs.APP_SET, f"{fs.V_DIALED_DOMAIN}={DOMAIN}")
    variables, dialled = fs_brackets(actions[at + 2][1])
    assert dialled == f"${{sofia_contact(*/1000@{DOMAIN})}}"
    assert variables == {
        **directory_variables("User 1000"),
        fs.V_SIP_INVITE_DOMAIN: DOMAIN,
        fs.V_PRESENCE_ID: f"1000@{DOMAIN}",
        fs.V_DIALED_USER: "1000",
        fs.V_DIALED_DOMAIN: DOMAIN,
        fs.V_FORCE_TRANSFER_CONTEXT: DOMAIN,
        fs.V_NESTED_VARS: "true",
        fs.V_POST_BRIDGE_RECORD: RECORD_UNLESS_SIMPLY_ANSWERED,
    }


@given(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40)
)
def test_every_name_reaches_the_leg_as_it_is_or_the_line_is_rung_through_user(name):
    dial_string = the_bridge(ring_1000(name))
    if dial_string == f"user/1000@{DOMAIN}":
        return
    variables, _ = fs_brackets(dial_string)
    assert variables[fs.V_EFFECTIVE_CID_NAME] == name


@pytest.mark.parametrize("name", ["a:_:b", " lead", "trail ", "a|b", "a\\b", "{x}", "$x"])
def test_names_the_block_would_alter_keep_the_user_endpoint(name):
    assert the_bridge(ring_1000(name)) == f"user/1000@{DOMAIN}"


@pytest.mark.parametrize(
    "name",
    [
        "Dupont, Jean",
        "Zoë Ünal",
        "A & B",
        "x=y",
        "R&D (2nd)",
        "Standard d'accueil",
        "L'équipe d'accueil",
        "'quoted'",
        "a''b",
    ],
)
def test_names_with_commas_accents_equals_signs_and_apostrophes_are_kept(name):
    variables, _ = fs_brackets(the_bridge(ring_1000(name)))
    assert variables[fs.V_EFFECTIVE_CID_NAME] == name


LEG = line_leg(TENANT, line("1000"))

# What the line's legs run when a bridge of theirs ends, as FreeSWITCH reads the block
# (`$` unexpanded).
ANSWERED = "x${url_encode(${endpoint_disposition})}${centrex_transferring}"
RECORD_UNLESS_SIMPLY_ANSWERED = (
    f"set process_cdr=${{cond({ANSWERED}-${{sip_hangup_disposition}} == xANSWER-recv_bye"
    f" ? false : ${{cond({ANSWERED}-${{last_bridge_hangup_cause}} == xANSWER-NORMAL_CLEARING"
    " ? false : true)})}"
)


def _cond(expression: str) -> str:
    """mod_commands' cond: the left operand ends at the first space (one holding a
    space is a syntax error, answered `-ERR`, which the model refuses)."""
    left, rest = expression.split(" ", 1)
    operator, right, question, yes, colon, no = rest.split(" ")
    assert (operator, question, colon) == ("==", "?", ":"), "cond would answer -ERR"
    return yes if left == right else no


def _record_kept(variables: dict[str, str]) -> str:
    """`process_cdr` as the leg sets it with `variables`: its data expanded on the leg
    (url_encode as mod_commands does it, functions innermost first), then `set`."""
    data = re.sub(
        r"\$\{url_encode\(\$\{(\w+)\}\)\}",
        lambda m: quote_plus(variables.get(m[1], "")),
        RECORD_UNLESS_SIMPLY_ANSWERED,
    )
    data = re.sub(r"\$\{(\w+)\}", lambda m: variables.get(m[1], ""), data)
    while (inner := re.search(r"\$\{cond\(([^${}]*)\)\}", data)) is not None:
        data = data[: inner.start()] + _cond(inner[1]) + data[inner.end() :]
    application, _, argument = data.partition(" ")
    name, _, value = argument.partition("=")
    assert (application, name) == ("set", "process_cdr")
    return value


@pytest.mark.parametrize(
    ("variables", "process_cdr"),
    [
        # Answered, the conversation ended by either party: the caller's record says it.
        ({"endpoint_disposition": "ANSWER", "sip_hangup_disposition": "recv_bye"}, "false"),
        (
            {"endpoint_disposition": "ANSWER", "last_bridge_hangup_cause": "NORMAL_CLEARING"},
            "false",
        ),
        # Handed on by REFER, by a DTMF transfer, moved away (an attended REFER before
        # sofia names it), ended otherwise, or never answered: its record is made.
        ({"endpoint_disposition": "BLIND_TRANSFER", "sip_hangup_disposition": "recv_bye"}, "true"),
        (
            {"endpoint_disposition": "ATTENDED_TRANSFER", "sip_hangup_disposition": "recv_bye"},
            "true",
        ),
        (
            {
                "endpoint_disposition": "ANSWER",
                "centrex_transferring": "true",
                "sip_hangup_disposition": "recv_bye",
            },
            "true",
        ),
        ({"endpoint_disposition": "ANSWER"}, "true"),
        ({"endpoint_disposition": "ANSWER", "last_bridge_hangup_cause": "MEDIA_TIMEOUT"}, "true"),
        ({"endpoint_disposition": "EARLY MEDIA", "sip_hangup_disposition": "recv_bye"}, "true"),
        ({"endpoint_disposition": "DELAYED NEGOTIATION"}, "true"),
        ({}, "true"),
    ],
)
def test_a_leg_s_record_is_left_unmade_only_when_it_was_simply_answered(variables, process_cdr):
    assert _record_kept(variables) == process_cdr


def test_only_the_caller_s_own_leg_ringing_the_line_leaves_the_answered_leg_unrecorded():
    def hook(**fields: str) -> str | None:
        body = fs_body(with_fields(fixture_fields("dialplan-1000"), fields))
        route = compile_call(call_request(parse_fields(body)), data(line("1000")), NOW)
        return fs_brackets(the_bridge(route))[0].get(fs.V_POST_BRIDGE_RECORD)

    aimed = {"Hunt-Context": DOMAIN, "Caller-Context": DOMAIN}
    assert hook(**aimed) == RECORD_UNLESS_SIMPLY_ANSWERED
    # A hunt in another context than the tenant's: the caller's record would not name
    # the line by it, the line's own record tells.
    assert hook() is None
    # A leg Centrex rang (a transferred callee hunting again), one of a loopback pair.
    assert hook(**aimed, **{"Call-Direction": "outbound"}) is None
    assert hook(**aimed, **{"Channel-Name": "loopback/1000-b"}) is None


@pytest.mark.parametrize(
    "ring",
    [
        # Several endpoints: each line's contacts would need their own variables.
        Ring((UserEndpoint("1000", DOMAIN, leg=LEG), UserEndpoint("1001", DOMAIN)), 20),
        Ring((UserEndpoint("1000", DOMAIN, leg=LEG), GatewayEndpoint(DOMAIN, "0612345678")), 20),
        # A leg the answering party must confirm, or that first hears the caller's name.
        Ring((UserEndpoint("1000", DOMAIN, LegOptions(confirm=True), leg=LEG),), 20),
        Ring((UserEndpoint("1000", DOMAIN, LegOptions(screening=True), leg=LEG),), 20),
        # Nothing known of the line's legs.
        Ring((UserEndpoint("1000", DOMAIN),), 20),
    ],
)
def test_other_rings_go_through_the_directory(ring):
    route = Route(DOMAIN, "1000", "x", (ring,))
    assert f"user/1000@{DOMAIN}" in the_bridge(route)
    assert (fs.APP_SET, f"{fs.V_DIALED_USER}=1000") not in bridge_actions(route)


def test_a_leg_s_own_timeout_and_markers_are_in_the_block():
    options = LegOptions(timeout=15, variables=(("centrex_marker", "x@y"),))
    route = Route(DOMAIN, "1000", "x", (Ring((UserEndpoint("1000", DOMAIN, options, LEG),), 20),))
    variables, _ = fs_brackets(the_bridge(route))
    assert variables[fs.V_LEG_TIMEOUT] == "15"
    assert variables["centrex_marker"] == "x@y"


def test_a_changed_name_is_a_different_route_never_a_cached_one():
    before, after = ring_1000("Alice"), ring_1000("Alice Martin")
    assert before != after
    assert fs_brackets(the_bridge(after))[0][fs.V_EFFECTIVE_CID_NAME] == "Alice Martin"
    assert replace(before, actions=()) == replace(after, actions=())
