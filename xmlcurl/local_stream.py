"""local_stream.conf: the hold music streams of FreeSWITCH's mod_local_stream.

Pure: the tenants' hold music (loaded rows) and the media directory in, the streams
out. A stream plays every file of its directory in a loop, at the stream's rate.
Asked for `local_stream://<name>` by a call at R Hz, mod_local_stream takes the stream
`<name>/<R>` if it runs, else `<name>`, else `default`. So each hold music is two
streams on the directories of its renditions: `<name>` at 16 kHz (wideband calls, and
wider ones, which FreeSWITCH resamples) and `<name>/8000` for narrowband calls. The
stock `moh` and `default` streams are kept as in freeswitch-conf's static file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from provisioning import media
from xmlcurl import fsnames as fs
from xmlcurl.inputs import HoldMusicData

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stream:
    name: str
    directory: str
    rate: int
    # Beyond the rate. Left out, mod_local_stream plays one channel every 20 ms on
    # the soft timer, files in directory order: right for one mono file.
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class LocalStreamConfiguration:
    streams: tuple[Stream, ...]


_STOCK_PARAMS = (
    (fs.LS_SHUFFLE, "true"),
    (fs.LS_CHANNELS, "1"),
    (fs.LS_INTERVAL, "20"),
    (fs.LS_TIMER_NAME, "soft"),
)
STOCK_STREAMS = (
    Stream(fs.STREAM_MOH, fs.STOCK_MUSIC_DIR, 8000, _STOCK_PARAMS),
    Stream(fs.STREAM_DEFAULT, fs.STOCK_MUSIC_DIR, 8000, _STOCK_PARAMS),
)


def hold_music_url(domain: str, name: str) -> str:
    """What `hold_music` (or a playback) names to play a tenant's hold music."""
    return fs.LOCAL_STREAM_URL + media.stream_name(domain, name)


def hold_music_streams(item: HoldMusicData, media_dir: str) -> tuple[Stream, ...]:
    base = media.stream_name(item.domain, item.name)
    return tuple(
        Stream(
            base if rate == media.WIDEST_RATE else f"{base}/{rate}",
            f"{media_dir}/{media.rendition_dir(item.path, rate)}",
            rate,
        )
        for rate in media.RATES
    )


def compile_local_stream(
    music: Iterable[HoldMusicData], media_dir: str
) -> LocalStreamConfiguration:
    streams = list(STOCK_STREAMS)
    for item in music:
        try:
            streams += hold_music_streams(item, media_dir)
        except media.MediaInvalid as exc:
            # Every tenant's music shares this answer: one bad row must not empty it.
            log.error(
                "hold music of %s left out of FreeSWITCH's configuration: %s", item.domain, exc
            )
    return LocalStreamConfiguration(tuple(streams))
