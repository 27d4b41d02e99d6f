"""One change of a line's call handling made from a sub-page of the line (a selective
list, a rule list, a rule): applied to the settings as stored and saved as that user's
alone (`provisioning.line_settings`), from the version the page showed, with the
document's checks. Refusals are put beside the fields of the entry the form edits;
the others are said with the part of the settings they concern."""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Form

from admin.messages import word
from admin.shared import find_owner, sessions
from provisioning import line_settings
from provisioning.accounts import Account
from provisioning.document import Problem
from provisioning.lookup import find_line

log = logging.getLogger(__name__)

_INDEX = re.compile(r"\[\d+\]")
_PATH = "call_handling"

# The parts of a user's call handling, as the panel calls them (longest first).
_PARTS = (
    ("selective.forward", _l("Forwarded callers")),
    ("selective.reject_anonymous", _l("Anonymous calls")),
    ("selective.reject", _l("Rejected callers")),
    ("selective.screening", _l("Screened callers")),
    ("selective.distinctive_ring", _l("Distinctive ring")),
    ("rule_lists", _l("Rule lists")),
    ("planner", _l("Weekly planner")),
)

STALE = _l(
    "These settings were changed meanwhile (by an administrator, a script or "
    "a code dialled from the phone). Check them below: saving again replaces "
    "them with what is shown."
)


class Gone(Exception):
    """The entry a form edits is no longer in the settings (removed meanwhile)."""


def line_state(account: Account, extension: str) -> tuple[Account, dict[str, Any], list[str], int]:
    """The line's owner, its call handling as stored, its contacts' names, its version."""
    with sessions().begin() as db:
        owner = find_owner(db, account, extension)
        _, user = find_line(db, account.domain, extension)
        contacts = [str(c.get("name", "")) for c in user.contacts or []]
        return owner, dict(user.call_handling or {}), contacts, user.version


def save_change(
    account: Account, extension: str, version: int, edit: Callable[[dict[str, Any]], None]
) -> int:
    """`edit` applied to a copy of the user's call handling as stored, then saved,
    checked as the document checks it; the version the user is at now. Raises
    `DocumentInvalid` (nothing written), `StaleVersion` (changed since `version`) or
    `Gone` (what `edit` changes is not there, an IndexError or KeyError of it)."""
    with sessions().begin() as db:
        state = line_settings.call_handling_of(db, account.domain, extension)
        if state.version != version:
            raise line_settings.StaleVersion(extension, state.version)
        changed = copy.deepcopy(state.call_handling)
        try:
            edit(changed)
        except (IndexError, KeyError):
            raise Gone from None
        saved = line_settings.set_call_handling(
            db, account.domain, extension, changed, version=version
        )
    log.info(
        "panel: %s@%s changed the call handling of %s", account.extension, account.domain, extension
    )
    return saved.version


def said_where(problem: Problem) -> str:
    """A problem in the user's language, after the part of the settings it is in."""
    path = problem.path.removeprefix(_PATH).lstrip(".")
    generic = _INDEX.sub("", path)
    for prefix, name in _PARTS:
        if generic == prefix or generic.startswith(prefix + "."):
            return f"{name}: {word(problem)}"
    return word(problem)


def place_entry_problems(
    form: Form, problems: list[Problem], entry: str, fields: Mapping[str, str]
) -> list[str]:
    """The problems of the entry at `entry` (`selective.forward[2]`) beside the form's
    fields (`fields`: the part of the entry, indexes left out, → field name, `""` for
    the entry itself); the others (another entry, the whole list) returned, said with
    where they are."""
    prefix = f"{_PATH}.{entry}"
    general = []
    for problem in problems:
        path = problem.path
        if path != prefix and not path.startswith((prefix + ".", prefix + "[")):
            general.append(said_where(problem))
            continue
        part = _INDEX.sub("", path[len(prefix) :]).lstrip(".")
        while part not in fields and part:
            part = part.rpartition(".")[0]
        name = fields.get(part)
        if name is None:
            general.append(said_where(problem))
        else:
            form[name].errors = [*form[name].errors, word(problem)]
    return general


def stale_message() -> str:
    return str(STALE)


def gone_message() -> str:
    return _("This entry was removed meanwhile: nothing was saved.")
