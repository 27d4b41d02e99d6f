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
from xmlcurl import loader, render, render_configuration
from xmlcurl.callcenter import compile_callcenter, parse_queue_name
from xmlcurl.conference_configuration import compile_conference
from xmlcurl.local_stream import compile_local_stream
from xmlcurl.queue_data import load_queues

if TYPE_CHECKING:
    from centrex.config import Settings

# The connection, the settings and the request's fields (some modules ask for one item).
Build = Callable[[Connection, "Settings", dict[str, str]], bytes]


def _local_stream(conn: Connection, settings: Settings, _fields: dict[str, str]) -> bytes:
    music = loader.load_hold_music(conn)
    media_dir = str(settings.effective_media_dir)
    return render_configuration.local_stream(compile_local_stream(music, media_dir))


def _callcenter(conn: Connection, _settings: Settings, fields: dict[str, str]) -> bytes:
    """Every queue, or the one a `load_queue` fetch names (`CC-Queue`)."""
    only = None
    if fs.CC_QUEUE in fields:
        only = parse_queue_name(fields[fs.CC_QUEUE])
        if only is None:
            return render.not_found()
    queues = load_queues(conn, only)
    if only is not None and not queues:
        return render.not_found()
    return render_configuration.callcenter(compile_callcenter(queues))


def _conference(_conn: Connection, _settings: Settings, _fields: dict[str, str]) -> bytes:
    """The same for every room and tenant (what differs travels with the call)."""
    return render_configuration.conference(compile_conference())


CONFIGURATIONS: dict[str, Build] = {
    fs.CONF_LOCAL_STREAM: _local_stream,
    fs.CONF_CALLCENTER: _callcenter,
    fs.CONF_CONFERENCE: _conference,
}
