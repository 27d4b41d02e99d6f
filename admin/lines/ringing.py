"""A line's ringing page (a tab of the line): simultaneous ring, sequential ring and
do-not-disturb's priority callers, for its user and the tenant's admins (acting for
them). Saved as the line page is: that user's settings alone, from the version shown."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from wtforms import Field, FieldList, FormField, SelectChoice

from admin.concepts import Concept
from admin.languages import phone_number
from admin.lines.ringing_forms import MORE_ROWS, RINGS, SPARE_ROWS, RingingForm
from admin.lines.ringing_settings import DEFAULT_RINGS, Place, place_of, requested, rows_of
from admin.messages import word
from admin.shared import account_page, find_owner, may_see, sessions, tenant_schedules
from provisioning import line_settings
from provisioning.accounts import Account
from provisioning.call_handling import MAX_LIST, SECONDS_PER_RING, stored_dnd_on
from provisioning.document import DocumentInvalid
from provisioning.lookup import find_line
from provisioning.validation import whole_number

log = logging.getLogger(__name__)

blueprint = Blueprint("ringing", __name__)
# Reached by a tab of the line page, not from the header's nav.
CONCEPT = Concept(blueprint)


def _field_at(form: RingingForm, place: Place | None) -> Field | None:
    """The field at a place of the page; None for no place, or a row no longer there."""
    if not place:
        return None
    found: Any = form
    for step in place:
        if isinstance(step, int):
            if step >= len(found.entries):
                return None
            found = found.entries[step]
        else:
            found = found[step]
    field: Field = found
    return field


def _refuse(field: Field | None, message: str) -> bool:
    if field is None:
        return False
    field.errors = [*field.errors, message]
    return True


def _save(account: Account, extension: str, form: RingingForm) -> tuple[bool, list[str]]:
    """Save the form as this user's settings alone (provisioning.line_settings), made
    from the version the page showed: whether it was saved, and the problems of no
    field (those of a field are put beside it)."""
    rows = form.data
    try:
        shown = int(form.version.data or 0)
    except ValueError:
        shown = 0
    with sessions().begin() as db:
        stored = line_settings.call_handling_of(db, account.domain, extension)
        wanted, places = requested(stored.call_handling, rows)
        missing = False
        if rows["simultaneous"] and not wanted["simultaneous_ring"]["numbers"]:
            missing = _refuse(form.simultaneous_numbers.entries[0], _("Give at least one number."))
        if rows["sequential"] and not wanted["sequential_ring"]["steps"]:
            first = form.sequential_steps.entries[0]["number"]
            missing = _refuse(first, _("Give at least one number.")) or missing
        if missing:
            return False, []
        try:
            line_settings.set_call_handling(db, account.domain, extension, wanted, version=shown)
        except DocumentInvalid as invalid:
            general = [
                word(problem)
                for problem in invalid.problems
                if not _refuse(_field_at(form, place_of(problem.path, places)), word(problem))
            ]
            return False, general
        except line_settings.StaleVersion as stale:
            form.version.data = str(stale.current)
            return False, [
                _(
                    "These settings were changed meanwhile (by an administrator, a script or "
                    "a code dialled from the phone). Check them below: saving again replaces "
                    "them with what is shown."
                )
            ]
    log.info("panel: %s@%s changed the ringing of %s", account.extension, account.domain, extension)
    return True, []


def _rearranged(form: RingingForm) -> dict[str, Any] | None:
    """The form's rows after a "move" or "more rows" button (nothing saved yet), or None
    when the form was sent to be saved."""
    rows = form.data
    move = request.form.get("move", "")
    more = request.form.get("more", "")
    if move:
        direction, _dash, index = move.partition("-")
        steps = rows["sequential_steps"]
        row = whole_number(index, -1)
        other = row - 1 if direction == "up" else row + 1
        if 0 <= row < len(steps) and 0 <= other < len(steps):
            steps[row], steps[other] = steps[other], steps[row]
        return rows
    if more:
        part, _dash, key = more.partition("-")
        if part in {"simultaneous_callers", "sequential_callers", "priority_callers"} and key in {
            "numbers",
            "extensions",
        }:
            rows[part][key] = [*rows[part][key], *[""] * MORE_ROWS][:MAX_LIST]
        return rows
    return None


def _dress(form: RingingForm, schedules: list[str], contacts: list[str]) -> None:
    """What the fields offer: the tenant's schedules, the user's contacts, ring counts,
    and blank rows to type more in (a value no longer offered is kept, so that the save
    says what is wrong with it)."""
    for field in (form.simultaneous_schedule, form.sequential_schedule):
        offered = [
            *schedules,
            *([field.data] if field.data and field.data not in schedules else []),
        ]
        field.choices = [SelectChoice("", _("at all times"))] + [
            SelectChoice(name, _("while “%(schedule)s” is in force", schedule=name))
            for name in offered
        ]
    for field in (form.sequential_own_rings, *(step["rings"] for step in form.sequential_steps)):
        if field.data is None:
            field.data = DEFAULT_RINGS
        counts = [*RINGS, *([field.data] if field.data not in RINGS else [])]
        field.choices = [
            SelectChoice(
                n,
                ngettext(
                    "%(num)d ring (%(seconds)d s)",
                    "%(num)d rings (%(seconds)d s)",
                    n,
                    seconds=n * SECONDS_PER_RING,
                ),
            )
            for n in counts
        ]
    for callers in form.caller_lists():
        chosen = callers["contacts"].data or []
        callers["contacts"].choices = [
            (name, name) for name in [*contacts, *(c for c in chosen if c not in contacts)]
        ]
        for key in ("numbers", "extensions"):
            rows: FieldList = callers[key]
            filled = sum(1 for entry in rows if entry.data)
            while len(rows) < min(max(filled + SPARE_ROWS, SPARE_ROWS), rows.max_entries or 0):
                rows.append_entry("")


def _has_errors(field: Any) -> bool:
    """Whether a field, or any row or part of it, shows an error."""
    if isinstance(field, FieldList):
        return any(_has_errors(entry) for entry in field)
    if isinstance(field, FormField):
        return any(_has_errors(part) for part in field)
    return bool(field.errors)


def _criteria_open(form: RingingForm, prefix: str) -> bool:
    """Whether a ring's criteria are shown unfolded: set, or refused."""
    schedule, callers = form[f"{prefix}_schedule"], form[f"{prefix}_callers"]
    rows = callers.data
    set_ = (
        schedule.data
        or form[f"{prefix}_confirm"].data
        or any(rows["numbers"])
        or any(rows["extensions"])
        or rows["contacts"]
        or rows["anonymous"]
    )
    return bool(set_) or _has_errors(schedule) or _has_errors(callers)


@blueprint.route("/lines/<extension>/ringing", methods=["GET", "POST"])
@account_page
def page(account: Account, extension: str) -> Any:
    may_see(account, extension)
    with sessions().begin() as db:
        owner = find_owner(db, account, extension)
        state = line_settings.call_handling_of(db, account.domain, extension)
        schedules = tenant_schedules(db, account.domain)
        _tenant, user = find_line(db, account.domain, extension)
        contacts = [str(contact.get("name", "")) for contact in user.contacts or []]
    problems: list[str] = []
    pending = False
    status = 200
    if request.method == "POST":
        form = RingingForm()
        rearranged = _rearranged(form)
        if rearranged is not None:
            form = RingingForm(formdata=None, data=rearranged)
            pending = True
        elif form.validate_on_submit():
            saved, problems = _save(account, extension, form)
            if saved:
                flash(_("Saved: calls follow the new settings from now on."))
                return redirect(url_for("panel.ringing.page", extension=extension))
            status = 400
        else:
            status = 400
    else:
        rows = rows_of(state.call_handling, phone_number)
        form = RingingForm(data={**rows, "version": str(state.version)})
    _dress(form, schedules, contacts)
    page = render_template(
        "lines/ringing.html",
        account=account,
        owner=owner,
        form=form,
        problems=problems,
        pending=pending,
        dnd_on=stored_dnd_on(state.call_handling),
        criteria_open={p: _criteria_open(form, p) for p in ("simultaneous", "sequential")},
    )
    return page, status
