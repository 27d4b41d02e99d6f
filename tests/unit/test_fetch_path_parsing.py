"""The request parser scans the body with one regular expression: it must read exactly
what a plain loop over the `&`-separated fields reads (first occurrence wins, names
up to the first `=`, values percent-decoded, cut to their limit), on FreeSWITCH's
captured requests and on odd bodies alike."""

from __future__ import annotations

import json
import random
from urllib.parse import unquote_to_bytes

import pytest

from tests.fsrequests import fixtures_dir, fs_body
from xmlcurl import request
from xmlcurl.request import parse_fields


def _loop(body: bytes) -> dict[str, str]:
    """The parser as a loop over every field (what FreeSWITCH's encoding means)."""
    fields: dict[str, str] = {}
    for part in body.split(b"&"):
        raw_name, _, raw_value = part.partition(b"=")
        name = request._WANTED_BYTES.get(raw_name)
        if name is not None and name not in fields:
            value = unquote_to_bytes(raw_value[: request._MAX_VALUE * 3])
            fields[name] = value.decode("utf-8", "replace")[: request._MAX_VALUE]
    return fields


def _captured() -> list[bytes]:
    paths = sorted((fixtures_dir() / "xml_curl").glob("*.json"))
    return [fs_body([(k, v) for k, v in json.loads(p.read_text())["fields"]]) for p in paths]


def test_captured_requests_read_alike() -> None:
    bodies = _captured()
    assert len(bodies) > 10
    for body in bodies:
        assert parse_fields(body) == _loop(body)
    dialplan = parse_fields(fs_body([("section", "dialplan"), ("Hunt-Context", "acme")]))
    assert dialplan == {"section": "dialplan", "Hunt-Context": "acme"}


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"&&",
        b"section",
        b"section&section=dialplan",
        b"section=&section=dialplan",
        b"section=dialplan&section=directory",
        b"sectionx=1&section=2",
        b"sectio=1&section_=2",
        b"=a&section=b",
        b"section=a=b&Hunt-Context=x%3Dy",
        b"section=%ZZ&Caller-Context=%C3%A9&Unique-ID=%FF",
        b"section=a\n&Hunt-Context=b\n",
        b"Hunt-Context\n&Hunt-Context=late",
        b"section=" + b"%41" * 700,
        b"section=" + b"x" * 2000,
        b"variable_centrex_route=a+b%20c&variable_centrex_route=second",
    ],
)
def test_odd_bodies_read_alike(body: bytes) -> None:
    assert parse_fields(body) == _loop(body)


def test_random_bodies_read_alike() -> None:
    rng = random.Random(2026)
    names = [*request._WANTED_BYTES, b"", b"x", b"sectio", b"section_", b"variable_centrex", b"="]
    values = [b"", b"=", b"=v", b"==", b"=%41%", b"=a=b", b"\n", b"=\n", b"=%C3%A9", b"=%FF"]
    for _ in range(5000):
        parts = [
            rng.choice(names) + rng.choice(values) + rng.choice([b"", b"&"])
            for _ in range(rng.randrange(8))
        ]
        body = b"&".join(parts) if rng.random() < 0.5 else b"".join(parts)
        assert parse_fields(body) == _loop(body), body
