"""The OpenAPI 3.1 description of /api/v1. Schemas come from the document models and
the response models the views serialise through (`provisioning.api_models`), so they
cannot drift; the paths are written here, and a test checks them against the routes
Flask really serves and every documented answer against what its route returns."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from provisioning import api_models
from provisioning.document import NumberDoc, TenantDoc, UserDoc
from provisioning.reminders import ReminderDoc

_REF = "#/components/schemas/{model}"


def _json(schema_name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF.format(model=schema_name)}}}


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": _json(schema)}


def _object(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }


_ERRORS = {
    "401": _ok("No valid API token", "Error"),
    "404": _ok("No such tenant or item (or not visible to this token)", "Error"),
}
_APPLY_ERRORS = {**_ERRORS, "422": _ok("The resulting document is invalid", "Invalid")}


def _param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


_DOMAIN = _param("domain", "The tenant's SIP domain")
_EXTENSION = _param("extension", "The user's extension")
_NUMBER = _param("number", "A public number, E.164 (URL-encode the +) or national")


def _item_paths(kind: str, key: dict[str, Any], model: str, listed: str) -> dict[str, Any]:
    return {
        f"/tenants/{{domain}}/{kind}": {
            "parameters": [_DOMAIN],
            "get": {
                "summary": f"List the tenant's {kind}",
                "responses": {
                    "200": _ok(f"The {kind}", listed),
                    **_ERRORS,
                },
            },
        },
        f"/tenants/{{domain}}/{kind}/{{{key['name']}}}": {
            "parameters": [_DOMAIN, key],
            "get": {
                "summary": f"One of the tenant's {kind}",
                "responses": {"200": _ok("The item", model), **_ERRORS},
            },
            "put": {
                "summary": f"Create or replace one of the tenant's {kind}",
                "requestBody": {"required": True, "content": _json(model)},
                "responses": {"200": _ok("What changed", "ApplyReport"), **_APPLY_ERRORS},
            },
            "delete": {
                "summary": f"Remove one of the tenant's {kind}",
                "responses": {"200": _ok("What changed", "ApplyReport"), **_APPLY_ERRORS},
            },
        },
    }


def _user_paths() -> dict[str, Any]:
    """The users: listed and removed through the document; one read with its version,
    replaced or patched alone."""
    paths = _item_paths("users", _EXTENSION, "UserDoc", "UserList")
    item = paths["/tenants/{domain}/users/{extension}"]
    stale = _ok("The user changed since that version (or was removed): nothing written", "Error")
    saved = _ok("What changed, and the user's version now", "UserSaved")
    item["get"] = {
        "summary": "One user, and the version they are at",
        "responses": {"200": _ok("The user", "UserView"), **_ERRORS},
    }
    item["put"] = {
        "summary": "Create or replace one user: checked against the tenant with the "
        "document's rules (errors name the user's own fields, voicemail.pin), only this "
        "user written; give the version it was made from",
        "requestBody": {"required": True, "content": _json("UserChange")},
        "responses": {"200": saved, "409": stale, **_APPLY_ERRORS},
    }
    item["patch"] = {
        "summary": "Change one user by a JSON merge patch (RFC 7396) of what the GET gives: "
        "members replace, null removes (the default again), objects merge, lists are "
        "replaced whole; checked and written as PUT",
        "requestBody": {
            "required": True,
            "content": {
                "application/merge-patch+json": {
                    "schema": {
                        "type": "object",
                        "description": "Any of the user's fields; `version`: the version "
                        "the patch was made from (left out: whatever the version now)",
                    }
                }
            },
        },
        "responses": {
            "200": saved,
            "409": stale,
            "415": _ok("Not an application/merge-patch+json body", "Error"),
            **_APPLY_ERRORS,
        },
    }
    return paths


_ROOM = _param("name", "The conference room's name (any case)")

_REMINDER_ID = {
    "name": "reminder_id",
    "in": "path",
    "required": True,
    "description": "The reminder's id",
    "schema": {"type": "integer"},
}


def _call_handling_paths() -> dict[str, Any]:
    path = "/tenants/{domain}/users/{extension}/call-handling"
    return {
        path: {
            "parameters": [_DOMAIN, _EXTENSION],
            "get": {
                "summary": "The user's call handling, and its version",
                "responses": {"200": _ok("The call handling", "CallHandlingState"), **_ERRORS},
            },
            "put": {
                "summary": "Replace the user's call handling alone: checked against the tenant "
                "as the document is, only this user written (errors name its own fields, "
                "call_handling.forward_always.to); give the version it was made from",
                "requestBody": {"required": True, "content": _json("CallHandlingChange")},
                "responses": {
                    "200": _ok("The call handling now", "CallHandlingState"),
                    "409": _ok("The user changed since that version: nothing written", "Error"),
                    **_APPLY_ERRORS,
                },
            },
        }
    }


def _reminder_paths() -> dict[str, Any]:
    base = "/tenants/{domain}/users/{extension}/reminders"
    invalid = {**_ERRORS, "422": _ok("Invalid reminder", "Invalid")}
    return {
        base: {
            "parameters": [_DOMAIN, _EXTENSION],
            "get": {
                "summary": "The user's reminders (wake-up calls)",
                "responses": {"200": _ok("The reminders", "ReminderList"), **_ERRORS},
            },
            "post": {
                "summary": "Add a reminder: once (date and time), every working day (Monday "
                "to Friday except the tenant's holidays) or every day",
                "requestBody": {"required": True, "content": _json("ReminderDoc")},
                "responses": {"201": _ok("The reminder", "Reminder"), **invalid},
            },
        },
        base + "/{reminder_id}": {
            "parameters": [_DOMAIN, _EXTENSION, _REMINDER_ID],
            "get": {
                "summary": "One reminder",
                "responses": {"200": _ok("The reminder", "Reminder"), **_ERRORS},
            },
            "put": {
                "summary": "Replace a reminder",
                "requestBody": {"required": True, "content": _json("ReminderDoc")},
                "responses": {"200": _ok("The reminder", "Reminder"), **invalid},
            },
            "delete": {
                "summary": "Remove a reminder",
                "responses": {"204": {"description": "Removed"}, **_ERRORS},
            },
        },
    }


def _media_paths() -> dict[str, Any]:
    kind = _param("kind", "announcement, music or ringback")
    name = _param("name", "1 to 32 of a-z 0-9 - _, starting with a letter or digit")
    upload_errors = {
        **_ERRORS,
        "409": _ok("The tenant already has 10 media of this kind", "Error"),
        "413": _ok("Larger than 4 MiB", "Error"),
        "415": _ok("Neither multipart/form-data nor an audio/* body", "Error"),
        "422": _ok("Not WAV or MP3, damaged, empty, too long, or a bad kind or name", "Error"),
    }
    audio = {"schema": {"type": "string", "format": "binary"}}
    return {
        "/tenants/{domain}/media": {
            "parameters": [_DOMAIN],
            "get": {
                "summary": "The tenant's announcements, hold music and ringback tones",
                "responses": {"200": _ok("The media", "MediaList"), **_ERRORS},
            },
        },
        "/tenants/{domain}/media/{kind}/{name}": {
            "parameters": [_DOMAIN, kind, name],
            "post": {
                "summary": "Upload or replace a media: WAV or MP3 (recognised from its content), "
                "at most 4 MiB and 10 minutes; stored as 16-bit mono WAV at 8 and 16 kHz",
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {"file": {"type": "string", "format": "binary"}},
                            }
                        },
                        "audio/wav": audio,
                        "audio/mpeg": audio,
                    },
                },
                "responses": {
                    "200": _ok("Replaced", "Media"),
                    "201": _ok("Created", "Media"),
                    **upload_errors,
                },
            },
            "delete": {
                "summary": "Remove a media and its files",
                "responses": {"204": {"description": "Removed"}, **_ERRORS},
            },
        },
    }


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _calls_paths() -> dict[str, Any]:
    return {
        "/tenants/{domain}/calls": {
            "parameters": [_DOMAIN],
            "get": {
                "summary": "The call log of the tenant, or of one user, latest first",
                "parameters": [
                    _query("user", "only this extension's log", {"type": "string"}),
                    _query(
                        "month",
                        "YYYY-MM, in the tenant's timezone",
                        {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                    ),
                    _query(
                        "kind", "only entries of this kind", {"$ref": _REF.format(model="CallKind")}
                    ),
                    _query(
                        "q",
                        "the peer's number or name holds this (contacts' names in one "
                        "user's log, colleagues' names in any)",
                        {"type": "string"},
                    ),
                    _query(
                        "limit",
                        "entries per page",
                        {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                    ),
                    _query(
                        "offset", "entries skipped", {"type": "integer", "minimum": 0, "default": 0}
                    ),
                    _query(
                        "format",
                        "csv: every matching entry as a CSV attachment (no paging)",
                        {"type": "string", "enum": ["json", "csv"], "default": "json"},
                    ),
                ],
                "responses": {
                    "200": {
                        "description": "One page of entries, or the CSV file",
                        "content": {
                            **_json("CallPage"),
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    "400": _ok("A malformed filter", "Error"),
                    **_ERRORS,
                },
            },
        }
    }


def _tenant_view_paths() -> dict[str, Any]:
    """Read-only views: a number's routing now, the directory, the summary; and the
    CSV holiday import."""
    text = {"schema": {"type": "string"}}
    return {
        "/tenants/{domain}/numbers/{number}/routing": {
            "parameters": [_DOMAIN, _NUMBER],
            "get": {
                "summary": "The number's routes by schedule and which one takes calls now",
                "responses": {"200": _ok("The routing", "NumberRouting"), **_ERRORS},
            },
        },
        "/tenants/{domain}/directory": {
            "parameters": [_DOMAIN],
            "get": {
                "summary": "The company directory: users, and external contacts with their "
                "short codes (read-only)",
                "responses": {"200": _ok("The directory", "Directory"), **_ERRORS},
            },
        },
        "/tenants/{domain}/summary": {
            "parameters": [_DOMAIN],
            "get": {
                "summary": "Every rule in force, printable: numbers, schedules, holidays, "
                "groups, queues, users, speed dials, directory; what applies now is marked",
                "parameters": [
                    _query(
                        "format",
                        "default: from the Accept header (HTML unless text/plain is preferred)",
                        {"type": "string", "enum": ["html", "text"]},
                    )
                ],
                "responses": {
                    "200": {
                        "description": "A standalone HTML page, or plain text",
                        "content": {"text/html": text, "text/plain": text},
                    },
                    "422": _ok("An unknown format", "Invalid"),
                    **_ERRORS,
                },
            },
        },
        "/tenants/{domain}/holidays/csv": {
            "parameters": [_DOMAIN],
            "post": {
                "summary": "Add holidays from a CSV file: a header row `date,name` or "
                "`from,to,name` (`,` or `;`), dates YYYY-MM-DD or DD/MM/YYYY. Any bad row: "
                "every one reported with its line number (path `line N`), nothing written",
                "requestBody": {"required": True, "content": {"text/csv": text}},
                "responses": {
                    "200": _ok("What changed", "ApplyReport"),
                    "415": _ok("Not a text/csv body", "Error"),
                    **_APPLY_ERRORS,
                },
            },
        },
    }


def _explain_paths() -> dict[str, Any]:
    return {
        "/tenants/{domain}/explain": {
            "parameters": [_DOMAIN],
            "post": {
                "summary": "Explain a call before it happens: built as FreeSWITCH would fetch "
                "it, run through the real loader and compiler, and followed through its "
                "forwards and overflows until it ends; each fetch with the rules weighed "
                "(precedence rows, schedules and holidays, group members, timings). Nothing "
                "is dialled or written",
                "requestBody": {"required": True, "content": _json("ExplainRequest")},
                "responses": {
                    "200": _ok("The call, fetch by fetch, and how it ends", "ExplainedCall"),
                    "422": _ok(
                        "Not a call to explain: an unknown caller, a number of another "
                        "tenant, a time the clocks skip or that comes twice, a malformed "
                        "assumption",
                        "Invalid",
                    ),
                    **_ERRORS,
                },
            },
        }
    }


def _group_paths() -> dict[str, Any]:
    name = _param("name", "The group's name (any case)")
    state = _ok("The group now", "GroupState")

    def post(summary: str) -> dict[str, Any]:
        return {"post": {"summary": summary, "responses": {"200": state, **_ERRORS}}}

    member = "/tenants/{domain}/groups/{name}/members/{extension}"
    return {
        "/tenants/{domain}/groups": {
            "parameters": [_DOMAIN],
            "get": {
                "summary": "The tenant's hunt groups with their members' logged-in state",
                "responses": {"200": _ok("The groups", "GroupList"), **_ERRORS},
            },
        },
        f"{member}/login": {
            "parameters": [_DOMAIN, name, _EXTENSION],
            **post("Log a member in: the group's calls ring them"),
        },
        f"{member}/logout": {
            "parameters": [_DOMAIN, name, _EXTENSION],
            **post("Log a member out: the group's calls skip them"),
        },
        "/tenants/{domain}/groups/{name}/logout-all": {
            "parameters": [_DOMAIN, name],
            **post("Log every member out: the group's calls go to its overflow"),
        },
    }


def _queue_paths() -> dict[str, Any]:
    """Queues and their agents logging in and out (pushed to FreeSWITCH by the listener)."""
    base = "/tenants/{domain}/queues/{queue}/agents/{extension}"
    parameters = [_DOMAIN, _param("queue", "The queue's name"), _EXTENSION]

    def change(what: str) -> dict[str, Any]:
        return {
            "parameters": parameters,
            "post": {
                "summary": f"{what}: written at once, on every FreeSWITCH node within seconds",
                "responses": {"200": _ok("The agent's state", "AgentChange"), **_ERRORS},
            },
        }

    return {
        "/tenants/{domain}/queues": {
            "parameters": [_DOMAIN],
            "get": {
                "summary": "The tenant's queues, their agents and who is logged in",
                "responses": {"200": _ok("The queues", "QueueList"), **_ERRORS},
            },
        },
        base + "/login": change("Log the agent in to the queue"),
        base + "/logout": change("Log the agent out of the queue"),
    }


def openapi_document() -> dict[str, Any]:
    # Requests are read into the document models; answers are written from the
    # response models (which reuse the document models for the document's parts).
    _, defs = models_json_schema(
        [
            (m, "validation")
            for m in (
                TenantDoc,
                UserDoc,
                NumberDoc,
                ReminderDoc,
                api_models.CallHandlingChange,
                api_models.UserChange,
                api_models.ExplainRequest,
                api_models.HolidayImport,
            )
        ]
        + [(m, "serialization") for m in api_models.RESPONSES],
        ref_template=_REF,
    )
    schemas: dict[str, Any] = dict(defs["$defs"])
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Centrex provisioning API",
            "version": "1",
            "description": "Tenants described by one document (the same as `centrex apply`), "
            "and their users and numbers one by one. A change of the document validates the whole "
            "tenant before anything is written; a change of one user (PUT, PATCH) is "
            "checked against the tenant with the document's rules and writes that user "
            "alone, from the version it was made from.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"token": []}],
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "paths": {
            "/tenants": {
                "get": {
                    "summary": "The tenants this token may see",
                    "responses": {
                        "200": _ok("Their domains", "TenantList"),
                        "401": _ERRORS["401"],
                    },
                }
            },
            "/tenants/{domain}": {
                "parameters": [_DOMAIN],
                "get": {
                    "summary": "Export the tenant document",
                    "responses": {"200": _ok("The document", "TenantDoc"), **_ERRORS},
                },
                "put": {
                    "summary": "Apply a tenant document (create or update; what it leaves "
                    "out is removed)",
                    "parameters": [
                        {
                            "name": "dry_run",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "boolean"},
                            "description": "Validate and report, write nothing; "
                            "with the routing effects (calls that change)",
                        }
                    ],
                    "requestBody": {"required": True, "content": _json("TenantDoc")},
                    "responses": {
                        "200": _ok("What changed (a dry run: and its routing)", "DryRunReport"),
                        **_APPLY_ERRORS,
                    },
                },
                "delete": {
                    "summary": "Delete the tenant and everything it owns",
                    "responses": {
                        "204": {"description": "Deleted"},
                        "403": _ok("Needs an all-tenants token", "Error"),
                        **_ERRORS,
                    },
                },
            },
            **_user_paths(),
            **_item_paths("numbers", _NUMBER, "NumberDoc", "NumberList"),
            **_item_paths("conferences", _ROOM, "ConferenceDoc", "ConferenceList"),
            "/tenants/{domain}/holidays/import": {
                "parameters": [_DOMAIN],
                "post": {
                    "summary": "Add a year's national holidays (Easter Monday and other movable "
                    "feasts included) to the tenant's holidays, or to a user's planner "
                    "special days",
                    "requestBody": {"required": True, "content": _json("HolidayImport")},
                    "responses": {"200": _ok("What changed", "ApplyReport"), **_APPLY_ERRORS},
                },
            },
            **_tenant_view_paths(),
            **_explain_paths(),
            **_call_handling_paths(),
            **_reminder_paths(),
            **_media_paths(),
            **_calls_paths(),
            **_queue_paths(),
            **_group_paths(),
            "/schema/tenant.json": {
                "get": {
                    "summary": "JSON Schema of the tenant document",
                    "security": [],
                    "responses": {"200": _object("The schema")},
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": _object("This document")},
                }
            },
        },
    }
