"""A line's personal contacts: listed, added, deleted, imported and exported as CSV."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from admin.calls.forms import CallForm
from admin.calls.views import can_call
from admin.concepts import Concept, NavEntry
from admin.contacts.forms import ContactForm, DeleteContactForm, ImportContactsForm
from admin.messages import word
from admin.problems import item_of, place_problems
from admin.shared import (
    account_page,
    csv_file,
    find_owner,
    form_problems,
    may_see,
    sessions,
)
from provisioning import contacts_csv, service, user_settings
from provisioning.accounts import Account
from provisioning.document import DocumentInvalid, Problem
from provisioning.line_settings import StaleVersion

log = logging.getLogger(__name__)

blueprint = Blueprint("contacts", __name__)
CONCEPT = Concept(blueprint, (NavEntry(_l("My contacts"), "panel.contacts.page", own_line=True),))

# The parts of a contact a problem may be in, as the page calls them.
_PARTS = {"": _l("contact"), "name": _l("name"), "numbers": _l("numbers")}
# Where `contacts_csv` finds a problem in an imported file.
_FILE_LINE = re.compile(r"line (\d+)")

# Imports read at most this much: 500 contacts of five numbers fit in a tenth of it.
MAX_IMPORT = 512 * 1024


def _wording(contacts: list[dict[str, Any]]) -> Callable[[Problem], str]:
    """A problem with the contacts, worded with the contact's name."""

    def worded(problem: Problem) -> str:
        found = item_of(problem.path, "contacts")
        if found is None:
            return where(problem)
        index, part = found
        name = contacts[index]["name"] if index < len(contacts) else f"contact {index + 1}"
        return f"{name}: {_PARTS.get(part, _PARTS[''])} {word(problem)}"

    return worded


def where(problem: Problem) -> str:
    """A problem after the place it was found: a line of an imported file, or a path."""
    line = _FILE_LINE.fullmatch(problem.path)
    if line is not None:
        return _("line %(number)s: %(problem)s", number=line[1], problem=word(problem))
    return f"{problem.path}: {word(problem)}" if problem.path else word(problem)


def _imported(file: Any, current: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The contacts with those of an uploaded CSV file."""
    text = file.read(MAX_IMPORT + 1)
    if len(text) > MAX_IMPORT:
        raise DocumentInvalid([Problem("", _("The file is larger than 512 kB."))])
    try:
        decoded = text.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DocumentInvalid([Problem("", _("The file is not UTF-8 text."))]) from None
    return contacts_csv.merged(current, contacts_csv.parse_contacts_csv(decoded))


def _wanted(form: FlaskForm, current: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The contacts the submitted form (add, delete or import) asks for."""
    if isinstance(form, ContactForm):
        numbers = [n.strip() for n in (form.numbers.data or "").split(",") if n.strip()]
        entry = {"name": (form.name.data or "").strip(), "numbers": numbers}
        return contacts_csv.merged(current, [entry])
    if isinstance(form, DeleteContactForm):
        gone = (form.name.data or "").casefold()
        return [c for c in current if c["name"].casefold() != gone]
    return _imported(form.file.data, current)


def _save(
    account: Account, extension: str, form: FlaskForm, current: list[dict[str, Any]]
) -> list[str]:
    """Save the contacts the form asks for as this user's alone (provisioning.user_settings),
    made from the version the page showed; the problems found, by field (on the form) or
    not (returned)."""
    try:
        wanted = _wanted(form, current)
    except DocumentInvalid as invalid:
        return [where(p) for p in invalid.problems]
    try:
        shown = int(form.version.data or 0)
    except ValueError:
        shown = 0
    try:
        with sessions().begin() as db:
            user_settings.patch_user(
                db, account.domain, extension, {"contacts": wanted}, version=shown
            )
    except DocumentInvalid as invalid:
        fields = ContactForm.PROBLEM_FIELDS if isinstance(form, ContactForm) else {}
        return place_problems(form, invalid.problems, fields, _wording(wanted))
    except StaleVersion:
        return [
            _(
                "These contacts were changed meanwhile (by an administrator, a script or "
                "a code dialled from the phone): nothing was saved. Check them below, "
                "then make your change again."
            )
        ]
    log.info(
        "panel: %s@%s changed the contacts of %s", account.extension, account.domain, extension
    )
    return []


@blueprint.route("/lines/<extension>/contacts", methods=["GET", "POST"])
@account_page
def page(account: Account, extension: str) -> Any:
    may_see(account, extension)
    add, delete, upload = ContactForm(), DeleteContactForm(), ImportContactsForm()
    if request.method == "GET" and request.args.get("number"):
        # From the call log's "Add to contacts": the number typed in already.
        add = ContactForm(formdata=None, numbers=request.args["number"][:200])
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        with sessions().begin() as db:
            try:
                state = user_settings.user_of(db, account.domain, extension)
            except service.NotFound:
                abort(404)
        forms: dict[str, FlaskForm] = {"add": add, "delete": delete, "import": upload}
        form = forms.get(request.form.get("change") or "")
        if form is None or not form.validate_on_submit():
            problems = form_problems(*[f for f in [form] if f is not None])
        else:
            problems = _save(account, extension, form, state.user.get("contacts", []))
            if not problems and not form.errors:
                flash(_("Contacts saved."))
                return redirect(url_for("panel.contacts.page", extension=extension))
    with sessions().begin() as db:
        owner = find_owner(db, account, extension)
        state = user_settings.user_of(db, account.domain, extension)
    # The forms carry the version of the contacts shown (a change made meanwhile too).
    add.version.data = upload.version.data = str(state.version)
    page = render_template(
        "contacts/list.html",
        account=account,
        owner=owner,
        contacts=state.user.get("contacts", []),
        version=state.version,
        add=add,
        delete=DeleteContactForm(formdata=None),
        upload=upload,
        problems=problems,
        calling=can_call(account, extension),
        call_form=CallForm(formdata=None),
    )
    return page, status


@blueprint.get("/lines/<extension>/contacts.csv")
@account_page
def csv(account: Account, extension: str) -> Any:
    may_see(account, extension)
    with sessions().begin() as db:
        try:
            user = service.export_user(db, account.domain, extension)
        except service.NotFound:
            abort(404)
    return csv_file(contacts_csv.contacts_csv(user.contacts), f"contacts-{extension}.csv")
