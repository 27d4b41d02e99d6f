"""The tenant's announcements, hold music and ringback tones (tenant admins only)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin.concepts import Audience, Concept, NavEntry
from admin.media.forms import KINDS, DeleteMediaForm, MediaForm
from admin.messages import word
from admin.shared import account_page, admins_only, form_problems, sessions, settings
from provisioning import media, service
from provisioning.accounts import Account

blueprint = Blueprint("media", __name__)
CONCEPT = Concept(blueprint, (NavEntry(_l("Media"), "panel.media.page", Audience.ADMINS),))

# Room for the multipart envelope around the largest file accepted.
_MULTIPART_SLACK = 64 * 1024


@blueprint.route("/media", methods=["GET", "POST"])
@account_page
def page(account: Account) -> Any:
    admins_only(account)
    request.max_content_length = media.MAX_BYTES + _MULTIPART_SLACK
    upload, delete = MediaForm(), DeleteMediaForm()
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        store = media.MediaStore(settings().effective_media_dir)
        change = request.form.get("change")
        try:
            if change == "upload" and upload.validate_on_submit():
                data = upload.file.data.read(media.MAX_BYTES + 1)
                with sessions().begin() as db:
                    service.upload_media(
                        db, store, account.domain, upload.kind.data, upload.name.data, data
                    )
                flash(_("%(name)s: converted and stored.", name=upload.name.data))
                return redirect(url_for("panel.media.page"))
            if change == "delete" and delete.validate_on_submit():
                with sessions().begin() as db:
                    service.delete_media(
                        db, store, account.domain, delete.kind.data, delete.name.data
                    )
                flash(_("%(name)s: deleted.", name=delete.name.data))
                return redirect(url_for("panel.media.page"))
            problems = form_problems(upload, delete)
        except (media.MediaError, service.NotFound) as exc:
            problems = [word(exc)]
    with sessions().begin() as db:
        items = service.list_media(db, account.domain)
    page = render_template(
        "media/list.html",
        account=account,
        items=items,
        kinds=KINDS,
        upload=upload,
        delete=DeleteMediaForm(formdata=None),
        problems=problems,
    )
    return page, status
