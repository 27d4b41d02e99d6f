"""YAML text of plain data, read and written as PyYAML's reference classes do, faster.

A tenant of 100,000 users is a 20 MB document. PyYAML's pure-Python loader takes
minutes to read it and its dumper most of a minute to write it; its C extension still
builds a Python object for every node and every event mark. This module gives the same
results (the same data read, the same text written) in a fraction of the time:

- `load` turns the events of libyaml's parser into plain data in one loop, under the
  reference loader's rules (`StringsLoader`: every scalar a string, a plain `null` or
  `~` None, a key given twice in a mapping refused). Whatever the loop does not
  handle — anchors, aliases, tags, several documents, a collection as a key, and any
  error — is read again by the reference loader, whose data or error is then the
  answer.
- `dump` writes block-style text itself for the scalars whose rendering it knows
  exactly (text on one line that PyYAML would neither fold nor escape), and leaves any
  top-level entry, or item of a top-level list, holding another to PyYAML's
  `safe_dump`: the same text either way.

Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)

try:
    from yaml._yaml import CParser

    _LIBYAML = True
except ImportError:  # PyYAML built without libyaml: the reference loader reads everything
    _LIBYAML = False


class StringsLoader(yaml.BaseLoader):
    """The reference loader. Scalars stay strings (no YAML 1.1 octal or yes/no
    surprises: `0100` is an extension, not 64); only `null`/`~` mean None. A key given
    twice in one mapping is an error: PyYAML would keep the last silently, and a
    second `users:` further down would drop every user of the first."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:
                continue  # an unhashable key: PyYAML's own check says so
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"found the key {key!r} twice",
                    key_node.start_mark,
                )
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


_NULL = re.compile(r"^(?:~|null|Null|NULL)$")
# What _NULL matches, for the fast loop (a plain scalar holds no line break).
_NULLS = frozenset({"~", "null", "Null", "NULL"})
StringsLoader.add_implicit_resolver("tag:yaml.org,2002:null", _NULL, list("~nN"))
StringsLoader.add_constructor("tag:yaml.org,2002:null", lambda _loader, _node: None)


class _Unhandled(Exception):
    """Something the fast paths leave to PyYAML's reference classes."""


class _KeyTwice(yaml.constructor.ConstructorError):
    """A key given twice, found by the fast loop: said at once (the reference loader
    would take minutes to find it again in a large document)."""


def load(text: str) -> Any:
    """YAML (or JSON) text → plain data, as `yaml.load(text, Loader=StringsLoader)`;
    raises its `yaml.YAMLError`s."""
    if _LIBYAML:
        try:
            return _load_events(text)
        except _KeyTwice:
            raise
        except Exception:
            pass  # the reference loader answers, its error included
    return yaml.load(text, Loader=StringsLoader)


_NO_KEY = object()


def _load_events(text: str) -> Any:
    parser = CParser(text)
    next_event = parser.get_event
    open_collections: list[Any] = []
    # Per open collection: the key read and waiting for its value (mappings only).
    keys: list[Any] = []
    root = None
    documents = 0
    while True:
        event: Any = next_event()
        kind = type(event)
        if kind is ScalarEvent:
            if event.anchor is not None or event.tag is not None:
                raise _Unhandled
            value = event.value
            if event.implicit[0] and value in _NULLS:
                value = None
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if event.anchor is not None or event.tag is not None:
                raise _Unhandled
            if keys and keys[-1] is _NO_KEY and type(open_collections[-1]) is dict:
                raise _Unhandled  # a collection as a mapping key
            open_collections.append({} if kind is MappingStartEvent else [])
            keys.append(_NO_KEY)
            continue
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            keys.pop()
            value = open_collections.pop()
        elif kind is DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _Unhandled
            continue
        elif kind is StreamStartEvent or kind is DocumentEndEvent:
            continue
        elif kind is StreamEndEvent:
            return root
        else:
            raise _Unhandled  # an alias
        if not open_collections:
            root = value
            continue
        parent = open_collections[-1]
        if type(parent) is list:
            parent.append(value)
        elif keys[-1] is _NO_KEY:
            if value in parent:
                raise _KeyTwice(None, None, f"found the key {value!r} twice", event.start_mark)
            keys[-1] = value
        else:
            parent[keys[-1]] = value
            keys[-1] = _NO_KEY


# --- writing --------------------------------------------------------------------------

_OPTIONS: dict[str, Any] = {"sort_keys": False, "allow_unicode": True}
# PyYAML folds a scalar at a space past this column.
_WIDTH = 80
# Characters PyYAML writes as they are, neither escaped nor breaking a line (with
# allow_unicode); anything else makes it choose double quotes.
_AS_IS = re.compile(r"[\x20-\x7E\u00A0-\u2027\u202A-\uD7FF\uE000-\uFEFE\uFF00-\uFFFD]+")
# What keeps such text from being written plain in a block: an indicator first, a
# document marker, ': ' or ' #' inside, a space or ':' at either end.
_NOT_PLAIN = re.compile(r"^[ #,\[\]{}&*!|>'\"%@`]|^[?:\-](?: |\Z)|^(?:---|\.\.\.)|: |:\Z| #| \Z")
_RESOLVERS = yaml.SafeDumper.yaml_implicit_resolvers


def dump(data: Any) -> str:
    """Plain data → the text of `yaml.safe_dump(data, sort_keys=False,
    allow_unicode=True)`."""
    if type(data) is not dict or not data or _shares_collections(data):
        # PyYAML writes a collection met twice as an anchor and aliases.
        return yaml.safe_dump(data, **_OPTIONS)
    out: list[str] = []
    for key, value in data.items():
        lines: list[str] = []
        try:
            _entry(_key(key), value, 0, lines)
        except _Unhandled:
            out += _entry_by_parts(key, value)
            continue
        out += lines
    return "".join(out)


def _entry_by_parts(key: Any, value: Any) -> list[str]:
    """A top-level entry PyYAML writes somewhere: the items of a list one by one."""
    try:
        head = _key(key)
    except _Unhandled:
        head = None
    if head is None or type(value) is not list or not value:
        return [yaml.safe_dump({key: value}, **_OPTIONS)]
    out = [head + ":\n"]
    for item in value:
        lines: list[str] = []
        try:
            _sequence([item], 0, lines, None)
        except _Unhandled:
            lines = [yaml.safe_dump([item], **_OPTIONS)]
        out += lines
    return out


def _shares_collections(data: Any) -> bool:
    seen: set[int] = set()
    for collection in _collections(data):
        if id(collection) in seen:
            return True
        seen.add(id(collection))
    return False


def _collections(data: Any) -> Iterator[Any]:
    pending = [data]
    while pending:
        item = pending.pop()
        if type(item) is dict:
            yield item
            pending += item.values()
        elif type(item) is list:
            yield item
            pending += item


def _entry(head: str, value: Any, indent: int, out: list[str]) -> None:
    """`head` is the start of the line up to the key; the value follows."""
    kind = type(value)
    if kind is dict:
        if value:
            out.append(head + ":\n")
            _mapping(value, indent + 2, out, None)
        else:
            out.append(head + ": {}\n")
    elif kind is list:
        if value:
            out.append(head + ":\n")
            _sequence(value, indent, out, None)  # in a mapping, a list is not indented
        else:
            out.append(head + ": []\n")
    else:
        out.append(_line(head + ": ", _scalar(value)))


def _mapping(value: dict[Any, Any], indent: int, out: list[str], first: str | None) -> None:
    """`first`: the start of the first entry's line when it is not `indent` spaces (a
    list item's '- ')."""
    pad = " " * indent
    for key, item in value.items():
        _entry((pad if first is None else first) + _key(key), item, indent, out)
        first = None


def _sequence(items: list[Any], indent: int, out: list[str], first: str | None) -> None:
    pad = " " * indent
    for item in items:
        dash = (pad if first is None else first) + "- "
        first = None
        kind = type(item)
        if kind is dict and item:
            _mapping(item, indent + 2, out, dash)
        elif kind is list and item:
            _sequence(item, indent + 2, out, dash)
        elif kind is dict:
            out.append(dash + "{}\n")
        elif kind is list:
            out.append(dash + "[]\n")
        else:
            out.append(_line(dash, _scalar(item)))


def _line(start: str, text: str) -> str:
    if len(start) + len(text) > _WIDTH and " " in text:
        raise _Unhandled  # PyYAML may fold it
    return start + text + "\n"


# Keys written so far and their text: a tenant's 100,000 users repeat the same dozen
# keys (a quarter of the time of writing them). Bounded: keys may be anyone's data.
_KEYS: dict[str, str] = {}
_MAX_KEYS = 4096


def _key(key: Any) -> str:
    # PyYAML writes a key of 128 characters or more, or an empty one, as '? key'.
    if type(key) is not str or not 0 < len(key) < 128:
        raise _Unhandled
    text = _KEYS.get(key)
    if text is None:
        text = _string(key)
        if len(_KEYS) < _MAX_KEYS:
            _KEYS[key] = text
    return text


def _scalar(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if value is None:
        return "null"
    raise _Unhandled


def _string(value: str) -> str:
    if not value:
        return "''"
    if _AS_IS.fullmatch(value) is None:
        raise _Unhandled  # escapes, line breaks: double quotes
    if _NOT_PLAIN.search(value) is None and _reads_as_string(value):
        return value
    return "'" + value.replace("'", "''") + "'"


def _reads_as_string(value: str) -> bool:
    """Whether PyYAML's resolver reads the text, written plain, as a string (not as a
    number, boolean, null, date …)."""
    return not any(pattern.match(value) for _tag, pattern in _RESOLVERS.get(value[0], ()))
