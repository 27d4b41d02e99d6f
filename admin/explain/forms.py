"""The "Test a call" form: sent by GET, in the page's address (no CSRF token: it changes
nothing, nothing is dialled)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional

# The words of a trace the panel translates (the compiler's own names, in
# `xmlcurl.trace` and the precedence table of `xmlcurl.line`); the rest is shown as
# the compiler says it.
STAGES = {
    "call": _l("call"),
    "precedence": _l("rule"),
    "schedule": _l("schedule"),
    "number": _l("number"),
    "forward": _l("forward"),
    "handling": _l("handling"),
    "ring": _l("ring"),
    "planner": _l("planner"),
    "member": _l("member"),
    "group": _l("group"),
    "agent": _l("agent"),
    "timing": _l("timing"),
    "failover": _l("after the ring"),
}
RULES = {
    "1 selective reject": _l("1 selective reject"),
    "2 anonymous rejection": _l("2 anonymous rejection"),
    "3 forward always": _l("3 forward always"),
    "4 do not disturb": _l("4 do not disturb"),
    "5 selective forward": _l("5 selective forward"),
    "6 planner": _l("6 planner"),
    "7 busy now": _l("7 busy now"),
    "8 no-answer to voicemail": _l("8 no-answer to voicemail"),
    "9 ring": _l("9 ring"),
}
OUTCOMES = {
    "answered": _l("answered"),
    "voicemail": _l("in voicemail"),
    "announcement": _l("announcement"),
    "rejected": _l("rejected"),
    "busy": _l("busy"),
    "ended": _l("ended"),
    "queue": _l("waits in a queue"),
    "conference": _l("conference"),
    "park": _l("parked"),
    "setting": _l("setting changed"),
    "other": _l("other"),
}


class ExplainForm(FlaskForm):
    class Meta:
        csrf = False

    caller = StringField(_l("From (an extension or a number)"), [DataRequired(), Length(max=40)])
    to = StringField(_l("To (what is dialled)"), [DataRequired(), Length(max=40)])
    at = StringField(_l("At (2026-12-24 12:45; empty: now)"), [Optional(), Length(max=40)])
    assume = StringField(
        _l("Assume (1001=busy, 1002=unregistered, 1003=free, 1004=answers)"),
        [Optional(), Length(max=400)],
    )
