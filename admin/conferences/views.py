"""The tenant's conference rooms: listed, added or replaced, deleted (tenant admins)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin.concepts import Audience, Concept, NavEntry
from admin.conferences.forms import DeleteRoomForm, RoomForm
from admin.problems import place_problems
from admin.shared import account_page, admins_only, form_problems, sessions
from provisioning import conference_rooms
from provisioning.accounts import Account
from provisioning.document import DocumentInvalid
from provisioning.lookup import NotFound

blueprint = Blueprint("conferences", __name__)
CONCEPT = Concept(
    blueprint, (NavEntry(_l("Conferences"), "panel.conferences.page", Audience.ADMINS),)
)


@blueprint.route("/conferences", methods=["GET", "POST"])
@account_page
def page(account: Account) -> Any:
    admins_only(account)
    add, delete = RoomForm(), DeleteRoomForm()
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        change = request.form.get("change")
        try:
            if change == "add" and add.validate_on_submit():
                room = add.room()
                with sessions().begin() as db:
                    conference_rooms.put_room(db, account.domain, str(room["name"]), room)
                flash(_("%(name)s: saved.", name=room["name"]))
                return redirect(url_for("panel.conferences.page"))
            if change == "delete" and delete.validate_on_submit():
                with sessions().begin() as db:
                    conference_rooms.delete_room(db, account.domain, delete.name.data or "")
                flash(_("%(name)s: deleted.", name=delete.name.data))
                return redirect(url_for("panel.conferences.page"))
            problems = form_problems(add, delete)
        except DocumentInvalid as invalid:
            form = add if change == "add" else delete
            fields = RoomForm.PROBLEM_FIELDS if change == "add" else {}
            problems = place_problems(form, invalid.problems, fields, str)
        except NotFound as exc:
            problems = [str(exc)]
    with sessions().begin() as db:
        rooms = conference_rooms.list_rooms(db, account.domain)
    page = render_template(
        "conferences/list.html",
        account=account,
        rooms=rooms,
        add=add,
        delete=DeleteRoomForm(formdata=None),
        problems=problems,
    )
    return page, status
