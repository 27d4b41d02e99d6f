"""The words of a trace on the "Test a call" page: the compiler's stages, rules and
reasons (`xmlcurl.trace`), what each fetch does and how the call ends
(`provisioning.explain`), in the user's language.

A rule or a reason is a `Phrase`: a code and the values it names. `WORDS` words each
code; its placeholders are the phrase's values (a template may leave one out, never
add one), a value that is a phrase itself is worded in turn, and a code that needs a
plural is a function of the values using `ngettext`. A code not here is shown as the
compiler says it, in English (`tests/unit/test_trace_words.py` fails first).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

from flask_babel import LazyString, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from xmlcurl.trace import Phrase

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


def _rings(values: Mapping[str, Any]) -> str:
    return ngettext("%(num)d ring", "%(num)d rings", values["rings"])


def _cycles(values: Mapping[str, Any]) -> str:
    return ngettext("%(num)d cycle", "%(num)d cycles", values["cycles"])


# Phrases that are their value alone (a name, numbers, an extension, FreeSWITCH's own
# name for how a ring ended): the same in every language, shown as they are.
VERBATIM = frozenset({"schedule", "numbers", "disposition", "extension", "group"})

Wording: TypeAlias = LazyString | Callable[[Mapping[str, Any]], str]

WORDS: dict[str, Wording] = {
    # the kind of call (xmlcurl.dialplan)
    "target_refused": _l("refused"),
    "target_barred": _l("barred"),
    "target_routed_number": _l("a number routed by schedule"),
    "target_group": _l("a group"),
    "target_line": _l("a line"),
    "target_queue": _l("a queue"),
    "target_park_slot": _l("a parking slot"),
    "target_conference": _l("a conference room"),
    "target_adhoc_conference": _l("a line's conference"),
    "target_after_outbound": _l("after an outside call"),
    "target_own_voicemail": _l("the caller's voicemail"),
    "target_pickup": _l("a pickup"),
    "target_dtmf_transfer": _l("a transfer from the keypad"),
    "target_outside": _l("an outside number"),
    "target_setting_code": _l("a setting code"),
    "refused": _l("refused: %(why)s (%(cause)s)"),
    "not_dialable": _l("not a dialable number"),
    "not_our_number": _l("not one of our numbers"),
    "unknown_context": _l("unknown context"),
    "code_not_transfer_target": _l("a feature code is no transfer target"),
    "routed_nowhere": _l("number routed nowhere"),
    "no_voicemail_box": _l("no voicemail box"),
    "unknown_extension": _l("unknown extension"),
    "code_with_extra": _l("a code followed by what it does not take"),
    "not_a_phone_number": _l("not a valid phone number"),
    "calls_barred": _l("%(category)s calls barred"),
    "category_emergency": _l("emergency"),
    "category_local": _l("local"),
    "category_national": _l("national"),
    "category_international": _l("international"),
    "category_premium": _l("premium-rate"),
    "category_operator": _l("operator"),
    "category_directory": _l("directory enquiries"),
    "category_access_codes": _l("star code"),
    "category_setting_codes": _l("setting code"),
    "line": _l("line %(extension)s"),
    "line_back_from_ring": _l("line %(extension)s, back from its ring"),
    "queue": _l("queue %(name)s"),
    "out_to": _l("out to %(number)s"),
    # a line's call handling (xmlcurl.line)
    "row_selective_reject": _l("1 selective reject"),
    "row_anonymous_rejection": _l("2 anonymous rejection"),
    "row_forward_always": _l("3 forward always"),
    "row_do_not_disturb": _l("4 do not disturb"),
    "row_selective_forward": _l("5 selective forward"),
    "row_planner": _l("6 planner"),
    "row_busy_now": _l("7 busy now"),
    "row_no_answer_voicemail": _l("8 no-answer to voicemail"),
    "row_ring": _l("9 ring"),
    "in_reject_list": _l("the caller is in the reject list"),
    "no_reject_list": _l("no reject list"),
    "not_in_reject_list": _l("caller not in the list"),
    "withholds_number": _l("the caller withholds their number"),
    "shows_number": _l("the caller shows their number"),
    "off": _l("off"),
    "to_target": _l("to %(target)s"),
    "voicemail_target": _l("the voicemail"),
    "cannot_be_followed": _l("cannot be followed"),
    "loop_forwarded_here": _l("loop: the call was forwarded here"),
    "not_set": _l("not set"),
    "direct_calls_only": _l("direct calls only, and this call came through a group"),
    "forward_schedule_not_in_force": _l("its schedule %(schedule)s is not in force"),
    "dnd_on": _l("on, and the caller is not a priority caller"),
    "priority_caller": _l("the caller is a priority caller"),
    "in_forward_list": _l("the caller is in a list forwarded to %(target)s"),
    "no_list_set": _l("no list set"),
    "in_no_list": _l("the caller is in no list"),
    "rule_list_reject": _l("rule list: reject"),
    "rule_list_voicemail": _l("rule list: voicemail"),
    "rule_list_forward": _l("rule list: forward to %(target)s"),
    "rule_list_goes_on": _l("rule list: %(action)s, the call goes on"),
    "rule_action_ring": _l("ring my phones"),
    "rule_action_screen": _l("ask the caller's name"),
    "rule_action_ring_all": _l("ring other numbers too"),
    "rule_action_ring_sequence": _l("ring numbers in turn"),
    "rule_action_reject": _l("reject"),
    "rule_action_voicemail": _l("send to voicemail"),
    "rule_action_forward": _l("forward"),
    "no_planner_period": _l("no planner period or special day in force"),
    "at_limit": _l("calls in progress at the line's limit"),
    "below_limit": _l("below the line's limit of calls in progress"),
    "voicemail_unregistered": _l("to voicemail after 0 s, and no phone registered"),
    "voicemail_at_once": _l("forward on no answer to voicemail after 0 s"),
    "registration_unknown": _l("registration unknown"),
    "time": _l("%(day)s %(time)s %(zone)s"),
    "time_on_holiday": _l("%(day)s %(time)s %(zone)s, holiday %(holiday)s"),
    "weekday_mon": _l("Mon"),
    "weekday_tue": _l("Tue"),
    "weekday_wed": _l("Wed"),
    "weekday_thu": _l("Thu"),
    "weekday_fri": _l("Fri"),
    "weekday_sat": _l("Sat"),
    "weekday_sun": _l("Sun"),
    "forward_kind_always": _l("always"),
    "forward_kind_selective": _l("for selected callers"),
    "forward_kind_dnd": _l("during do not disturb"),
    "forward_kind_busy": _l("if busy"),
    "forward_kind_unreachable": _l("if unreachable"),
    "forward_kind_no_answer": _l("on no answer"),
    "kind_forward": _l("forward %(kind)s"),
    "forward_to": _l("forward %(kind)s to %(target)s"),
    "forward_to_voicemail": _l("forward %(kind)s to voicemail"),
    "came_through_group": _l("came through a group"),
    "no_voicemail": _l("the line has no voicemail"),
    "loop_through": _l("loop: already through %(chain)s"),
    "loop_there_already": _l("loop: the call was there already"),
    "not_callable": _l("no trunk, or a number the line may not call"),
    "simultaneous_ring": _l("simultaneous ring"),
    "simultaneous_held": _l("caller, schedule or on a call"),
    "sequential_ring": _l("sequential ring"),
    "sequential_held": _l("caller or schedule"),
    "ring": _l("ring"),
    "ring_in_turn": _l("%(legs)s one after the other, %(seconds)d s before no answer"),
    "ring_together": _l("%(legs)s together, %(seconds)d s before no answer"),
    "special_day": _l("special day"),
    "period": _l("period %(period)s"),
    "rule_list": _l("rule list %(name)s"),
    "after_stage": _l("after %(stage)s"),
    "stage_ring": _l("the ring"),
    "stage_forward": _l("the forward"),
    # a number's routes by schedule (xmlcurl.public)
    "while_schedule": _l("while %(schedule)s"),
    "otherwise": _l("otherwise"),
    "no_schedule_in_force": _l("no schedule of the number in force"),
    # groups (xmlcurl.group)
    "rung": _l("rung"),
    "logged_out": _l("logged out"),
    "no_phone_registered": _l("no phone registered"),
    "member_busy": lambda v: ngettext(
        "busy (%(num)d call in progress)", "busy (%(num)d calls in progress)", v["calls"]
    ),
    "member_dnd": _l("do not disturb, with no forward for group calls"),
    "no_member_available": _l("no member available: overflow"),
    "nobody_answered": _l("nobody answered (%(disposition)s)"),
    "cyclic_ring": _l("cyclic ring"),
    "hierarchical_ring": _l("hierarchical ring"),
    "simultaneous_group_ring": _l("simultaneous ring"),
    "least_active_ring": _l("least active first"),
    "random_ring": _l("random ring"),
    "group_together": lambda v: _(
        "together, %(rings)s (%(seconds)d s) × %(cycles)s",
        rings=_rings(v),
        seconds=v["seconds"],
        cycles=_cycles(v),
    ),
    "group_together_handed": lambda v: _(
        "together, %(rings)s (%(seconds)d s) × %(cycles)s, each through their own call handling",
        rings=_rings(v),
        seconds=v["seconds"],
        cycles=_cycles(v),
    ),
    "group_in_turn": lambda v: _(
        "each in turn, %(rings)s (%(seconds)d s) × %(cycles)s",
        rings=_rings(v),
        seconds=v["seconds"],
        cycles=_cycles(v),
    ),
    "group_in_turn_handed": lambda v: _(
        "each in turn, %(rings)s (%(seconds)d s) × %(cycles)s, each through their own call "
        "handling",
        rings=_rings(v),
        seconds=v["seconds"],
        cycles=_cycles(v),
    ),
    # queues (xmlcurl.queue)
    "agent_paused": _l("on a break"),
    "agent_logged_in": _l("logged in"),
    "agent_logged_out": _l("logged out"),
    "wait_at_most": _l("wait at most %(seconds)d s"),
    "wait_no_limit": _l("no waiting limit of its own"),
    # what a fetch does, how the call ends (provisioning.explain)
    "does_change": _l("changes a setting of %(extension)s (not done here)"),
    "does_transfer": _l("transfer to %(destination)s in %(context)s"),
    "does_answer": _l("answer"),
    "does_early_media": _l("early media (the caller is not charged)"),
    "does_tone": _l("tone %(tone)s × %(loops)d"),
    "does_prompt": _l("prompt %(sound)s"),
    "does_play": _l("play %(file)s"),
    "does_record_name": _l("ask the caller's name (screening)"),
    "does_voicemail": _l("voicemail box %(extension)s"),
    "does_queue": _l("wait in queue %(queue)s: %(what)s"),
    "does_hang_up": _l("hang up (%(cause)s)"),
    "ring_answered": _l("ring %(legs)s: %(extension)s answers"),
    "ring_in_turn_unanswered": _l(
        "ring %(legs)s in turn: nobody answers (%(disposition)s, %(seconds)d s)"
    ),
    "ring_together_unanswered": _l(
        "ring %(legs)s together: nobody answers (%(disposition)s, %(seconds)d s)"
    ),
    "agent_answers": _l("agent %(extension)s answers"),
    "no_agent": _l("no agent logged in: the caller leaves the queue"),
    "agents_offered": _l("agents %(agents)s offered the call, none answers"),
    "answered_after": _l("answered by %(extension)s after %(seconds)d s of ringing"),
    "answered_by_agent": _l("answered by agent %(extension)s"),
    "listens_to_voicemail": _l("listens to the voicemail box %(extension)s"),
    "voicemail_of": _l("voicemail of %(extension)s"),
    "waits_in_queue": _l("waits in queue %(queue)s until an agent answers"),
    "parked": _l("parked in slot %(slot)s for at most %(seconds)d s"),
    "takes_parked": _l("takes the call parked in slot %(slot)s"),
    "joins_conference": _l("joins conference %(room)s"),
    "asks_for_digits": _l("the caller is asked for digits"),
    "as_decided": _l("as the last decision says"),
    "star_code": _l("a star code changes a setting"),
    "then_hang_up": _l("an announcement, then the call is hung up"),
    "ended_with": _l("the call is released (%(cause)s)"),
    "still_routing": _l("still routing after %(fetches)d fetches"),
}


def say(said: Phrase | str | None) -> str:
    """A phrase in the user's language (its values too); a string as it is."""
    if said is None:
        return ""
    if isinstance(said, str):
        return said
    wording = WORDS.get(said.code)
    if wording is None:  # VERBATIM, or a code not worded yet: as the compiler says it
        return str(said)
    values = {name: say(v) if isinstance(v, Phrase) else v for name, v in said.values}
    try:
        if callable(wording):
            return wording(values)
        return str(wording) % values
    except (KeyError, TypeError, ValueError):  # a translation that lost a placeholder
        return str(said)
