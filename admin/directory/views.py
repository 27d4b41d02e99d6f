"""The company directory (read-only for users): colleagues, the tenant's external
contacts with their `##` codes, and its speed dials, searchable, each with a call
button on one's own line (click-to-call, admin.calls)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from admin.calls.forms import CallForm
from admin.calls.views import can_call
from admin.concepts import Concept, NavEntry
from admin.shared import account_page, sessions
from provisioning.accounts import Account
from provisioning.models import Tenant, User

blueprint = Blueprint("directory", __name__)
CONCEPT = Concept(blueprint, (NavEntry(_l("Directory"), "panel.directory.page"),))

# Colleagues listed at most per page: a large tenant is searched, not scrolled.
MAX_COLLEAGUES = 100


@dataclass(frozen=True)
class Entry:
    name: str
    # What the phone dials for it: an extension, a speed dial code, ##code.
    dial: str
    number: str  # the number it reaches, E.164 ("" for a colleague without one)


def _matches(query: str, *texts: str) -> bool:
    return not query or any(query in text.casefold() for text in texts)


@blueprint.get("/directory")
@account_page
def page(account: Account) -> Any:
    query = (request.args.get("q") or "").strip()[:64]
    wanted = query.casefold()
    digits = "".join(c for c in query if c.isdigit())
    with sessions().begin() as db:
        tenant = db.scalars(select(Tenant).where(Tenant.domain == account.domain)).one()
        found = select(User.extension, User.display_name, User.public_number).where(
            User.tenant_id == tenant.id
        )
        if query:
            like = f"%{query}%"
            terms = [User.display_name.ilike(like), User.extension.like(like)]
            if digits:
                terms.append(User.public_number.like(f"%{digits}%"))
            found = found.where(or_(*terms))
        rows = db.execute(found.order_by(User.display_name).limit(MAX_COLLEAGUES + 1)).all()
        colleagues = [Entry(r.display_name, r.extension, r.public_number or "") for r in rows]
        contacts = [
            Entry(e["name"], f"##{e['code']}" if e.get("code") else "", e["number"])
            for e in tenant.directory
            if _matches(wanted, e["name"], e["number"], e.get("code") or "")
        ]
        speed_dials = [
            Entry(s["name"], s["code"], s["number"])
            for s in tenant.speed_dials
            if _matches(wanted, s["name"], s["number"], s["code"])
        ]
    return render_template(
        "directory/list.html",
        account=account,
        query=query,
        colleagues=colleagues[:MAX_COLLEAGUES],
        more_colleagues=len(colleagues) > MAX_COLLEAGUES,
        contacts=contacts,
        speed_dials=speed_dials,
        calling=can_call(account, account.extension),
        call_form=CallForm(formdata=None),
    )
