"""Everything a dialplan fetch needs loaded, in a constant number of indexed queries.

One query for the tenant (or the public number) and the lines the call names; a call
to a group, a queue or a pickup code adds the query for it; a group or queue whose
overflow goes to another group or queue adds the one reading the tenant's group and
queue numbers.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection

from xmlcurl import loader
from xmlcurl.dialplan import Lookup, PublicNumberLookup
from xmlcurl.group import number_to_load
from xmlcurl.group_loader import load_group
from xmlcurl.loader import CallData
from xmlcurl.pickup import pickup_target
from xmlcurl.queue_data import load_queue_call
from xmlcurl.tenant_rows import load_unit_numbers

# Overflows that hand the call to a group or a queue, found by its number.
_TO_UNITS = ("group", "queue")


def load_call(
    conn: Connection, lookup: Lookup, destination: str, media_dir: str
) -> CallData | None:
    if isinstance(lookup, PublicNumberLookup):
        data = loader.load_public_number(conn, lookup.candidates)
        return None if data is None else replace(data, media_dir=media_dir)
    data = loader.load_tenant(conn, lookup.domain, lookup.extensions)
    if data is None:
        return None
    if data.dialled_queue:
        queue = load_queue_call(conn, lookup.domain, destination)
        if queue is not None and queue.doc.overflow.kind in _TO_UNITS:
            queue = replace(queue, unit_numbers=load_unit_numbers(conn, lookup.domain))
        data = replace(data, queue=queue, media_dir=media_dir)
    picked = pickup_target(destination)
    if picked is not None:
        leg = loader.load_ringing_caller_leg(conn, lookup.domain, picked)
        data = replace(data, ringing_caller_leg=leg)
    group_number = number_to_load(destination, data.dialled_group)
    if group_number:
        group = load_group(conn, lookup.domain, group_number)
        if group is not None and group.doc.overflow.kind in _TO_UNITS:
            group = replace(group, unit_numbers=load_unit_numbers(conn, lookup.domain))
        data = replace(data, group=group, media_dir=media_dir)
    return data
