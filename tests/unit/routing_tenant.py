"""A tenant document with every kind of tenant routing, for the pure tests of number
routes, speed dials and the summary (tests build on it, nothing is stored)."""

from __future__ import annotations

import copy
from typing import Any

from provisioning.document import TenantDoc, parse_document

DOMAIN = "acme.example"
MAIN = "+33184800100"

RAW: dict[str, Any] = {
    "domain": DOMAIN,
    "name": "ACME",
    "timezone": "Europe/Paris",
    "country": "FR",
    "main_number": MAIN,
    "gateway": {"proxy": "sip.carrier.example"},
    "schedules": [
        {"name": "Late", **{day: ["22:00-24:00"] for day in ("mon", "tue", "sun")}},
        {"name": "Early", **{day: ["00:00-06:00"] for day in ("mon", "sat", "sun")}},
        {"name": "closed", "opposite_of": "office hours"},
    ],
    "holidays": [
        {"name": "Winter closing", "from": "2026-12-24", "to": "2027-01-03"},
        {"name": "Labour day", "date": "2026-05-01"},
    ],
    "numbers": [
        {
            "number": MAIN,
            "label": "Main",
            "routes": [
                {"schedule": "office hours", "to": {"group": "Sales"}},
                {"schedule": "Late", "to": {"user": "1000"}},
                {"schedule": "Early", "to": {"voicemail": "1001"}},
            ],
            "otherwise": {"number": "06 12 34 56 78"},
        },
        {"number": "+33184800101", "user": "1001"},
        {"number": "+33184800102"},
    ],
    "users": [
        {
            "extension": "1000",
            "name": "Reception",
            "sip_password": "Recept1on-Demo-Pass",
            "public_number": MAIN,
            "voicemail": {"pin": "190872"},
        },
        {
            "extension": "1001",
            "name": "Alice O'Hara",
            "sip_password": "Alice-Demo-Pass-2026",
            "public_number": "+33184800101",
            "voicemail": {"pin": "270593"},
            "allowed_destinations": ["national", "premium"],
            "call_handling": {"caller_id": {"withhold": True}},
        },
    ],
    "groups": [
        {
            "name": "Sales",
            "extension": "2000",
            "short_number": "200",
            "members": ["1000", "1001"],
            "distribution": "cyclic",
            "rings": 3,
            "cycles": 2,
            "overflow": {"queue": "Support"},
        }
    ],
    "queues": [
        {"name": "Support", "extension": "3000", "agents": ["1001"], "max_wait": 120},
    ],
    "speed_dials": [
        {"code": "550", "number": "09 70 71 10 58", "name": "Supplier"},
        {"code": "551", "number": "08 99 12 34 56", "name": "Hotline"},
    ],
    "directory": [{"name": "Plumber & Sons", "number": "01 45 45 45 45", "code": "3435"}],
}


def tenant_doc(**changes: Any) -> TenantDoc:
    raw = copy.deepcopy(RAW)
    raw.update(changes)
    return parse_document(raw)
