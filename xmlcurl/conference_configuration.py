"""conference.conf: mod_conference's profiles and keypad controls.

Pure, and the same for every tenant: what differs between rooms (PIN, moderator PIN,
size, waiting for a moderator) travels with each call (`xmlcurl.conference`), so this
answer never needs the database. mod_conference fetches it when it loads and each time
a caller joins (with `conference_name`, `profile_name`): a room opened while Centrex
is down still gets freeswitch-conf's static copy, which holds the same profiles.

The PIN is asked with a tone, not the stock `conference/conf-pin.wav` prompt:
mod_conference hangs up a caller it cannot play the PIN prompt to, and a node without
the sound files would then let nobody into a room with a PIN.
"""

from __future__ import annotations

from dataclasses import dataclass

from provisioning.conferences import ADHOC_MAX_MEMBERS
from xmlcurl import fsnames as fs

# Asking for the PIN: one high beep; a wrong one: two low ones.
PIN_TONE = "tone_stream://%(300,200,880)"
BAD_PIN_TONE = "tone_stream://%(200,100,440);%(200,100,440)"
PIN_RETRIES = 3


@dataclass(frozen=True)
class Control:
    action: str
    digits: str


@dataclass(frozen=True)
class Profile:
    name: str
    params: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ConferenceConfiguration:
    controls_group: str
    controls: tuple[Control, ...]
    profiles: tuple[Profile, ...]


CONTROLS = (
    Control("mute", "0"),
    Control("energy up", "9"),
    Control("energy dn", "7"),
    Control("hangup", "#"),
)

_COMMON = (
    (fs.CP_RATE, "8000"),
    (fs.CP_INTERVAL, "20"),
    (fs.CP_ENERGY_LEVEL, "100"),
    (fs.CP_CALLER_CONTROLS, fs.CONFERENCE_CONTROLS),
    # Played to a caller alone in a room, or waiting for its moderator.
    (fs.CP_MOH_SOUND, fs.LOCAL_STREAM_URL + fs.STREAM_MOH),
    (fs.CP_COMFORT_NOISE, "true"),
    (fs.CP_PIN_SOUND, PIN_TONE),
    (fs.CP_BAD_PIN_SOUND, BAD_PIN_TONE),
    (fs.CP_PIN_RETRIES, str(PIN_RETRIES)),
)


def compile_conference() -> ConferenceConfiguration:
    return ConferenceConfiguration(
        controls_group=fs.CONFERENCE_CONTROLS,
        controls=CONTROLS,
        profiles=(
            Profile(fs.CONFERENCE_PROFILE, _COMMON),
            Profile(
                fs.CONFERENCE_ADHOC_PROFILE,
                (*_COMMON, (fs.CP_MAX_MEMBERS, str(ADHOC_MAX_MEMBERS))),
            ),
        ),
    )
