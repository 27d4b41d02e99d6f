"""The panel's concepts, and the nav built from them.

Each concept (`admin/<concept>/`: `views.py`, `forms.py`, `templates/<concept>/`) is one
blueprint nested in the panel's, and says here which entries it puts in the nav: a label
(`lazy_gettext`, read in the user's language when shown), the endpoint it opens, and who
sees it. `admin.panel` registers the concepts, in the order of their entries.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, url_for

from provisioning.accounts import Account


class Audience(enum.Enum):
    EVERYONE = "everyone"
    ADMINS = "admins"  # tenant admins (`panel_admin: true`)


@dataclass(frozen=True)
class NavEntry:
    label: Any  # a lazy_gettext string
    endpoint: str
    audience: Audience = Audience.EVERYONE
    # The page of a line: the entry opens the user's own.
    own_line: bool = False
    # Blueprints whose pages are this entry's too (a line's tabs): the entry is current there.
    also_current: tuple[str, ...] = ()

    def shown_to(self, account: Account) -> bool:
        return self.audience is Audience.EVERYONE or account.admin


@dataclass(frozen=True)
class NavLink:
    """A nav entry as one user sees it on one page."""

    label: str
    url: str
    current: bool


@dataclass(frozen=True)
class Concept:
    blueprint: Blueprint
    nav: tuple[NavEntry, ...] = ()


class Concepts:
    def __init__(self, *concepts: Concept) -> None:
        self.all = concepts

    def nav(
        self, account: Account, endpoint: str | None = None, args: Mapping[str, Any] | None = None
    ) -> list[NavLink]:
        """The entries `account` sees, `current` on the one of the page (`endpoint` with
        its `args`)."""
        links = []
        for concept in self.all:
            for entry in concept.nav:
                if not entry.shown_to(account):
                    continue
                wanted: dict[str, Any] = {"extension": account.extension} if entry.own_line else {}
                here = endpoint == entry.endpoint or (
                    endpoint is not None and endpoint.rpartition(".")[0] in entry.also_current
                )
                current = here and all((args or {}).get(k) == v for k, v in wanted.items())
                links.append(NavLink(str(entry.label), url_for(entry.endpoint, **wanted), current))
        return links
