"""The JSON bodies the REST API (/api/v1) answers with, as pydantic models.

Views serialise through them (`ResponseModel.body`) and `provisioning.openapi` builds
the response schemas from them, so an answer and its description cannot drift. Bodies
that are the tenant document or a part of it are the document models themselves
(`TenantDoc`, `UserDoc`, `NumberDoc`); lists of them are dumped like the document
(`DocumentView`). Models only: no database, no Flask.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from provisioning.call_handling import CallHandling
from provisioning.call_kinds import CallDirection, CallKind
from provisioning.conferences import ConferenceDoc
from provisioning.destinations import Destination
from provisioning.document import NumberDoc, UserDoc
from provisioning.media import KINDS as MEDIA_KINDS
from provisioning.reminder_schedule import Kind as ReminderKind
from provisioning.tenant_routing import QueueStrategy
from provisioning.validation import HOLIDAY_YEARS

# ISO 8601 with the offset as Python writes it (`+00:00`, never `Z`).
Timestamp = Annotated[
    datetime.datetime,
    PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def _no_default(schema: dict[str, Any]) -> None:
    """For a field left out when unset: a documented default would be a value it never has."""
    schema.pop("default", None)


class ResponseModel(BaseModel):
    """A JSON answer: every field it may hold is declared, nothing else gets in."""

    model_config = ConfigDict(extra="forbid")

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class DocumentView(ResponseModel):
    """Parts of the tenant document, written as the document writes them: defaults
    left out, field names as in the document. (Its own fields have no defaults.)"""

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True)


# --- errors ---------------------------------------------------------------------------
ErrorParams = dict[str, str | int]


class Error(ResponseModel):
    error: str = Field(description="What went wrong, in English, for a person to read")
    code: str | None = Field(
        default=None,
        description="What went wrong, for a program: stable (not_found, invalid_document, "
        "number_invalid…); absent when the request itself was refused (401, 400, 415)",
    )
    params: ErrorParams | None = Field(
        default=None, description="The values the message names, by name"
    )

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class Problem(ResponseModel):
    path: str = Field(description="The field at fault, e.g. users[2].extension")
    message: str = Field(description="In English, for a person to read")
    code: str | None = Field(
        description="Stable, e.g. extension_taken; null for a rule that has no code yet"
    )
    params: ErrorParams = Field(description="The values the message names, by name")


class Invalid(Error):
    problems: list[Problem] = Field(description="Every problem found, nothing written")

    def body(self) -> dict[str, Any]:
        # A problem's code is null rather than absent: only the answer's own are left out.
        body = super().body()
        body["problems"] = [p.body() for p in self.problems]
        return body


# --- tenants, users, numbers ------------------------------------------------------------
class TenantList(ResponseModel):
    tenants: list[str] = Field(description="The domains this token may see")


class ApplyReport(ResponseModel):
    dry_run: bool = Field(description="Validated and reported, nothing written")
    created: list[str]
    updated: list[str]
    deleted: list[str]


class RoutingSeen(ResponseModel):
    outcome: str = Field(description="How the call ends, as `explain` says it")
    summary: str
    rule: str = Field(description="The rule that decided (the first fetch's)")
    route: str = Field(description="Each fetch's decision, in turn")
    seconds: int


class RoutingChange(ResponseModel):
    kind: str = Field(description="number, group, queue or user: what is called")
    to: str
    caller: str = Field(description="The caller from outside")
    at: str = Field(description="The instant, in the tenant's time (ISO 8601)")
    when: str = Field(description="The schedule boundary, planner or holiday it stands for")
    before: RoutingSeen
    after: RoutingSeen


class RoutingEffects(ResponseModel):
    calls_considered: int
    calls_explained: int = Field(description="At most 500, the touched items' calls first")
    capped: bool
    changes: list[RoutingChange] = Field(description="The calls whose outcome changes")


class DryRunReport(ApplyReport):
    routing: RoutingEffects | None = Field(
        default=None, description="A dry run of a whole document: its calls before and after"
    )


class UserList(DocumentView):
    users: list[UserDoc]


class NumberList(DocumentView):
    numbers: list[NumberDoc]


_USER_VERSION = (
    "Give it back with a change (PUT, PATCH): a user changed since gets 409 and nothing is written"
)


class UserView(UserDoc, DocumentView):
    """A user as the tenant document has them, and the version they are at."""

    version: int = Field(description=_USER_VERSION)


class UserChange(UserDoc):
    """A user's entry, whole, to replace theirs (or create them): request body."""

    version: int | None = Field(
        default=None,
        description="The version the change was made from (from the GET); a user changed "
        "since gets 409 and nothing is written. Left out: whatever the version now.",
    )


class UserSaved(ApplyReport):
    """What a change of one user did, and the version they are at now."""

    version: int = Field(description=_USER_VERSION)


class ConferenceList(DocumentView):
    conferences: list[ConferenceDoc]


# --- read-only views of the document ------------------------------------------------------
class RouteNow(ResponseModel):
    schedule: str
    to: Destination
    schedule_in_force: bool


class NumberRouting(DocumentView):
    number: str = Field(description="E.164")
    label: str
    at: Timestamp = Field(description="Now, in the tenant's time")
    timezone: str
    routes: list[RouteNow]
    otherwise: Destination | None
    in_force: int | Literal["otherwise"] | None = Field(
        description="The index of the route taking calls now, 'otherwise', or null for a "
        "number without routes (it rings its user)"
    )
    destination: Destination | None = Field(
        description="Where a call arriving now goes; null: it is rejected"
    )


class DirectoryUser(ResponseModel):
    extension: str
    name: str
    public_number: str | None


class DirectoryContact(ResponseModel):
    name: str
    number: str
    code: str | None = Field(description="Dialled as ##code")


class Directory(ResponseModel):
    users: list[DirectoryUser]
    external: list[DirectoryContact]


# --- reminders ------------------------------------------------------------------------
class Reminder(ResponseModel):
    id: int
    label: str
    kind: ReminderKind
    date: datetime.date | None
    time: str = Field(description="HH:MM in the tenant's timezone")
    message: str | None = Field(
        description="A recorded announcement's name; null plays the stock prompt"
    )
    enabled: bool
    next_due_at: Timestamp | None = Field(
        description="UTC; null when it will not fire again (or is disabled)"
    )
    last_fired_at: Timestamp | None


class ReminderList(ResponseModel):
    reminders: list[Reminder]


# --- media ----------------------------------------------------------------------------
class Media(ResponseModel):
    kind: str = Field(json_schema_extra={"enum": list(MEDIA_KINDS)})
    name: str
    duration_ms: int
    size: int = Field(description="Bytes stored, every rendition counted")
    created_at: Timestamp
    # Absent, never null, for other kinds.
    stream: Annotated[str | None, WithJsonSchema({"type": "string"})] = Field(
        default=None,
        exclude_if=lambda stream: stream is None,
        json_schema_extra=_no_default,
        description="Music only: play it as local_stream://<stream>",
    )


class MediaList(ResponseModel):
    media: list[Media]


# --- the call log ---------------------------------------------------------------------
class Call(ResponseModel):
    id: int
    call: str = Field(description="The call's uuid (its first leg's)")
    user: str = Field(description="The extension whose log this entry is")
    kind: CallKind
    direction: CallDirection
    peer_number: str = Field(
        description="Who was called, or who called: E.164 or an extension; empty when "
        "the caller withheld it"
    )
    peer_name: str = Field(
        description="The user's contact, else the colleague, else the caller-ID name"
    )
    started_at: Timestamp
    answered_at: Timestamp | None
    ended_at: Timestamp
    duration: int = Field(description="Seconds, start to end")
    billsec: int = Field(description="Seconds talked")
    hangup_cause: str
    route: str = Field(
        description="The rule applied: the routing decisions of the call's fetches, "
        "'destination: decision', first first, joined by ' > ' (empty when not known)"
    )


class CallPage(ResponseModel):
    total: int = Field(description="Entries matching, all pages")
    limit: int
    offset: int
    calls: list[Call]


# --- hunt groups and queues -----------------------------------------------------------
class GroupMember(ResponseModel):
    extension: str
    logged_in: bool


class GroupState(ResponseModel):
    name: str
    extension: str
    short_number: str | None
    members: list[GroupMember]
    any_logged_in: bool = Field(description="At least one member logged in")
    last_answerer: str | None = Field(
        description="Who answered the last call (cyclic ringing starts after them)"
    )


class GroupList(ResponseModel):
    groups: list[GroupState]


class QueueAgent(ResponseModel):
    extension: str
    name: str
    logged_in: bool
    # On a break (its star code): logged in, offered no calls.
    paused: bool = False


class QueueState(ResponseModel):
    name: str
    extension: str
    short_number: str | None
    strategy: QueueStrategy
    max_wait: int = Field(description="Seconds; 0 = no limit")
    wrap_up: int = Field(description="Seconds between an agent's calls")
    agents: list[QueueAgent]
    agents_logged_in: int


class QueueList(ResponseModel):
    queues: list[QueueState]


class AgentChange(ResponseModel):
    queue: str
    extension: str
    logged_in: bool


class CallHandlingState(ResponseModel):
    """A user's call handling, in the document's form, and the version it is at."""

    call_handling: CallHandling = Field(description="As in the tenant document")
    version: int = Field(description="Give it back with a change: a stale one gets 409")

    def body(self) -> dict[str, Any]:
        return {
            "call_handling": self.call_handling.model_dump(mode="json", exclude_defaults=True),
            "version": self.version,
        }


class CallHandlingChange(BaseModel):
    """A change of one user's call handling (request body)."""

    model_config = ConfigDict(extra="forbid")

    call_handling: dict[str, Any] = Field(description="As in the tenant document, whole")
    version: int | None = Field(
        default=None,
        description="The version the change was made from (from the GET); a user changed "
        "since gets 409 and nothing is written. Left out: whatever the version now.",
    )


class HolidayImport(BaseModel):
    """A year's national holidays to add (request body)."""

    year: int = Field(ge=HOLIDAY_YEARS.start, le=HOLIDAY_YEARS.stop - 1, description="e.g. 2027")
    country: str | None = Field(default=None, description="e.g. FR; default: the tenant's")
    user: str | None = Field(
        default=None, description="An extension: the holidays go to its planner special days"
    )


# --- explain a call (provisioning.explain) -------------------------------------------------
class ExplainRequest(BaseModel):
    """A call to explain: nothing is dialled."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    caller: str = Field(
        alias="from", max_length=40, description="An extension of the tenant, or a number"
    )
    to: str = Field(max_length=40, description="What is dialled (from outside: a tenant number)")
    at: str | None = Field(
        default=None,
        max_length=40,
        description="The tenant's wall-clock time, '2026-12-24 12:45' (an hour that comes "
        "twice takes its offset: '2026-10-25 02:30+01:00'); left out: now",
    )
    assume: str | None = Field(
        default=None,
        max_length=400,
        description="Live state assumed, 'EXT=STATE,…' with STATE busy, unregistered, free "
        "(rings unanswered) or answers; left out: the lines' live state",
    )


class ExplainStep(ResponseModel):
    stage: str = Field(description="call, precedence, schedule, forward, member, timing, …")
    rule: str = Field(description="What was weighed, e.g. '3 forward always'")
    applied: bool = Field(description="It decided (or held); false: it did not apply")
    why: str


class ExplainFetch(ResponseModel):
    context: str
    destination: str
    at_seconds: int = Field(description="Seconds into the call when FreeSWITCH fetches it")
    route: str = Field(description="The decision's name (as the call log keeps it)")
    steps: list[ExplainStep]
    does: list[str] = Field(description="What the route does, in order, and how rings end")
    legs: list[ExplainedCall] = Field(
        description="Members' legs a group hands to their own call handling"
    )


class ExplainedCall(ResponseModel):
    caller: str
    dialled: str
    at: str = Field(description="The instant explained, in the tenant's time (ISO 8601)")
    outcome: str = Field(
        description="answered, voicemail, announcement, rejected, busy, ended, queue, "
        "conference, park, setting or other"
    )
    summary: str
    cause: str | None = Field(description="The hangup cause the call ends with, if known")
    answered_by: str | None
    seconds: int = Field(description="Seconds from the first fetch to the last")
    fetches: list[ExplainFetch]


# Every model above whose schema the OpenAPI document publishes (what it references
# pulls in the rest).
RESPONSES: tuple[type[ResponseModel], ...] = (
    Error,
    Invalid,
    TenantList,
    ApplyReport,
    DryRunReport,
    UserList,
    UserView,
    UserSaved,
    NumberList,
    ConferenceList,
    NumberRouting,
    Directory,
    Reminder,
    ReminderList,
    Media,
    MediaList,
    CallPage,
    GroupState,
    GroupList,
    QueueList,
    AgentChange,
    CallHandlingState,
    ExplainedCall,
)
