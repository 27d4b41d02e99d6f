"""Dialplan answers as the routing tests read them: a bridge that dials one line's
phones itself (`xmlcurl.render._line_dialled_itself`) reads as the `user/` endpoint it
stands for, without the `dialed_user` / `dialed_domain` it sets on the caller's leg.
What the bridge sets on the legs is tested in tests/unit/test_line_dialled_itself.py
and on FreeSWITCH in tests/e2e/test_freeswitch.py."""

from __future__ import annotations

import re

from xmlcurl import fsnames as fs

# The block may hold braces of its own (what a leg evaluates when its bridge ends).
_LINE_DIALLED = re.compile(r"\{\^\^\|.*?\}\$\{sofia_contact\(\*/([0-9*#+]+)@([a-z0-9.\-]+)\)\}")
_CALLER_LEG_NAMES = (f"{fs.V_DIALED_USER}=", f"{fs.V_DIALED_DOMAIN}=")


def as_user_endpoint(data: str) -> str:
    found = _LINE_DIALLED.fullmatch(data)
    return f"{fs.USER_ENDPOINT}{found[1]}@{found[2]}" if found else data


def read_as_user_endpoints(actions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [
        (app, as_user_endpoint(data) if app == fs.APP_BRIDGE and data else data)
        for app, data in actions
        if not (app == fs.APP_SET and (data or "").startswith(_CALLER_LEG_NAMES))
    ]
