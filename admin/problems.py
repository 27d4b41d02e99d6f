"""Problems found in the tenant document, put beside the form fields they concern.

A form declares which parts of the document its fields edit: a mapping from a path
suffix to a field name, list indexes written `[]`
(`{"call_handling.forward_busy": "forward_busy_to"}`). A problem goes to the field of
the longest suffix that ends its path, or else the nearest part of the document holding it
(`users[3].call_handling.forward_busy.to` → `call_handling.forward_busy.to`, then
`call_handling.forward_busy`, …); the others are returned for the page's own list.
Messages are worded in the user's language by their code (`admin.messages.word`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from wtforms import Form

from admin.messages import word
from provisioning.document import Problem

_INDEX = re.compile(r"\[\d+\]")
# The last part of a path: `.name` or a list index (already written `[]`).
_LAST_PART = re.compile(r"(?:\.[^.\[]+|\[\])$")


def _ends_with(path: str, suffix: str) -> bool:
    return path == suffix or path.endswith("." + suffix)


def field_for(path: str, fields: Mapping[str, str]) -> str | None:
    """The field whose suffix ends `path` or the nearest part holding it; None if none."""
    generic = _INDEX.sub("[]", path)
    while generic:
        matching = [suffix for suffix in fields if _ends_with(generic, suffix)]
        if matching:
            return fields[max(matching, key=len)]
        shorter = _LAST_PART.sub("", generic)
        generic = "" if shorter == generic else shorter
    return None


def item_of(path: str, items: str) -> tuple[int, str] | None:
    """The index of the `items` list entry `path` lies in and the part of the entry it
    names (`"users[1].contacts[2].numbers[0]"`, `"contacts"` → `(2, "numbers")`)."""
    found = re.search(rf"(?:^|\.){re.escape(items)}\[(\d+)\](?:\.([^.\[]+))?", path)
    return None if found is None else (int(found[1]), found[2] or "")


def place_problems(
    form: Form,
    problems: Iterable[Problem],
    fields: Mapping[str, str],
    unplaced: Callable[[Problem], str] = word,
) -> list[str]:
    """Each problem's message, in the user's language, added to the errors of the
    field `fields` maps its path to; the problems of no field, as `unplaced` words
    them, returned."""
    general = []
    for problem in problems:
        name = field_for(problem.path, fields)
        if name is None:
            general.append(unplaced(problem))
        else:
            form[name].errors = [*form[name].errors, word(problem)]
    return general
