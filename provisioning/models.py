"""Database tables of the domain model (SQLAlchemy 2.x typed mappings).

Every value stored here has passed `provisioning.validation`: extensions are digits,
numbers are E.164, free text carries nothing FreeSWITCH's preprocessor would act on.
Relationships are `lazy="raise"`: whoever reads related rows says so explicitly.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Time,
    UniqueConstraint,
    false,
    func,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Explicit constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Tenant(Base):
    """A customer company: one SIP domain, one dialplan context, one timezone."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    # ISO 3166 alpha-2: how national numbers are read, which holidays apply.
    country: Mapped[str] = mapped_column(String(2))
    # E.164 presented on outbound calls of users without a number of their own.
    main_number: Mapped[str | None] = mapped_column(String(16))
    # "Dial 0 for an outside line": outside numbers are dialled `0` + the number.
    outside_line_prefix: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # The outgoing caller ID policy's rules, canonical JSON as the document has them
    # (what they make of each user is in users.caller_id_policy).
    outgoing_caller_ids: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default="[]"
    )
    # The document's schedules and holidays as validated there (canonical JSON): read
    # whole on every call, never queried by their content.
    schedules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    holidays: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Dialled by every user: speed dials (code → number) and the company directory's
    # external contacts (##code), canonical JSON as the document has them.
    speed_dials: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default="[]"
    )
    directory: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    # The document's feature_codes: feature name → the tenant's own code for it.
    feature_codes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    # Call park (`provisioning.park`): the document's `park` block, null when off.
    park: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Meet-me rooms (provisioning.conferences), as the document writes them.
    conferences: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default="[]"
    )
    # A random value the database renews whenever this row or the tenant's trunk
    # changes (triggers, migration 0011): the call path keeps the parsed settings and
    # reads only this stamp on each call. Never written by the application.
    settings_stamp: Mapped[int] = mapped_column(BigInteger, server_default="0")

    users: Mapped[list[User]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", lazy="raise"
    )
    numbers: Mapped[list[PublicNumber]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", lazy="raise"
    )
    gateway: Mapped[Gateway | None] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", lazy="raise"
    )
    groups: Mapped[list[HuntGroup]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", lazy="raise"
    )
    queues: Mapped[list[Queue]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", lazy="raise"
    )


class User(Base):
    """A line: an extension with SIP credentials, a voicemail box and call limits."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("tenant_id", "extension", name="uq_users_tenant_extension"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    # Order in the tenant document, so that export gives the document back as written.
    position: Mapped[int] = mapped_column(Integer, default=0)
    extension: Mapped[str] = mapped_column(String(8))
    display_name: Mapped[str] = mapped_column(String(64))
    # Kept in clear: phones are provisioned with it and the directory answers with its
    # digest hash (md5 of user:realm:password), which depends on the domain.
    sip_password: Mapped[str] = mapped_column(String(64))
    # E.164 this line presents outside; one of the tenant's public numbers.
    public_number: Mapped[str | None] = mapped_column(String(16))
    voicemail_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    voicemail_pin: Mapped[str | None] = mapped_column(String(8))
    voicemail_emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_concurrent_calls: Mapped[int] = mapped_column(Integer, default=5)
    call_waiting: Mapped[bool] = mapped_column(Boolean, default=True)
    # Destination categories the user may call, forwards included (see numbering).
    allowed_destinations: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Personal contacts and call handling, as validated in the tenant document
    # (canonical JSON): read whole with the line on every call to it.
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    call_handling: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The panel: an argon2 hash of the user's password (None: cannot log in), and
    # whether the user manages the tenant's users there (the document's panel_admin).
    panel_password: Mapped[str | None] = mapped_column(String(200))
    panel_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # What the tenant's outgoing caller ID policy makes of this user (own, main,
    # withheld or an E.164 number; None: no rule), written by the document's apply.
    caller_id_policy: Mapped[str | None] = mapped_column(String(16))
    # Failed log-ins in a row, and until when the account is locked after too many.
    panel_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    panel_locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Where the panel writes when the password or the voicemail PIN changes, and sends
    # password-reset links: the user's own choice, not part of the tenant document.
    security_email: Mapped[str | None] = mapped_column(String(254))
    # Bumped by every change of the user's settings (the document's fields): a change
    # made from what an earlier version showed is refused (409), never silently undone.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    tenant: Mapped[Tenant] = relationship(back_populates="users", lazy="raise")


class LineState(Base):
    """What is happening on a line now, as FreeSWITCH reports it (kept by the event
    listener): calls in progress, and whether a phone is registered (None: unknown).
    Busy and unreachable decisions read it with the line, in the same query."""

    __tablename__ = "line_states"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    active_calls: Mapped[int] = mapped_column(Integer, default=0)
    registered: Mapped[bool | None] = mapped_column(Boolean)
    # Of the calls in progress, those still ringing on the user's phones.
    ringing_calls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the user's last answered call ended: "least active" group ringing picks the
    # member idle for longest.
    last_call_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Registration(Base):
    """A phone registered to a user's line on one FreeSWITCH node (event listener)."""

    __tablename__ = "registrations"
    __table_args__ = (UniqueConstraint("node", "call_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    node: Mapped[str] = mapped_column(String(255))
    call_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    contact: Mapped[str] = mapped_column(String(1024), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    network_ip: Mapped[str] = mapped_column(String(64), default="")
    network_port: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class Channel(Base):
    """A call leg on one of a user's phones, on one FreeSWITCH node (event listener).
    `direction` is FreeSWITCH's: inbound legs come from the phone (the user calls),
    outbound legs go to it (the user is called)."""

    __tablename__ = "channels"

    uuid: Mapped[str] = mapped_column(String(64), primary_key=True)
    node: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(16))
    answered: Mapped[bool] = mapped_column(Boolean, default=False)
    held: Mapped[bool] = mapped_column(Boolean, default=False)
    peer_number: Mapped[str] = mapped_column(String(64), default="")
    peer_name: Mapped[str] = mapped_column(String(255), default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # On a leg to a phone: the caller's leg (directed pickup intercepts that one).
    caller_leg: Mapped[str] = mapped_column(String(64), default="", server_default="")


class PublicNumber(Base):
    """A DID owned by a tenant; calls from the public network to it reach `user`."""

    __tablename__ = "public_numbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    label: Mapped[str] = mapped_column(String(64), default="")
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # By schedule, where calls go instead of `user`: {"routes": […], "otherwise": {…}}.
    routing: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")

    tenant: Mapped[Tenant] = relationship(back_populates="numbers", lazy="raise")
    user: Mapped[User | None] = relationship(lazy="raise")


class _Unit:
    """What hunt groups and queues share: a name, numbers dialled inside the tenant,
    and the rest of their document in `settings`."""

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(64))
    extension: Mapped[str] = mapped_column(String(8))
    short_number: Mapped[str | None] = mapped_column(String(3))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class _Person:
    """A user in a group or queue, in list order; logged out, they are not called."""

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    logged_in: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class HuntGroup(_Unit, Base):
    """A hunt group: dialled by its extension or short number, rings its members.
    `settings` holds the rest of its document (distribution, rings, cycles, overflow …)."""

    __tablename__ = "hunt_groups"
    __table_args__ = (
        UniqueConstraint("tenant_id", "extension", name="uq_hunt_groups_extension"),
        UniqueConstraint("tenant_id", "short_number", name="uq_hunt_groups_short_number"),
    )

    # Routing state (event listener, API): cyclic distribution starts after this member.
    last_answerer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    tenant: Mapped[Tenant] = relationship(back_populates="groups", lazy="raise")
    members: Mapped[list[GroupMember]] = relationship(
        back_populates="group",
        cascade="all, delete-orphan",
        lazy="raise",
        order_by="GroupMember.position",
    )


class GroupMember(_Person, Base):
    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("hunt_groups.id", ondelete="CASCADE"), primary_key=True
    )

    group: Mapped[HuntGroup] = relationship(back_populates="members", lazy="raise")


class Queue(_Unit, Base):
    """A queue (ACD) run by FreeSWITCH's mod_callcenter; `settings` holds the rest of
    its document (strategy, max wait, overflow, wrap-up …)."""

    __tablename__ = "queues"
    __table_args__ = (
        UniqueConstraint("tenant_id", "extension", name="uq_queues_extension"),
        UniqueConstraint("tenant_id", "short_number", name="uq_queues_short_number"),
    )

    tenant: Mapped[Tenant] = relationship(back_populates="queues", lazy="raise")
    agents: Mapped[list[QueueAgent]] = relationship(
        back_populates="queue",
        cascade="all, delete-orphan",
        lazy="raise",
        order_by="QueueAgent.position",
    )


class QueueAgent(_Person, Base):
    __tablename__ = "queue_agents"

    queue_id: Mapped[int] = mapped_column(
        ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True
    )

    # On a break (a star code): still logged in, offered no calls. An agent's break is
    # for all of its queues (mod_callcenter's status is per agent): every row alike.
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    queue: Mapped[Queue] = relationship(back_populates="agents", lazy="raise")


class Gateway(Base):
    """The tenant's SIP trunk for outbound calls (a sofia gateway named after the domain)."""

    __tablename__ = "gateways"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), unique=True
    )
    proxy: Mapped[str] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(64))
    password: Mapped[str | None] = mapped_column(String(64))
    register: Mapped[bool] = mapped_column(Boolean, default=False)
    transport: Mapped[str] = mapped_column(String(3), default="udp")
    # How the carrier wants called numbers: "e164" (+33…), "e164-digits" (33…), "national".
    number_format: Mapped[str] = mapped_column(String(16), default="e164")

    tenant: Mapped[Tenant] = relationship(back_populates="gateway", lazy="raise")


class ApiToken(Base):
    """A bearer token for the REST API, scoped to one tenant or (tenant NULL) to all."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # sha256 of the token: tokens are 256-bit random, so a fast hash is enough.
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PanelSession(Base):
    """A panel log-in, kept on the server: the browser's cookie names it, log-out and a
    password change delete it, and it ends by itself at `expires_at`."""

    __tablename__ = "panel_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # sha256 of the cookie's token: tokens are 256-bit random, so a fast hash is enough.
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class PasswordReset(Base):
    """A one-time link to choose a new password, mailed to the security address: used
    once (deleted), or dead at `expires_at`."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PanelAddressTries(Base):
    """Failed log-ins (and reset requests) from one network address in the current
    window: past a limit, that address is refused until the window ends, whichever
    accounts it tries."""

    __tablename__ = "panel_address_tries"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    tries: Mapped[int] = mapped_column(Integer)


# --- reminders (wake-up calls) ----------------------------------------------------
class Reminder(Base):
    """A call the platform places to a user's line at a set time, playing a message:
    once (date and time), every working day, or every day, in the tenant's timezone.
    `next_due_at` is when it fires next (NULL: never again, or disabled); a firing is
    claimed by moving it, so that two listeners never fire the same one twice."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # once, working_days, every_day
    on_date: Mapped[date | None] = mapped_column(Date)  # `once` only
    at_time: Mapped[time] = mapped_column(Time)  # wall-clock time in the tenant's timezone
    # The name of a recorded announcement; NULL plays the stock wake-up prompt.
    message: Mapped[str | None] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    last_fired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Failed calls for the occurrence in progress (it is retried a few times), and the
    # background job of the call in flight, whose outcome FreeSWITCH reports later.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    job_uuid: Mapped[str | None] = mapped_column(String(36), index=True)


# --- media: announcements, hold music, ringback tones -----------------------------
class Media(Base):
    """An audio file of a tenant, converted for FreeSWITCH (see provisioning.media):
    the rows say what exists, the files live under the media directory."""

    __tablename__ = "media"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "name", name="uq_media_tenant_kind_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    # "announcement", "music" or "ringback".
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(32))
    # The file FreeSWITCH plays, relative to the media directory (its renditions per
    # sample rate sit in <rate>/ directories beside it).
    path: Mapped[str] = mapped_column(String(400))
    duration_ms: Mapped[int] = mapped_column(Integer)
    # Bytes stored, every rendition counted.
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# --- call log ---------------------------------------------------------------------------
class CallRecord(Base):
    """One entry of a user's call log: a call they placed, received, missed, had rejected
    or forwarded (esl.cdr says how each is decided from FreeSWITCH's call records).

    One row per call (the A leg's uuid) and user: every leg FreeSWITCH reports about the
    same call and user lands on this row, and the more telling report wins
    (`precedence`), so that posting a record again, or in another order, changes nothing.
    """

    __tablename__ = "call_records"
    __table_args__ = (
        UniqueConstraint("call_uuid", "user_id"),
        Index("ix_call_records_tenant_started", "tenant_id", "started_at"),
        Index("ix_call_records_user_started", "user_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    # SET NULL: removing a line keeps the tenant's call history (shown with the extension
    # it had), and a new user given the same extension does not inherit it.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    extension: Mapped[str] = mapped_column(String(8))
    call_uuid: Mapped[str] = mapped_column(String(64))
    # The leg whose record decided this entry.
    leg_uuid: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    precedence: Mapped[int] = mapped_column(Integer)
    # The user's view: "outgoing" (placed) or "incoming".
    direction: Mapped[str] = mapped_column(String(8))
    # E.164 or an extension; "" when withheld. The name is the caller ID FreeSWITCH had;
    # contacts and colleagues' names are looked up when the log is read.
    peer_number: Mapped[str] = mapped_column(String(64), default="")
    peer_name: Mapped[str] = mapped_column(String(255), default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration: Mapped[int] = mapped_column(Integer, default=0)  # seconds, start to end
    billsec: Mapped[int] = mapped_column(Integer, default=0)  # seconds talked
    hangup_cause: Mapped[str] = mapped_column(String(64), default="")
    node: Mapped[str] = mapped_column(String(255), default="")  # the FreeSWITCH that reported it
    # The routing decisions of the call's fetches (`xmlcurl.route_trail`): "rule applied".
    route: Mapped[str] = mapped_column(String(255), default="", server_default="")


class LineChange(Base):
    """A line (or a whole tenant, `extension` None) whose keys or directory entry may
    have changed. Written only by the database's triggers (migration 0032), on every
    write by whatever writer; read by the event listener past the last id it saw."""

    __tablename__ = "line_changes"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(253))
    extension: Mapped[str | None] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
