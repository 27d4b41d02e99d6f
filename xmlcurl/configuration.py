"""The configuration section: the module configurations Centrex serves, by .conf name.

FreeSWITCH fetches a module's configuration (`key_value=<module>.conf`) when the module
loads or reloads. Each entry of `CONFIGURATIONS` loads what it needs in a constant
number of queries, compiles it (pure) and renders it; serving another module is one
entry. A name not in the table is answered "not found": FreeSWITCH then reads its
static file from freeswitch-conf.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from xmlcurl import fsnames as fs
from xmlcurl import loader, render_configuration
from xmlcurl.local_stream import compile_local_stream

if TYPE_CHECKING:
    from centrex.config import Settings

Build = Callable[[Connection, "Settings"], bytes]


def _local_stream(conn: Connection, settings: Settings) -> bytes:
    music = loader.load_hold_music(conn)
    media_dir = str(settings.effective_media_dir)
    return render_configuration.local_stream(compile_local_stream(music, media_dir))


CONFIGURATIONS: dict[str, Build] = {
    fs.CONF_LOCAL_STREAM: _local_stream,
}
