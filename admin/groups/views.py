"""My groups and queues (seed 003 §2.9): the hunt groups and queues a line belongs to,
who of them is logged in now, and the line's own log-in switch for each, written at
once (routing and mod_callcenter follow, as with the REST API and the phone codes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.concepts import Concept, NavEntry
from admin.groups.forms import MembershipForm
from admin.shared import account_page, find_owner, form_problems, log, may_see, sessions
from provisioning import groups, queue_agents
from provisioning.accounts import Account
from provisioning.models import Tenant, User
from provisioning.service import NotFound

blueprint = Blueprint("groups", __name__)
CONCEPT = Concept(blueprint, (NavEntry(_l("My groups"), "panel.groups.page", own_line=True),))


@dataclass(frozen=True)
class Membership:
    """A group or queue as one of its members sees it."""

    kind: str  # "group" or "queue"
    name: str
    number: str
    logged_in: bool
    # The names of the members (agents) logged in now, the line's own included.
    present: list[str]
    members: int


def _names(db: Session, domain: str, extensions: set[str]) -> dict[str, str]:
    rows = db.execute(
        select(User.extension, User.display_name)
        .join(Tenant, Tenant.id == User.tenant_id)
        .where(Tenant.domain == domain, User.extension.in_(extensions))
    )
    return {row.extension: row.display_name for row in rows}


def memberships(db: Session, domain: str, extension: str) -> list[Membership]:
    """The line's groups then queues, in the tenant document's order."""
    found = []
    tenant_groups = [
        g
        for g in groups.list_groups(db, domain)
        if any(m.extension == extension for m in g.members)
    ]
    queues = [
        q
        for q in queue_agents.list_queues(db, domain)
        if any(a.extension == extension for a in q.agents)
    ]
    names = _names(db, domain, {m.extension for g in tenant_groups for m in g.members})
    for group in tenant_groups:
        found.append(
            Membership(
                "group",
                group.name,
                group.short_number or group.extension,
                next(m.logged_in for m in group.members if m.extension == extension),
                [names.get(m.extension, m.extension) for m in group.members if m.logged_in],
                len(group.members),
            )
        )
    for queue in queues:
        found.append(
            Membership(
                "queue",
                queue.name,
                queue.short_number or queue.extension,
                next(a.logged_in for a in queue.agents if a.extension == extension),
                [a.name for a in queue.agents if a.logged_in],
                len(queue.agents),
            )
        )
    return found


@blueprint.route("/lines/<extension>/groups", methods=["GET", "POST"])
@account_page
def page(account: Account, extension: str) -> Any:
    may_see(account, extension)
    problems: list[str] = []
    status = 200
    form = MembershipForm()
    if form.is_submitted():
        status = 400
        if form.validate_on_submit():
            on, name = form.want.data == "in", form.name.data or ""
            try:
                with sessions().begin() as db:
                    if form.kind.data == "group":
                        groups.set_logged_in(db, account.domain, name, extension, on)
                    else:
                        queue_agents.set_logged_in(db, account.domain, name, extension, on)
            except NotFound:
                abort(404)
            log.info(
                "panel: %s@%s logged %s %s of %s %s",
                account.extension,
                account.domain,
                extension,
                "in" if on else "out",
                form.kind.data,
                name,
            )
            flash(
                _("Logged in to %(name)s.", name=name)
                if on
                else _("Logged out of %(name)s.", name=name)
            )
            return redirect(url_for("panel.groups.page", extension=extension))
        problems = form_problems(form)
    with sessions().begin() as db:
        owner = find_owner(db, account, extension)
        found = memberships(db, account.domain, extension)
    return render_template(
        "groups/list.html",
        account=account,
        owner=owner,
        memberships=found,
        membership=MembershipForm(formdata=None),
        problems=problems,
    ), status
