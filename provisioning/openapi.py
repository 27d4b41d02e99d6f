"""The OpenAPI 3.1 description of /api/v1. Schemas come from the document models, so
they cannot drift; the paths are written here and a test checks them against the
routes Flask really serves."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from provisioning.document import NumberDoc, TenantDoc, UserDoc

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


def openapi_document() -> dict[str, Any]:
    _, defs = models_json_schema(
        [(m, "validation") for m in (TenantDoc, UserDoc, NumberDoc)], ref_template=_REF
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
