"""What the group compiler sees of a hunt group, and the one query that loads it.

Loaded only for calls to a group's number (the tenant query says so) and for the
log-in codes: the group, its members in list order with their live state (logged in,
registered, calls in progress, when their last call ended), the member who answered
the group's last call, and the tenant's media files. Rows become frozen data; settings
are parsed once per distinct stored text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Text,
    and_,
    bindparam,
    cast,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from centrex.db import Prepared
from provisioning.models import GroupMember, HuntGroup, LineState, Tenant, User
from provisioning.tenant_routing import GroupDoc
from xmlcurl.inputs import GroupData, MemberData
from xmlcurl.loader import parsed_call_handling
from xmlcurl.tenant_rows import (
    media_paths_column,
    parsed_media_paths,
)


@lru_cache(maxsize=4096)
def _parsed_group(name: str, extension: str, short_number: str | None, text: str) -> GroupDoc:
    # Shared between calls: the document is only read after this point.
    return GroupDoc.model_validate(
        {**json.loads(text), "name": name, "extension": extension, "short_number": short_number}
    )


def _instant(value: Any) -> datetime | None:
    """A timestamp as the driver returns it (SQLite: text) → an aware datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# A literal, not a bound parameter: prepared statements take only the call's values.
_Member = aliased(User, name="member")
_LastAnswerer = aliased(User, name="last_answerer")
_MEDIA_PATHS = media_paths_column()
_GROUP_QUERY = (
    select(
        HuntGroup.name,
        HuntGroup.extension.label("group_extension"),
        HuntGroup.short_number,
        cast(HuntGroup.settings, Text).label("settings"),
        _LastAnswerer.extension.label("last_answerer"),
        _MEDIA_PATHS.label("media_paths"),
        GroupMember.position,
        GroupMember.logged_in,
        _Member.extension,
        _Member.max_concurrent_calls,
        _Member.call_waiting,
        cast(_Member.call_handling, Text).label("call_handling"),
        LineState.active_calls,
        LineState.registered,
        LineState.last_call_end,
    )
    .select_from(Tenant)
    .join(
        HuntGroup,
        and_(
            HuntGroup.tenant_id == Tenant.id,
            or_(
                HuntGroup.extension == bindparam("number"),
                HuntGroup.short_number == bindparam("number"),
            ),
        ),
    )
    .outerjoin(_LastAnswerer, _LastAnswerer.id == HuntGroup.last_answerer_id)
    .outerjoin(GroupMember, GroupMember.group_id == HuntGroup.id)
    .outerjoin(_Member, _Member.id == GroupMember.user_id)
    .outerjoin(LineState, LineState.user_id == _Member.id)
    .where(Tenant.domain == bindparam("domain"))
    .order_by(GroupMember.position)
)
_GROUP = Prepared(_GROUP_QUERY)


def _member(row: Any) -> MemberData:
    return MemberData(
        extension=row.extension,
        logged_in=bool(row.logged_in),
        max_concurrent_calls=row.max_concurrent_calls,
        call_waiting=bool(row.call_waiting),
        call_handling=parsed_call_handling(row.call_handling),
        active_calls=row.active_calls or 0,
        registered=None if row.registered is None else bool(row.registered),
        last_call_end=_instant(row.last_call_end),
    )


def load_group(conn: Connection, domain: str, number: str) -> GroupData | None:
    """The group of `domain` whose extension or short number is `number`."""
    rows = _GROUP.rows(conn, {"domain": domain, "number": number})
    return _group_data(tuple(rows)) if rows else None


@lru_cache(maxsize=4096)
def _group_data(rows: tuple[Any, ...]) -> GroupData:
    # Keyed by every value the query returned: members' live state included, so a
    # change of any of them makes a new entry. The same rows (most calls to a group
    # between two changes of its members' state) skip building ten members again.
    first = rows[0]
    return GroupData(
        doc=_parsed_group(first.name, first.group_extension, first.short_number, first.settings),
        members=tuple(_member(row) for row in rows if row.extension is not None),
        last_answerer=first.last_answerer,
        media_paths=parsed_media_paths(first.media_paths),
    )
