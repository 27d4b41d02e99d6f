"""The OpenAPI 3.1 description of /api/v1. Schemas come from the document models, so
they cannot drift; the paths are written here and a test checks them against the
routes Flask really serves."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from provisioning.document import NumberDoc, TenantDoc, UserDoc
from provisioning.reminders import ReminderDoc

_REF = "#/components/schemas/{model}"


def _json(schema_name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF.format(model=schema_name)}}}


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": _json(schema)}


_ERRORS = {
    "401": {"description": "No valid API token"},
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


def _item_paths(kind: str, key: dict[str, Any], model: str) -> dict[str, Any]:
    return {
        f"/tenants/{{domain}}/{kind}": {
            "parameters": [_DOMAIN],
            "get": {
                "summary": f"List the tenant's {kind}",
                "responses": {
                    "200": {
                        "description": f"The {kind}",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        kind: {
                                            "type": "array",
                                            "items": {"$ref": _REF.format(model=model)},
                                        }
                                    },
                                }
                            }
                        },
                    },
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


_REMINDER_ID = {
    "name": "reminder_id",
    "in": "path",
    "required": True,
    "description": "The reminder's id",
    "schema": {"type": "integer"},
}
_REMINDER = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "label": {"type": "string"},
        "kind": {"type": "string", "enum": ["once", "working_days", "every_day"]},
        "date": {"type": ["string", "null"], "format": "date"},
        "time": {"type": "string", "description": "HH:MM in the tenant's timezone"},
        "message": {
            "type": ["string", "null"],
            "description": "a recorded announcement's name; null plays the stock prompt",
        },
        "enabled": {"type": "boolean"},
        "next_due_at": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "UTC; null when it will not fire again (or is disabled)",
        },
        "last_fired_at": {"type": ["string", "null"], "format": "date-time"},
    },
}


def _reminder_paths() -> dict[str, Any]:
    base = "/tenants/{domain}/users/{extension}/reminders"
    invalid = {**_ERRORS, "422": _ok("Invalid reminder", "Invalid")}
    return {
        base: {
            "parameters": [_DOMAIN, _EXTENSION],
            "get": {
                "summary": "The user's reminders (wake-up calls)",
                "responses": {
                    "200": {
                        "description": "The reminders",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "reminders": {
                                            "type": "array",
                                            "items": {"$ref": _REF.format(model="Reminder")},
                                        }
                                    },
                                }
                            }
                        },
                    },
                    **_ERRORS,
                },
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


_MEDIA = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["announcement", "music", "ringback"]},
        "name": {"type": "string"},
        "duration_ms": {"type": "integer"},
        "size": {"type": "integer", "description": "bytes stored, every rendition counted"},
        "created_at": {"type": "string", "format": "date-time"},
        "stream": {
            "type": "string",
            "description": "music only: play it as local_stream://<stream>",
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
                "responses": {
                    "200": {
                        "description": "The media",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "media": {
                                            "type": "array",
                                            "items": {"$ref": _REF.format(model="Media")},
                                        }
                                    },
                                }
                            }
                        },
                    },
                    **_ERRORS,
                },
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


_CALL_KINDS = {"type": "string", "enum": ["placed", "received", "missed", "rejected", "forwarded"]}
_CALL = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "call": {"type": "string", "description": "the call's uuid (its first leg's)"},
        "user": {"type": "string", "description": "the extension whose log this entry is"},
        "kind": {
            "type": "string",
            "enum": ["placed", "received", "missed", "rejected", "forwarded"],
        },
        "direction": {"type": "string", "enum": ["outgoing", "incoming"]},
        "peer_number": {
            "type": "string",
            "description": "who was called, or who called: E.164 or an extension; "
            "empty when the caller withheld it",
        },
        "peer_name": {
            "type": "string",
            "description": "the user's contact, else the colleague, else the caller-ID name",
        },
        "started_at": {"type": "string", "format": "date-time"},
        "answered_at": {"type": ["string", "null"], "format": "date-time"},
        "ended_at": {"type": "string", "format": "date-time"},
        "duration": {"type": "integer", "description": "seconds, start to end"},
        "billsec": {"type": "integer", "description": "seconds talked"},
        "hangup_cause": {"type": "string"},
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
    page = {
        "type": "object",
        "properties": {
            "total": {"type": "integer", "description": "entries matching, all pages"},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
            "calls": {"type": "array", "items": {"$ref": _REF.format(model="Call")}},
        },
    }
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
                    _query("kind", "only entries of this kind", _CALL_KINDS),
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
                            "application/json": {"schema": page},
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    "400": _ok("A malformed filter", "Error"),
                    **_ERRORS,
                },
            },
        }
    }


def openapi_document() -> dict[str, Any]:
    _, defs = models_json_schema(
        [(m, "validation") for m in (TenantDoc, UserDoc, NumberDoc, ReminderDoc)], ref_template=_REF
    )
    schemas: dict[str, Any] = dict(defs["$defs"])
    schemas["Error"] = {"type": "object", "properties": {"error": {"type": "string"}}}
    schemas["Invalid"] = {
        "type": "object",
        "properties": {
            "error": {"type": "string"},
            "problems": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "path": {"type": "string", "description": "e.g. users[2].extension"},
                        "message": {"type": "string"},
                    },
                },
            },
        },
    }
    schemas["ApplyReport"] = {
        "type": "object",
        "properties": {
            "dry_run": {"type": "boolean"},
            **{
                k: {"type": "array", "items": {"type": "string"}}
                for k in ("created", "updated", "deleted")
            },
        },
    }
    schemas["Reminder"] = _REMINDER
    schemas["Media"] = _MEDIA
    schemas["Call"] = _CALL
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Centrex provisioning API",
            "version": "1",
            "description": "Tenants described by one document (the same as `centrex apply`), "
            "and their users and numbers one by one. Every change validates the whole "
            "tenant before anything is written.",
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
                        "200": {
                            "description": "Their domains",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "tenants": {
                                                "type": "array",
                                                "items": {"type": "string"},
                                            }
                                        },
                                    }
                                }
                            },
                        },
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
                            "description": "Validate and report, write nothing",
                        }
                    ],
                    "requestBody": {"required": True, "content": _json("TenantDoc")},
                    "responses": {"200": _ok("What changed", "ApplyReport"), **_APPLY_ERRORS},
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
            **_item_paths("users", _EXTENSION, "UserDoc"),
            **_item_paths("numbers", _NUMBER, "NumberDoc"),
            "/tenants/{domain}/holidays/import": {
                "parameters": [_DOMAIN],
                "post": {
                    "summary": "Add a year's national holidays (Easter Monday and other movable "
                    "feasts included) to the tenant's holidays, or to a user's planner "
                    "special days",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["year"],
                                    "properties": {
                                        "year": {"type": "integer"},
                                        "country": {
                                            "type": "string",
                                            "description": "default: the tenant's",
                                        },
                                        "user": {"type": "string", "description": "an extension"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {"200": _ok("What changed", "ApplyReport"), **_APPLY_ERRORS},
                },
            },
            **_reminder_paths(),
            **_media_paths(),
            **_calls_paths(),
            "/schema/tenant.json": {
                "get": {
                    "summary": "JSON Schema of the tenant document",
                    "security": [],
                    "responses": {"200": {"description": "The schema"}},
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "This document"}},
                }
            },
        },
    }
