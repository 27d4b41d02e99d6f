"""A line's weekly planner (seed 003, "Horaire hebdomadaire" and "Jours spéciaux"): up to
three named periods of the week, each applying one of the line's rule lists, and the
special days that apply another, for the line's user and the tenant's admins.

The page draws the week as saved (`admin.week_grid`) and edits it day by day
(`admin.lines.planner_fields`); a save replaces the planner alone, through the line's
one-user use case (`provisioning.line_settings`), from the version the page showed, with
the tenant document's checks and messages beside the field at fault. Routing reads the
planner at each call (`xmlcurl.line`, row 6 of the call handling precedence).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField

from admin.concepts import Concept
from admin.lines import planner_fields as pf
from admin.messages import word
from admin.shared import account_page, find_owner, may_see, sessions
from admin.week_grid import Named, WeekGrid, week_grid
from provisioning import calendar as cal
from provisioning import line_settings, service
from provisioning.accounts import Account
from provisioning.document import DocumentInvalid
from provisioning.languages import tenant_language
from provisioning.lookup import NotFound
from provisioning.models import Tenant

log = logging.getLogger(__name__)

blueprint = Blueprint("planner", __name__)
# Reached from the line's page, not the nav.
CONCEPT = Concept(blueprint)

# National holidays offered: this year and the next two.
_YEARS_AHEAD = 3


class PlannerForm(FlaskForm):
    # The version of the settings the page showed: a save from an older one is refused.
    version = HiddenField()


def _national(country: str, language: str) -> Callable[[int], list[date]]:
    """A year's national holidays of the tenant's country (none if it has none known)."""

    def dates(year: int) -> list[date]:
        try:
            return [day for day, _name in service.national_holidays(country, year, language)]
        except NotFound:
            return []

    return dates


def _holiday_names(country: str, years: set[int]) -> dict[date, str]:
    """National holidays of these years by day, named in the page's language."""
    language = str(get_locale() or tenant_language(country))
    names: dict[date, str] = {}
    for year in sorted(years)[:_YEARS_AHEAD]:
        try:
            names.update(service.national_holidays(country, year, language))
        except NotFound:
            break
    return names


def _grid(call_handling: dict[str, Any], now: datetime) -> WeekGrid:
    periods = (call_handling.get("planner") or {}).get("periods") or []
    return week_grid(
        [
            Named(
                p.get("name", ""),
                _("applies “%(rule_list)s”", rule_list=p.get("rule_list", "")),
                {day: p.get(day) or [] for day in cal.WEEKDAYS},
            )
            for p in periods
        ],
        now,
    )


def _save(account: Account, extension: str, version: str, built: pf.Built) -> tuple[list[str], str]:
    """The planner saved alone, made from `version`; the problems no field holds, and the
    version the page shows next (the current one when it was changed meanwhile)."""
    try:
        shown = int(version or 0)
    except ValueError:
        shown = 0
    try:
        with sessions().begin() as db:
            stored = line_settings.call_handling_of(db, account.domain, extension)
            handling = dict(stored.call_handling)
            if built.planner:
                handling["planner"] = built.planner
            else:
                handling.pop("planner", None)
            line_settings.set_call_handling(db, account.domain, extension, handling, version=shown)
    except DocumentInvalid as invalid:
        general = []
        for problem in invalid.problems:
            name = built.field_of(problem.path)
            if name is None:
                general.append(f"{problem.path}: {word(problem)}")
            else:
                built.fail(name, word(problem))
        return general, version
    except line_settings.StaleVersion as stale:
        message = _(
            "These settings were changed meanwhile (by an administrator, a script or "
            "a code dialled from the phone). Check them below: saving again replaces "
            "them with what is shown."
        )
        return [message], str(stale.current)
    log.info("panel: %s@%s changed the planner of %s", account.extension, account.domain, extension)
    return [], version


def _copy_monday(fields: pf.PlannerFields) -> None:
    """Monday's slots given to Tuesday–Friday (shown, not saved)."""
    for day in cal.WEEKDAYS[1:5]:
        fields.days[day] = [pf.Slot(s.period, s.start, s.end) for s in fields.days["mon"]]


@blueprint.route("/lines/<extension>/planner", methods=["GET", "POST"])
@account_page
def page(account: Account, extension: str) -> Any:
    may_see(account, extension)
    with sessions().begin() as db:
        owner = find_owner(db, account, extension)
        state = line_settings.call_handling_of(db, account.domain, extension)
        tenant = db.execute(
            select(Tenant.country, Tenant.timezone, Tenant.holidays).where(
                Tenant.domain == account.domain
            )
        ).one()
    form = PlannerForm()
    fields = pf.fields_of(state.call_handling)
    version = str(state.version)
    errors: dict[str, list[str]] = {}
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            problems = [_("The form was not sent whole; please try again.")]
            status = 400
        else:
            fields = pf.read_form(request.form, request.form.getlist)
            version = form.version.data or ""
            if request.form.get("copy") == "mon":
                _copy_monday(fields)
                flash(_("Monday copied to Tuesday–Friday: check, then save."))
            else:
                national = _national(tenant.country, tenant_language(tenant.country))
                built = pf.planner_for(fields, national)
                if not built.errors:
                    problems, version = _save(account, extension, version, built)
                errors = built.errors
                if not problems and not errors:
                    flash(_("Saved: calls follow the new planner from now on."))
                    return redirect(url_for("panel.planner.page", extension=extension))
                status = 400
    now = cal.local(datetime.now(UTC), tenant.timezone)
    special_days = [d for d in (pf.parse_date(t) for t in fields.special.dates) if d is not None]
    holidays = cal.holidays_from_document(tenant.holidays or [])
    names = _holiday_names(tenant.country, {d.year for d in special_days} | {now.year})
    rule_lists = [r.get("name", "") for r in state.call_handling.get("rule_lists") or []]
    page = render_template(
        "lines/planner.html",
        account=account,
        owner=owner,
        form=form,
        version=version,
        fields=fields,
        errors=errors,
        problems=problems,
        rule_lists=rule_lists,
        starts=pf.STARTS,
        ends=pf.ENDS,
        slot_name=pf.slot_name,
        grid=_grid(state.call_handling, now),
        special_days=[
            (d.isoformat(), format_date(d, "full"), names.get(d, "")) for d in special_days
        ],
        years=[now.year + n for n in range(_YEARS_AHEAD)],
        holidays=[
            (h.name, format_date(h.first, "medium"), format_date(h.last, "medium"), h.first)
            for h in holidays
            if h.last >= now.date()
        ],
    )
    return page, status
