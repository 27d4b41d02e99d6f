"""Call barring as a call meets it: a barred call is refused with a clear cause.

Pure. What a dialled number or code is (`provisioning.numbering`) and whether the
line may call it are decided there; this is what the caller hears when it may not:
a short announcement and the congestion tone in early media (not answered, so not
charged), then OUTGOING_CALL_BARRED (a 403 to the phone).
"""

from __future__ import annotations

from provisioning.numbering import Category
from xmlcurl import fsnames as fs
from xmlcurl.decisions import EarlyMedia, Hangup, Prompt, Route, Tone
from xmlcurl.line import tone
from xmlcurl.request import CallRequest

# Enough to be heard and understood, short enough not to hold the phone.
BARRED_TONE_LOOPS = 3


def barred_route(request: CallRequest, country: str, category: Category) -> Route:
    return Route(
        request.context,
        request.destination,
        f"reject: {category} calls barred",
        (
            EarlyMedia(),
            Prompt(fs.PROMPT_BARRED),
            Tone(tone(country, "unavailable"), BARRED_TONE_LOOPS),
            Hangup(fs.OUTGOING_CALL_BARRED),
        ),
    )
