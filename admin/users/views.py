"""The tenant's users, for its admins: each one's line, calls and contacts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l

from admin.concepts import Audience, Concept, NavEntry
from admin.shared import account_page, admins_only, sessions
from provisioning import accounts
from provisioning.accounts import Account

blueprint = Blueprint("users", __name__)
CONCEPT = Concept(blueprint, (NavEntry(_l("Users"), "panel.users.page", Audience.ADMINS),))


@blueprint.get("/users")
@account_page
def page(account: Account) -> Any:
    admins_only(account)
    with sessions().begin() as db:
        listed = accounts.tenant_accounts(db, account.domain)
    return render_template("users/list.html", account=account, users=listed)
