"""Requests exactly as FreeSWITCH 1.10 sends them, built from the captured fixtures.

`fixture_fields(name)` reads ../shared/fixtures/xml_curl/<name>.json (field order kept);
`fs_body(fields)` encodes them the way mod_xml_curl does: the five base fields raw,
every other value percent-encoded with FreeSWITCH's unsafe set (SWITCH_URL_UNSAFE),
names never encoded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

_FIXTURES = Path(
    os.environ.get("CENTREX_FIXTURES", Path(__file__).resolve().parents[2] / "shared" / "fixtures")
)
_UNSAFE = set('\r\n #%&+:;<=>?@[\\]^`{|}"')
_RAW_FIELDS = {"hostname", "section", "tag_name", "key_name", "key_value"}


def fixtures_dir() -> Path:
    return _FIXTURES


def fixture_fields(name: str) -> list[tuple[str, str]]:
    """The fixture's fields, in the order FreeSWITCH sent them."""
    data = json.loads((_FIXTURES / "xml_curl" / f"{name}.json").read_text())
    return [(k, v) for k, v in data["fields"]]


def with_fields(fields: list[tuple[str, str]], values: dict[str, str]) -> list[tuple[str, str]]:
    """Same fields, same order, with some values replaced (exact field names); names
    not present are appended, as FreeSWITCH appends new channel variables."""
    out = [(k, values.get(k, v)) for k, v in fields]
    present = {k for k, _ in fields}
    out += [(k, v) for k, v in values.items() if k not in present]
    return out


def _encode(value: str) -> str:
    out = []
    for byte in value.encode("utf-8"):
        char = chr(byte)
        out.append(f"%{byte:02X}" if byte > 126 or byte < 32 or char in _UNSAFE else char)
    return "".join(out)


def fs_body(fields: list[tuple[str, str]]) -> bytes:
    parts = [f"{k}={v if k in _RAW_FIELDS else _encode(v)}" for k, v in fields]
    return "&".join(parts).encode()
