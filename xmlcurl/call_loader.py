"""Everything a dialplan fetch needs loaded, in a constant number of indexed queries.

One query for the tenant (or the public number) and the lines the call names; a call
to a group, a queue or a pickup code adds the query for it. The tenant's settings,
its group and queue numbers among them, are kept between calls (xmlcurl.loader).
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection

from xmlcurl import loader
from xmlcurl.dialplan import Lookup, PublicNumberLookup
from xmlcurl.group import number_to_load
from xmlcurl.group_loader import load_group
from xmlcurl.inputs import CallData
from xmlcurl.pickup import group_pickup, pickup_target
from xmlcurl.queue_data import load_queue_call


def load_call(
    conn: Connection,
    lookup: Lookup,
    destination: str,
    media_dir: str,
    caller: str | None = None,
) -> CallData | None:
    """`caller`: the tenant line that calls, if one does (group pickup looks around it)."""
    if isinstance(lookup, PublicNumberLookup):
        data = loader.load_public_number(conn, lookup.candidates)
        return None if data is None else replace(data, media_dir=media_dir)
    data = loader.load_tenant(conn, lookup.domain, lookup.extensions)
    if data is None:
        return None
    if data.dialled_queue:
        queue = load_queue_call(conn, lookup.domain, destination)
        data = replace(data, queue=queue, media_dir=media_dir)
    codes = data.tenant.feature_codes
    picked = pickup_target(destination, codes)
    if picked is not None:
        leg = loader.load_ringing_caller_leg(conn, lookup.domain, picked)
        data = replace(data, ringing_caller_leg=leg)
    elif caller is not None and group_pickup(destination, codes):
        leg = loader.load_group_ringing_caller_leg(conn, lookup.domain, caller)
        data = replace(data, ringing_caller_leg=leg)
    group_number = number_to_load(destination, data.dialled_group, codes)
    if group_number:
        group = load_group(conn, lookup.domain, group_number)
        data = replace(data, group=group, media_dir=media_dir)
    return data
