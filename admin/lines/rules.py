"""A line's rule lists (seed 003 "Règles", the document's `rule_lists`): named lists of
ordered rules "when a call comes from … then …" with what happens when none applies.
Listed with the weekly planner's use of each (a list handles calls only while the
planner puts it in force); a list or a rule added, edited, deleted, a rule moved up or
down: one list or one rule per save, with the document's checks
(`admin.lines.changes`). A sub-page of the line, for its user and the tenant's admins
acting for them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

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
from admin.lines.rules_forms import (
    ACTION_FIELDS,
    ACTIONS,
    RuleChangeForm,
    RuleForm,
    RuleListForm,
)
from admin.shared import account_page, form_problems, may_see
from provisioning.accounts import Account
from provisioning.document import DocumentInvalid
from provisioning.line_settings import StaleVersion
from provisioning.validation import whole_number

blueprint = Blueprint("rules", __name__)
CONCEPT = Concept(blueprint)


def said_action(action: dict[str, Any]) -> str:
    """What a rule does, in a sentence's words."""
    kind = action.get("action", "ring")
    numbers = ", ".join(phone_number(n) for n in action.get("numbers", []))
    if kind == "forward":
        to = action.get("to") or ""
        return _(
            "forward to %(target)s",
            target=_("my voicemail") if to == "voicemail" else phone_number(to),
        )
    if kind == "ring_all":
        return _("ring my phones and %(numbers)s at the same time", numbers=numbers)
    if kind == "ring_sequence":
        return _(
            "ring my phones, then %(numbers)s (%(rings)d rings each)",
            numbers=numbers,
            rings=action.get("rings", 3),
        )
    return str(ACTIONS.get(kind, kind))


@dataclass(frozen=True)
class ShownRule:
    callers: str
    action: str
    on: bool


@dataclass(frozen=True)
class ShownList:
    name: str
    rules: list[ShownRule]
    default: str
    # The planner's periods that put it in force, and whether the special days do.
    periods: list[str]
    special_days: bool


def _shown(handling: dict[str, Any]) -> list[ShownList]:
    planner = handling.get("planner") or {}
    special = planner.get("special_days") or {}
    shown = []
    for rule_list in handling.get("rule_lists") or []:
        name = rule_list["name"]
        periods = [
            period["name"]
            for period in planner.get("periods") or []
            if str(period.get("rule_list", "")).casefold() == name.casefold()
        ]
        shown.append(
            ShownList(
                name,
                [
                    ShownRule(
                        said_callers(rule.get("callers") or {}),
                        said_action(rule),
                        callers_on(rule.get("callers") or {}),
                    )
                    for rule in rule_list.get("rules") or []
                ],
                said_action(rule_list.get("default") or {}),
                periods,
                str(special.get("rule_list", "")).casefold() == name.casefold(),
            )
        )
    return shown


def _saved(account: Account, extension: str, version: int, edit: Any) -> list[str] | None:
    """None when saved; else the problems said (stale, gone, refused by the document)."""
    try:
        save_change(account, extension, version, edit)
    except DocumentInvalid as invalid:
        return [said_where(p) for p in invalid.problems]
    except StaleVersion:
        return [stale_message()]
    except Gone:
        return [gone_message()]
    return None


@blueprint.route("/lines/<extension>/rules", methods=["GET", "POST"])
@account_page
def page(account: Account, extension: str) -> Any:
    may_see(account, extension)
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        line_state(account, extension)  # a line of the session's tenant, else 404
        status = 400
        form = RuleChangeForm()
        if not form.validate_on_submit():
            problems = form_problems(form)
        else:
            edit = _change_of(form)  # the form's numbers checked first (400 if not)
            found = _saved(account, extension, int(form.version.data or 0), edit)
            if found is None:
                flash(_("Saved: calls follow the new settings from now on."))
                return redirect(url_for("panel.rules.page", extension=extension))
            problems = found
    owner, handling, _contacts, version = line_state(account, extension)
    return render_template(
        "lines/rules.html",
        account=account,
        owner=owner,
        lists=_shown(handling),
        change=RuleChangeForm(formdata=None),
        version=version,
        problems=problems,
    ), status


def _change_of(form: RuleChangeForm) -> Any:
    """The overview button's change of the call handling."""
    index = whole_number(form.rule_list.data or "", -1)
    if index < 0 or whole_number(form.version.data or "", -1) < 0:
        abort(400)
    given = whole_number(form.rule.data or "", -1)
    rule = None if given < 0 else given
    change = form.change.data
    if change not in ("up", "down", "delete_rule", "delete_list"):
        abort(400)
    if change != "delete_list" and rule is None:
        abort(400)

    def edit(handling: dict[str, Any]) -> None:
        lists = handling["rule_lists"]
        if change == "delete_list":
            del lists[index]
            if not lists:
                del handling["rule_lists"]
            return
        assert rule is not None
        rules = lists[index]["rules"]
        if change == "delete_rule":
            del rules[rule]
            return
        other = rule - 1 if change == "up" else rule + 1
        if not (0 <= rule < len(rules) and 0 <= other < len(rules)):
            raise IndexError(other)
        rules[rule], rules[other] = rules[other], rules[rule]

    return edit


def _list_at(handling: dict[str, Any], index: int) -> dict[str, Any]:
    lists = handling.get("rule_lists") or []
    if not 0 <= index < len(lists):
        abort(404)
    found: dict[str, Any] = lists[index]
    return found


@blueprint.route("/lines/<extension>/rules/new", methods=["GET", "POST"], defaults={"index": -1})
@blueprint.route("/lines/<extension>/rules/<int:index>", methods=["GET", "POST"])
@account_page
def rule_list(account: Account, extension: str, index: int) -> Any:
    """A rule list's name and what happens when no rule applies (index -1: a new list)."""
    may_see(account, extension)
    owner, handling, _contacts, version = line_state(account, extension)
    stored = {} if index == -1 else _list_at(handling, index)
    form = RuleListForm()
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            problems = _save_list(account, extension, index, form)
            if not problems and not form.errors:
                flash(_("Saved: calls follow the new settings from now on."))
                return redirect(url_for("panel.rules.page", extension=extension))
        elif form.errors.keys() == {"csrf_token"}:
            problems = form_problems(form)
    else:
        form.name.data = stored.get("name", "")
        form.show_action(stored.get("default") or {"action": "ring"})
        form.version.data = str(version)
    return render_template(
        "lines/rule_list.html",
        account=account,
        owner=owner,
        form=form,
        new=index == -1,
        name=stored.get("name", ""),
        action=request.path,
        problems=problems,
    ), status


def _renamed_in_planner(handling: dict[str, Any], old: str, new: str) -> None:
    """The planner's periods and special days that use the list `old` use it as `new`."""
    planner = handling.get("planner") or {}
    uses = [
        *(planner.get("periods") or []),
        *([planner["special_days"]] if planner.get("special_days") else []),
    ]
    for use in uses:
        if str(use.get("rule_list", "")).casefold() == old.casefold():
            use["rule_list"] = new


def _save_list(account: Account, extension: str, index: int, form: RuleListForm) -> list[str]:
    name = (form.name.data or "").strip()
    default = form.chosen_action()
    placed = index

    def edit(handling: dict[str, Any]) -> None:
        nonlocal placed
        lists = handling.setdefault("rule_lists", [])
        if index == -1:
            placed = len(lists)
            lists.append({"name": name, "rules": [], "default": default})
            return
        old = lists[index]["name"]
        lists[index] = {**lists[index], "name": name, "default": default}
        if old != name:
            _renamed_in_planner(handling, old, name)

    fields = {"name": "name", "default": "action"}
    fields.update({f"default.{part}": field for part, field in ACTION_FIELDS.items()})
    try:
        save_change(account, extension, form.shown_version(), edit)
    except DocumentInvalid as invalid:
        return place_entry_problems(form, invalid.problems, f"rule_lists[{placed}]", fields)
    except StaleVersion as stale:
        form.version.data = str(stale.current)
        return [stale_message()]
    except Gone:
        return [gone_message()]
    return []


@blueprint.route(
    "/lines/<extension>/rules/<int:index>/new", methods=["GET", "POST"], defaults={"rule": -1}
)
@blueprint.route("/lines/<extension>/rules/<int:index>/<int:rule>", methods=["GET", "POST"])
@account_page
def rule(account: Account, extension: str, index: int, rule: int) -> Any:
    """A rule of a list: who calls, what happens (rule -1: a new rule, last of the list)."""
    may_see(account, extension)
    owner, handling, contacts, version = line_state(account, extension)
    rule_list = _list_at(handling, index)
    rules = rule_list.get("rules") or []
    if rule != -1 and not 0 <= rule < len(rules):
        abort(404)
    stored = {} if rule == -1 else rules[rule]
    form = RuleForm()
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            problems = _save_rule(account, extension, index, rule, form)
            if not problems and not form.errors:
                flash(_("Saved: calls follow the new settings from now on."))
                return redirect(url_for("panel.rules.page", extension=extension))
        elif form.errors.keys() == {"csrf_token"}:
            problems = form_problems(form)
    else:
        form.show_callers(stored.get("callers") or {})
        form.show_action(stored or {"action": "ring"})
        form.version.data = str(version)
    form.offer_contacts(contacts)
    return render_template(
        "lines/rule.html",
        account=account,
        owner=owner,
        form=form,
        new=rule == -1,
        list_name=rule_list["name"],
        action=request.path,
        problems=problems,
    ), status


def _save_rule(
    account: Account, extension: str, index: int, rule: int, form: RuleForm
) -> list[str]:
    wanted = {"callers": form.callers(), **form.chosen_action()}
    placed = rule

    def edit(handling: dict[str, Any]) -> None:
        nonlocal placed
        rules = handling["rule_lists"][index].setdefault("rules", [])
        if rule == -1:
            placed = len(rules)
            rules.append(wanted)
        else:
            rules[rule] = wanted

    fields = {f"callers.{part}".rstrip("."): field for part, field in CALLERS_FIELDS.items()}
    fields.update(ACTION_FIELDS)
    fields[""] = "action"
    try:
        save_change(account, extension, form.shown_version(), edit)
    except DocumentInvalid as invalid:
        where = f"rule_lists[{index}].rules[{placed}]"
        return place_entry_problems(form, invalid.problems, where, fields)
    except StaleVersion as stale:
        form.version.data = str(stale.current)
        return [stale_message()]
    except Gone:
        return [gone_message()]
    return []
