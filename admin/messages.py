"""The domain's refusals in the panel's words: a message template for each code the
panel can show (`provisioning.errors`), in English as the domain says it and in French
in admin/translations/fr; `word` says a problem or a domain error with them.

Templates are the domain's own, placeholders included (`%(number)s`), but for pydantic's
error types (structure); a code not listed here, or a refusal without one, is shown as
the domain words it, in English.
"""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from provisioning.errors import DomainError, Problem

MESSAGES: dict[str, LazyString] = {
    # values typed anywhere (provisioning.validation)
    "text_empty": _l("must not be empty"),
    "text_too_long": _l("must be at most %(max)d characters"),
    "text_forbidden": _l("must not contain %(text)r"),
    "extension_digits": _l("must be 2 to 8 digits"),
    "emergency_extension": _l("%(value)s is an emergency number in %(country)s"),
    "number_characters": _l("must be a phone number: digits, an optional leading +"),
    "number_unreadable": _l("is not a phone number (%(reason)s)"),
    "number_invalid": _l("is not a valid phone number in %(country)s or abroad"),
    "dns_name": _l("must be a DNS name such as pbx.example.com"),
    "host_port": _l("must be a host name or address, with an optional :port"),
    "timezone": _l("must be an IANA time zone such as Europe/Paris"),
    "country": _l("must be an ISO 3166 two-letter country code such as FR"),
    "email_invalid": _l("must be an e-mail address such as name@example.com (%(reason)s)"),
    "email_characters": _l(
        "must be an e-mail address such as name@example.com, of letters, digits and . _ %% + - "
        "only, not starting with -"
    ),
    "sip_password_length": _l("must be 12 to 64 characters"),
    "sip_password_characters": _l("must be printable ASCII without spaces or '$'"),
    "sip_password_mix": _l("must mix lower-case letters, upper-case letters and digits"),
    "sip_password_extension": _l("must not contain the extension"),
    "pin_digits": _l("must be 6 to 8 digits"),
    "repeated_digit": _l("must not repeat the same digit more than twice in a row"),
    "pin_sequence": _l("must not contain a sequence such as 1234 or 4321"),
    "holds_own_number": _l("must not contain the line's number or part of it"),
    "password_length": _l("must be 12 to 20 characters"),
    "password_printable": _l("must hold printable characters only"),
    "password_digit": _l("must hold at least one digit"),
    "password_letter": _l("must hold at least one letter"),
    "password_special": _l("must hold at least one special character, such as ! or -"),
    "password_sequence": _l("must not be a logical sequence such as 1234, 4321 or abcd"),
    "media_name": _l(
        "1 to 32 lower-case letters, digits, '-' or '_', starting with a letter or a digit, "
        "never holding x-pre-process (a FreeSWITCH directive)"
    ),
    "not_tenant_number": _l("must be one of the tenant's numbers"),
    # conference rooms (provisioning.conferences, conference_rooms, destinations)
    "room_name_taken": _l("%(name)r is already the name of a conference room"),
    "room_pin_digits": _l("must be 4 to 8 digits"),
    "moderator_pin_alone": _l("a moderator PIN needs a PIN for the others"),
    "moderator_pin_same": _l("must differ from the PIN"),
    "wait_without_moderator": _l("needs a moderator PIN (who else would start it?)"),
    "unknown_room_named": _l("no conference room is named %(name)r"),
    "unknown_room": _l("no conference room %(name)s"),
    # call park (provisioning.park)
    "park_slot_length": _l("must have as many digits as first_slot"),
    "park_slot_order": _l("must not come before first_slot"),
    "park_slot_count": _l("at most %(max)d slots"),
    "park_slot_taken": _l("slot %(slot)s (slots %(first)s–%(last)s) is already used by %(owner)s"),
    "park_slot_refused": _l("slot %(slot)s: %(problem)s"),
    # calls placed from the panel (esl.clicktocall)
    "not_dialable": _l("%(destination)s must be digits, with an optional leading + (and * or #)"),
    "calls_itself": _l("%(destination)s is the line itself"),
    "not_a_destination": _l(
        "%(destination)s is neither an extension of %(domain)s nor a valid phone number"
    ),
    "no_node": _l("no FreeSWITCH node is connected"),
    "barred_call": _l("%(destination)s is barred for this line (%(category)s calls)"),
    "unknown_user": _l("no user has extension %(extension)s"),
    "unknown_schedule": _l("no schedule named %(name)r"),
    "extension_taken": _l("%(extension)s is already used by %(owner)s"),
    "forwarding_loop": _l("forwarding loop %(circle)s"),
    # a user's call handling (provisioning.call_handling, provisioning.line_settings)
    "voicemail_not_here": _l("must be a number here, not voicemail"),
    "voicemail_off": _l("the user's voicemail is off"),
    "own_extension": _l("must not be the user's own extension"),
    "forward_target": _l("must be voicemail, a company extension or a phone number"),
    "short_number_target": _l("must be a full phone number, not a short or emergency number"),
    "barred_destination": _l("%(category)s numbers are not among the user's allowed destinations"),
    "unknown_contact": _l("no contact named %(name)r"),
    "no_callers": _l("must name at least one caller"),
    "no_answer_delay_voicemail": _l("must be %(low)d to %(high)d seconds for voicemail"),
    "no_answer_delay_number": _l("must be %(low)d to %(high)d seconds for a number"),
    "ring_name": _l("must be letters, digits or -"),
    "name_taken": _l("%(name)r is already %(other)s"),
    "unknown_rule_list": _l("no rule list named %(name)r"),
    "forward_needs_target": _l("forward needs a target"),
    "target_not_taken": _l("only forward takes a target, not %(action)s"),
    "ring_needs_numbers": _l("%(action)s needs at least one number"),
    "numbers_not_taken": _l("only ring_all and ring_sequence take numbers"),
    "planner_overlap": _l("overlaps %(name)r (%(period)s)"),
    # weekly periods of schedules and of the planner (provisioning.calendar)
    "period_format": _l("must be HH:MM-HH:MM, e.g. 08:00-12:00"),
    "period_past_midnight": _l("must end at 24:00 at the latest"),
    "period_reversed": _l("must end after it starts, on the same day"),
    "period_boundary": _l("must start and end on a %(minutes)d-minute boundary"),
    "periods_per_day": _l("at most %(max)d periods a day"),
    "periods_overlap": _l("periods %(first)s and %(second)s overlap"),
    "user_removed": _l("user %(extension)s was removed meanwhile; nothing written"),
    "stale_version": _l(
        "user %(extension)s was changed meanwhile (now version %(version)d); nothing written: "
        "read it again and redo the change"
    ),
    # a user's values and contacts in the document (provisioning.document, contacts_csv)
    "pin_required": _l("is required when voicemail is enabled"),
    "contact_listed_twice": _l("%(name)r is listed twice"),
    "number_listed_twice": _l("%(number)s is already listed at %(other)s"),
    "csv_columns": _l("needs a name column and a number column"),
    "csv_row": _l("needs a name and at least one number"),
    "csv_too_many_numbers": _l("%(name)s: more than %(max)d numbers"),
    # media (provisioning.media, provisioning.mpeg, provisioning.service)
    "media_kind": _l("kind must be one of %(kinds)s, not %(kind)r"),
    "media_file_name": _l(
        "name %(name)r: 1 to 32 lower-case letters, digits, '-' or '_', starting with a letter "
        "or a digit, never holding x-pre-process (a FreeSWITCH directive)"
    ),
    "media_empty": _l("the file is empty"),
    "media_too_large": _l("the file is larger than %(mib)d MiB"),
    "media_format": _l("not a WAV or MP3 file (its content was checked, not its name)"),
    "wav_truncated": _l(
        "truncated: the WAV announces %(announced)d bytes of audio, %(found)d are there"
    ),
    "wav_no_data": _l("damaged: the WAV holds no audio data"),
    "media_too_long": _l("longer than %(minutes)d minutes"),
    "media_decodes_as": _l("not a WAV or MP3 file (it decodes as %(format)s)"),
    "mp3_no_length": _l(
        "variable-bitrate MP3 without a length (Xing) header: it cannot be read whole; encode "
        "it again, or send a WAV"
    ),
    "media_damaged": _l("damaged %(container)s: %(reason)s"),
    "media_no_audio": _l("no audio: the file holds no sound samples"),
    "mp3_no_frame": _l("no MP3 (MPEG Layer III) audio frame where the audio should start"),
    "mp3_damaged": _l("damaged: no MP3 frame at byte %(byte)d"),
    "mp3_sample_rate": _l("damaged: the sample rate changes at byte %(byte)d"),
    "mp3_cut_short": _l("truncated: the last MP3 frame is cut short"),
    "mp3_truncated": _l(
        "truncated: its header announces %(announced)d frames, %(found)d are there"
    ),
    "mp3_no_audio": _l("no audio: the MP3 holds no audio frame"),
    "media_limit": _l("%(domain)s already has %(max)d media of kind %(kind)s: delete one first"),
    "unknown_media": _l("no %(kind)s %(name)s in %(domain)s"),
    # the call log's filters (esl.calllog)
    "month_format": _l("month must be YYYY-MM, got %(month)r"),
    "call_kind": _l("kind must be one of %(kinds)s, got %(kind)r"),
    "page_bounds": _l("limit must be 1 to %(max)d and offset at least 0"),
    # the document's structure: pydantic's error types (provisioning.errors.structure_problem),
    # worded here, the domain having only pydantic's English for them
    "missing": _l("is required"),
    "too_long": _l("must hold at most %(max_length)d items"),
    "too_short": _l("must hold at least %(min_length)d items"),
    "less_than_equal": _l("must be at most %(le)s"),
    "greater_than_equal": _l("must be at least %(ge)s"),
    # lines and accounts (provisioning.lookup, provisioning.accounts)
    "unknown_tenant": _l("no tenant %(domain)s"),
    "unknown_line": _l("no user %(extension)s in %(domain)s"),
    "unknown_account": _l("no user %(extension)s@%(domain)s"),
    # explaining a call (provisioning.explain)
    "explain_assumption": _l(
        "%(part)s: an assumption is EXTENSION=STATE, the state one of %(states)s"
    ),
    "explain_time": _l("%(text)s: give a time as 2026-12-24 12:45"),
    "explain_time_offset": _l("%(text)s: %(timezone)s is not at %(offset)s then"),
    "explain_time_skipped": _l(
        "%(text)s does not exist in %(timezone)s: the clocks skip that hour"
    ),
    "explain_time_twice": _l(
        "%(text)s comes twice in %(timezone)s (clocks go back): add %(first)s or %(second)s"
    ),
    "explain_not_dialable": _l("%(number)s cannot be dialled"),
    "explain_unknown_caller": _l("%(caller)s is neither a line of %(domain)s nor a phone number"),
    "explain_not_our_number": _l(
        "%(number)s is not one of %(domain)s's numbers: a caller from outside dials one of them"
    ),
}


def word(refusal: Problem | DomainError) -> str:
    """A problem's or a domain error's message in the user's language."""
    template = MESSAGES.get(refusal.code)
    english = refusal.message if isinstance(refusal, Problem) else str(refusal)
    if template is None:
        return english
    try:
        return str(template) % dict(refusal.params)
    except (KeyError, TypeError, ValueError):  # a translation that lost a placeholder
        return english
