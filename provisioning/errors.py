"""Domain errors: what the domain refuses, as data each surface words in its own way.

A refusal is said with a stable code, the values it names and its English wording:

    said("number_taken", "%(number)s is already used by %(owner)s", number=n, owner=o)

raised alone (`raise InvalidValue(said(...))`, `raise NotFound(said(...))`) or, with the
path of the field at fault, collected as a `Problem` (`Problem(path, said(...))`, or
`fail(path, said(...))` in the document's checks) into `DocumentInvalid`. `str()` of
either is the English sentence the CLI and the REST API have always shown.

Each surface turns them into its answer in one place: the REST API's error handlers
(`provisioning.api_errors`: JSON with code, params, path and message), the panel's
(`admin.errors`, and `admin.problems` beside the form fields, worded from the catalogue
of `admin.messages` in the user's language), the CLI's `report` (`centrex.cli`).

To add a refusal: pick a code (snake_case; clients match on it, so it never changes
meaning), say it with literal code and English template (`%(name)s` placeholders, `%%`
for a percent sign) where the rule is; if the panel can show it, add the same template
under the same code to `admin.messages.MESSAGES` and its French to
admin/translations/fr (`tests/unit/test_error_messages.py` holds the three together).
A plain string still works everywhere: no code, and its text is shown as it is.

A new kind of refusal is a subclass of `DomainError` (and of the builtin error it is,
e.g. `ValueError`); the panel and the CLI answer any kind, the REST API those with a
status (`api_errors.KINDS`, or a blueprint's own: `answer_domain_errors(bp, {Kind:
(409, "kind_code")})`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Param = str | int


@dataclass(frozen=True)
class Said:
    """A refusal's code, its English template and the values it names."""

    code: str
    template: str
    params: Mapping[str, Param] = field(default_factory=dict, hash=False)

    def __str__(self) -> str:
        return self.template % dict(self.params)


def said(code: str, template: str, /, **params: Param) -> Said:
    return Said(code, template, params)


Message = str | Said


def code_of(message: Message) -> str:
    return message.code if isinstance(message, Said) else ""


def params_of(message: Message) -> Mapping[str, Param]:
    return message.params if isinstance(message, Said) else {}


@dataclass(frozen=True, init=False)
class Problem:
    """One refusal at `path` (`users[3].numbers[0]`, "" for the whole): `message` is
    its English sentence; `code` ("" when the rule has none yet) and `params` let a
    surface word it otherwise."""

    path: str
    message: str
    code: str
    params: Mapping[str, Param] = field(hash=False)

    def __init__(self, path: str, message: Message) -> None:
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "message", str(message))
        object.__setattr__(self, "code", code_of(message))
        object.__setattr__(self, "params", dict(params_of(message)))

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def at(self, path: str) -> Problem:
        """The same problem, found at `path` (a user's own field rather than the
        document's path to it)."""
        moved = object.__new__(Problem)
        for name, value in vars(self).items():
            object.__setattr__(moved, name, value)
        object.__setattr__(moved, "path", path)
        return moved


def structure_problem(path: str, error: Mapping[str, Any]) -> Problem:
    """A problem of a pydantic error (structure, types, bounds): pydantic's error type
    as its code (`missing`, `too_long`, `less_than_equal`…), its context as params."""
    context = error.get("ctx") or {}
    params = {k: v for k, v in context.items() if isinstance(v, str | int)}
    return Problem(path, Said(str(error["type"]), _literal(str(error["msg"])), params))


def _literal(text: str) -> str:
    return text.replace("%", "%%")


class DomainError(Exception):
    """A refusal of the domain: its `said` (a `Said`, or plain English), `str()` the
    English, and the `path` of the field it concerns, if any. Subclasses say what kind
    of refusal it is (invalid, not found, …); each surface maps the kind to its answer."""

    def __init__(self, message: Message = "", *, path: str = "") -> None:
        super().__init__(message)
        self.said = message
        self.path = path

    @property
    def code(self) -> str:
        return code_of(self.said)

    @property
    def params(self) -> Mapping[str, Param]:
        return params_of(self.said)

    @property
    def problems(self) -> list[Problem]:
        return [Problem(self.path, self.said)]


class DocumentInvalid(DomainError, ValueError):
    """Every problem found in a document (or a part of it); nothing was written."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        found = list(problems)
        super().__init__("\n".join(map(str, found)))
        self._problems = found

    @property
    def problems(self) -> list[Problem]:
        return self._problems
