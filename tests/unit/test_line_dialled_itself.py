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
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

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
    """An application's data after its variables' expansion: its backslashes, and
    `${url_decode(…)}` (the only function in a bridge's block)."""
    assert "\\'" not in data, "FreeSWITCH refuses the application"
    out, i = "", 0
    while i < len(data):
        function = _URL_DECODE.match(data, i)
        if function:
            out, i = out + unquote(function[1]), function.end()
        elif data[i] == "\\" and data[i + 1 : i + 2] == "\\":
            out, i = out + "\\", i + 2
        elif data[i] == "\\" and data[i + 1 : i + 2] == "'":
            i += 2
        else:
            out, i = out + data[i], i + 1
    return out


def fs_brackets(bridge_data: str) -> tuple[dict[str, str], str]:
    """The variables FreeSWITCH sets on every leg, and what it dials."""
    dial_string = _expanded(bridge_data)
    assert dial_string.startswith("{^^|")
    end = dial_string.index("}$")
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
