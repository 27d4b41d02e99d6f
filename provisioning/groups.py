"""Hunt-group routing state: members logged in or out, the last member who answered.

Kept in the database so that every Centrex server and FreeSWITCH node routes a group's
calls alike. Written by the REST API (by group name, for administrators and the
panel) and by the event listener (by group number, from members' phones and answered
calls). Every statement finds the group through its tenant's domain: nothing crosses
tenants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, or_, select, update
from sqlalchemy.orm import Session

from provisioning import api_models
from provisioning.lookup import unknown_tenant
from provisioning.models import GroupMember, HuntGroup, Tenant, User
from provisioning.service import NotFound


@dataclass(frozen=True)
class MemberState:
    extension: str
    logged_in: bool


@dataclass(frozen=True)
class GroupState:
    name: str
    extension: str
    short_number: str | None
    members: tuple[MemberState, ...]
    last_answerer: str | None

    def as_response(self) -> api_models.GroupState:
        return api_models.GroupState(
            name=self.name,
            extension=self.extension,
            short_number=self.short_number,
            members=[
                api_models.GroupMember(extension=m.extension, logged_in=m.logged_in)
                for m in self.members
            ],
            any_logged_in=any(m.logged_in for m in self.members),
            last_answerer=self.last_answerer,
        )


def _tenant_id(domain: str) -> Any:
    return select(Tenant.id).where(Tenant.domain == domain).scalar_subquery()


def _user_id(domain: str, extension: str) -> Any:
    return (
        select(User.id)
        .where(User.tenant_id == _tenant_id(domain), User.extension == extension)
        .scalar_subquery()
    )


def _group_by_number(domain: str, number: str) -> Any:
    return (
        select(HuntGroup.id)
        .where(
            HuntGroup.tenant_id == _tenant_id(domain),
            or_(HuntGroup.extension == number, HuntGroup.short_number == number),
        )
        .scalar_subquery()
    )


# --- from the event listener ------------------------------------------------------
def store_last_answerer(conn: Connection, domain: str, group: str, member: str) -> bool:
    """`member` answered a call of the group whose number is `group`."""
    member_id = _user_id(domain, member)
    result = conn.execute(
        update(HuntGroup)
        .where(
            HuntGroup.id == _group_by_number(domain, group),
            # Only a member: a leg marker cannot make anyone else the last answerer.
            select(GroupMember.user_id)
            .where(GroupMember.group_id == HuntGroup.id, GroupMember.user_id == member_id)
            .exists(),
        )
        .values(last_answerer_id=member_id)
    )
    return bool(result.rowcount)


def store_logged_in(conn: Connection, domain: str, group: str, member: str, on: bool) -> bool:
    """A member of the group numbered `group` logged in (`on`) or out."""
    result = conn.execute(
        update(GroupMember)
        .where(
            GroupMember.group_id == _group_by_number(domain, group),
            GroupMember.user_id == _user_id(domain, member),
        )
        .values(logged_in=on)
    )
    return bool(result.rowcount)


# --- for the REST API ---------------------------------------------------------------
def _group_id(session: Session, domain: str, name: str) -> int:
    group_id = session.scalar(
        select(HuntGroup.id)
        .join(Tenant, Tenant.id == HuntGroup.tenant_id)
        .where(Tenant.domain == domain, func.lower(HuntGroup.name) == name.casefold())
    )
    if group_id is None:
        raise NotFound(f"no group {name!r} in {domain}")
    return group_id


def list_groups(session: Session, domain: str, name: str | None = None) -> list[GroupState]:
    """The tenant's groups (or the one named) with their members' logged-in state."""
    if session.scalar(select(Tenant.id).where(Tenant.domain == domain)) is None:
        raise NotFound(unknown_tenant(domain))
    member, last = User.__table__.alias("member"), User.__table__.alias("last")
    query = (
        select(
            HuntGroup.id,
            HuntGroup.name,
            HuntGroup.extension,
            HuntGroup.short_number,
            last.c.extension.label("last_answerer"),
            member.c.extension.label("member"),
            GroupMember.logged_in,
        )
        .join(Tenant, Tenant.id == HuntGroup.tenant_id)
        .outerjoin(last, last.c.id == HuntGroup.last_answerer_id)
        .outerjoin(GroupMember, GroupMember.group_id == HuntGroup.id)
        .outerjoin(member, member.c.id == GroupMember.user_id)
        .where(Tenant.domain == domain)
        .order_by(HuntGroup.position, GroupMember.position)
    )
    if name is not None:
        query = query.where(HuntGroup.id == _group_id(session, domain, name))
    groups: dict[int, tuple[Any, list[MemberState]]] = {}
    for row in session.execute(query):
        _row, members = groups.setdefault(row.id, (row, []))
        if row.member is not None:
            members.append(MemberState(row.member, bool(row.logged_in)))
    return [
        GroupState(r.name, r.extension, r.short_number, tuple(m), r.last_answerer)
        for r, m in groups.values()
    ]


def set_logged_in(session: Session, domain: str, name: str, extension: str, on: bool) -> GroupState:
    group_id = _group_id(session, domain, name)
    result = session.execute(
        update(GroupMember)
        .where(GroupMember.group_id == group_id, GroupMember.user_id == _user_id(domain, extension))
        .values(logged_in=on)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"{extension} is not a member of group {name!r}")
    return list_groups(session, domain, name)[0]


def log_out_all(session: Session, domain: str, name: str) -> GroupState:
    group_id = _group_id(session, domain, name)
    session.execute(
        update(GroupMember).where(GroupMember.group_id == group_id).values(logged_in=False)
    )
    return list_groups(session, domain, name)[0]
