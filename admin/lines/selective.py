"""A line's selective call handling (seed 003 "Paramètres avancés", the document's
`selective`): forward selected callers, reject selected callers, distinctive ring,
reject anonymous calls, call screening. A sub-page of the line, for its user and the
tenant's admins acting for them; one list or one entry per save, with the document's
checks (`admin.lines.changes`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin.concepts import Concept
from admin.languages import phone_number
from admin.lines.callers import CALLERS_FIELDS, callers_on, said_callers
from admin.lines.changes import (
    Gone,
    gone_message,
    line_state,
    place_entry_problems,
    said_where,
    save_change,
    stale_message,
)
from admin.lines.selective_forms import AnonymousForm, DeleteEntryForm, SelectiveEntryForm
from admin.shared import account_page, form_problems, may_see
from provisioning.accounts import Account
from provisioning.document import DocumentInvalid
from provisioning.line_settings import StaleVersion
from provisioning.validation import whole_number

blueprint = Blueprint("selective", __name__)
CONCEPT = Concept(blueprint)


@dataclass(frozen=True)
class Kind:
    """A selective list of the document's `selective`."""

    key: str
    # A list of entries (each with its callers) rather than one list of callers.
    many: bool
    title: Any  # lazy_gettext
    explained: Any
    # The entry's fields besides its callers.
    extra: tuple[str, ...] = ()


# In the order of the seed's "Paramètres avancés"; screening last.
KINDS = {
    kind.key: kind
    for kind in (
        Kind(
            "forward",
            True,
            _l("Forward selected callers"),
            _l("Their calls go where you choose, unless do-not-disturb is on."),
            ("to", "confirm"),
        ),
        Kind(
            "reject",
            False,
            _l("Reject selected callers"),
            _l("Their calls are rejected, without reaching your voicemail."),
        ),
        Kind(
            "distinctive_ring",
            True,
            _l("Distinctive ring"),
            _l("Your phones ring differently for them (if your phone model supports it)."),
            ("ring",),
        ),
        Kind(
            "screening",
            False,
            _l("Call screening"),
            _l("They say their name first; you hear it and take the call or not."),
        ),
    )
}


@dataclass(frozen=True)
class Shown:
    """A list's entry as the overview shows it."""

    index: int | None
    callers: str
    detail: str
    on: bool


def _shown(kind: Kind, entry: dict[str, Any], index: int | None) -> Shown:
    if kind.key == "forward":
        detail = _("to %(target)s", target=_target(entry.get("to", "")))
        if entry.get("confirm"):
            detail += " · " + _("confirmed by pressing 1")
    elif kind.key == "distinctive_ring":
        detail = _("ring %(ring)s", ring=entry.get("ring", ""))
    else:
        detail = ""
    callers = entry["callers"] if kind.many else entry
    return Shown(index, said_callers(callers), detail, callers_on(callers))


def _target(to: str) -> str:
    return _("my voicemail") if to == "voicemail" else phone_number(to)


def _entries(selective: dict[str, Any], kind: Kind) -> list[Shown]:
    if kind.many:
        return [_shown(kind, e, i) for i, e in enumerate(selective.get(kind.key) or [])]
    entry = selective.get(kind.key)
    return [] if entry is None else [_shown(kind, entry, None)]


def _kind(key: str) -> Kind:
    kind = KINDS.get(key)
    if kind is None:
        abort(404)
    return kind


@blueprint.route("/lines/<extension>/selective", methods=["GET", "POST"])
@account_page
def page(account: Account, extension: str) -> Any:
    may_see(account, extension)
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        line_state(account, extension)  # a line of the session's tenant, else 404
        status = 400
        problems = _change(account, extension)
        if not problems:
            return redirect(url_for("panel.selective.page", extension=extension))
    owner, handling, _contacts, version = line_state(account, extension)
    selective = handling.get("selective") or {}
    anonymous = AnonymousForm(formdata=None)
    anonymous.reject_anonymous.data = bool(selective.get("reject_anonymous"))
    anonymous.version.data = str(version)
    return render_template(
        "lines/selective.html",
        account=account,
        owner=owner,
        kinds=KINDS.values(),
        entries={kind.key: _entries(selective, kind) for kind in KINDS.values()},
        anonymous=anonymous,
        delete=DeleteEntryForm(formdata=None),
        version=version,
        problems=problems,
    ), status


def _change(account: Account, extension: str) -> list[str]:
    """The overview's own changes: anonymous calls on or off, an entry deleted; the
    problems found (none: saved, and said so)."""
    change = request.form.get("change")
    if change == "anonymous":
        form: AnonymousForm | DeleteEntryForm = AnonymousForm()
        if not form.validate_on_submit():
            return form_problems(form)
        on = bool(form.reject_anonymous.data)

        def edit(handling: dict[str, Any]) -> None:
            selective = handling.setdefault("selective", {})
            selective["reject_anonymous"] = on

        done = (
            _("Anonymous calls are rejected from now on.")
            if on
            else _("Anonymous calls ring again from now on.")
        )
    elif change == "delete":
        form = DeleteEntryForm()
        if not form.validate_on_submit():
            return form_problems(form)
        kind = _kind(form.kind.data or "")
        given = whole_number(form.index.data or "", -1)
        index = None if given < 0 else given
        if kind.many and index is None:
            abort(400)

        def edit(handling: dict[str, Any]) -> None:
            selective = handling["selective"]
            if index is None:
                del selective[kind.key]
            else:
                del selective[kind.key][index]
                if not selective[kind.key]:
                    del selective[kind.key]

        done = _("Deleted: calls follow the new settings from now on.")
    else:
        abort(400)
    try:
        version = int(form.version.data or 0)
    except ValueError:
        version = 0
    try:
        save_change(account, extension, version, edit)
    except DocumentInvalid as invalid:
        return [said_where(p) for p in invalid.problems]
    except StaleVersion:
        return [stale_message()]
    except Gone:
        return [gone_message()]
    flash(done)
    return []


@blueprint.route("/lines/<extension>/selective/<key>", methods=["GET", "POST"])
@account_page
def single(account: Account, extension: str, key: str) -> Any:
    """The one list of callers of a kind without entries (`reject`, `screening`)."""
    return _entry(account, extension, key, None)


@blueprint.route("/lines/<extension>/selective/<key>/<int:index>", methods=["GET", "POST"])
@blueprint.route(
    "/lines/<extension>/selective/<key>/new", methods=["GET", "POST"], defaults={"index": -1}
)
@account_page
def entry(account: Account, extension: str, key: str, index: int) -> Any:
    """An entry of a kind with several (`forward`, `distinctive_ring`; -1: a new one)."""
    return _entry(account, extension, key, index)


def _entry(account: Account, extension: str, key: str, index: int | None) -> Any:
    may_see(account, extension)
    kind = _kind(key)
    if kind.many == (index is None):
        abort(404)
    owner, handling, contacts, version = line_state(account, extension)
    found = (handling.get("selective") or {}).get(kind.key)
    stored: dict[str, Any]
    if kind.many:
        entries = found or []
        new = index == -1
        at = -1 if index is None else index
        if not new and not 0 <= at < len(entries):
            abort(404)
        stored = {} if new else entries[at]
    else:
        new = found is None
        stored = found or {}
    form = SelectiveEntryForm()
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            problems = _save_entry(account, extension, kind, index, form)
            if not problems and not form.errors:
                flash(_("Saved: calls follow the new settings from now on."))
                return redirect(url_for("panel.selective.page", extension=extension))
        else:
            problems = form_problems(form) if form.errors.keys() == {"csrf_token"} else []
    else:
        form.show_callers(stored.get("callers", stored) if kind.many else stored)
        form.to.data = phone_number(stored.get("to") or "")  # `voicemail` as typed
        form.confirm.data = bool(stored.get("confirm"))
        form.ring.data = stored.get("ring", "Bellcore-dr2" if new else "")
        form.version.data = str(version)
    form.offer_contacts(contacts)
    return render_template(
        "lines/selective_entry.html",
        account=account,
        owner=owner,
        kind=kind,
        new=new,
        form=form,
        action=request.path,
        problems=problems,
    ), status


def _entry_fields(kind: Kind) -> dict[str, str]:
    """The parts of an entry a problem may name → the form's fields."""
    if not kind.many:
        return dict(CALLERS_FIELDS)
    fields = {f"callers.{part}".rstrip("."): name for part, name in CALLERS_FIELDS.items()}
    return {**fields, **{name: name for name in kind.extra}}


def _save_entry(
    account: Account, extension: str, kind: Kind, index: int | None, form: SelectiveEntryForm
) -> list[str]:
    callers = form.callers()
    if kind.key == "forward":
        wanted: dict[str, Any] = {"callers": callers, "to": (form.to.data or "").strip()}
        if form.confirm.data:
            wanted["confirm"] = True
    elif kind.key == "distinctive_ring":
        wanted = {"callers": callers, "ring": (form.ring.data or "").strip()}
    else:
        wanted = callers
    placed = index

    def edit(handling: dict[str, Any]) -> None:
        nonlocal placed
        selective = handling.setdefault("selective", {})
        if not kind.many:
            selective[kind.key] = wanted
            return
        entries = selective.setdefault(kind.key, [])
        if index == -1:
            placed = len(entries)
            entries.append(wanted)
        else:
            assert index is not None
            entries[index] = wanted

    try:
        save_change(account, extension, form.shown_version(), edit)
    except DocumentInvalid as invalid:
        where = f"selective.{kind.key}" + (f"[{placed}]" if kind.many else "")
        return place_entry_problems(form, invalid.problems, where, _entry_fields(kind))
    except StaleVersion as stale:
        # Saved again as typed, it replaces what was changed meanwhile: said so.
        form.version.data = str(stale.current)
        return [stale_message()]
    except Gone:
        return [gone_message()]
    return []
