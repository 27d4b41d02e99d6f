"""The panel put together: its concepts, in the order of the nav, nested in one blueprint
under `/panel`, and the application settings it needs."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, g, redirect, request

from admin.barring import views as barring
from admin.calls import views as calls
from admin.concepts import Concepts
from admin.conferences import views as conferences
from admin.contacts import views as contacts
from admin.directory import views as directory
from admin.errors import answer_domain_errors, init_error_pages
from admin.explain import views as explain
from admin.groups import views as groups
from admin.languages import init_languages, language_context
from admin.lines import planner, ringing
from admin.lines import rules as line_rules
from admin.lines import selective as line_selective
from admin.lines import views as lines
from admin.media import views as media
from admin.park import views as park
from admin.reminders import views as reminders
from admin.schedules import views as schedules
from admin.security import views as security
from admin.session import views as session
from admin.shared import account_page, current_account, panel_blueprint
from admin.users import views as users
from centrex.config import Settings
from provisioning import accounts
from provisioning.accounts import Account

log = logging.getLogger(__name__)

CONCEPTS = Concepts(
    lines.CONCEPT,
    ringing.CONCEPT,
    planner.CONCEPT,
    line_selective.CONCEPT,
    line_rules.CONCEPT,
    barring.CONCEPT,
    calls.CONCEPT,
    contacts.CONCEPT,
    groups.CONCEPT,
    reminders.CONCEPT,
    directory.CONCEPT,
    users.CONCEPT,
    media.CONCEPT,
    park.CONCEPT,
    schedules.CONCEPT,
    conferences.CONCEPT,
    explain.CONCEPT,
    session.CONCEPT,
    security.CONCEPT,
)


def configure_panel(app: Flask, settings: Settings) -> None:
    app.secret_key = settings.secret_key or None
    app.config.update(
        SESSION_COOKIE_NAME="centrex_panel",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=accounts.SESSION_LIFETIME,
        # CSRF tokens are checked by each form, not on every POST of the application:
        # xml_curl, xml_cdr and the API authenticate otherwise.
        WTF_CSRF_CHECK_DEFAULT=False,
    )
    init_languages(app)
    init_error_pages(app)
    if settings.smtp_host and not settings.panel_url:
        log.warning(
            "CENTREX_PANEL_URL is not set: forgotten passwords are not reset by mail "
            "(a link is never built from the address a request names)"
        )


def _panel(concepts: Concepts) -> Blueprint:
    panel = panel_blueprint()
    answer_domain_errors(panel)
    for concept in concepts.all:
        panel.register_blueprint(concept.blueprint)

    @panel.get("/")
    @account_page
    def home(account: Account) -> Any:
        """The first page of the nav: the user's own line."""
        return redirect(concepts.nav(account)[0].url)

    @panel.context_processor
    def _header() -> dict[str, Any]:
        account = current_account()
        nav = [] if account is None else concepts.nav(account, request.endpoint, request.view_args)
        tenant = g.get("panel_tenant")
        company = tenant.name if tenant is not None else ""
        return {"nav": nav, "company": company, **session.header_forms(), **language_context()}

    return panel


blueprint = _panel(CONCEPTS)
