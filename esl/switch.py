"""What the rest of Centrex may ask of a connected FreeSWITCH node."""

from __future__ import annotations

from typing import Protocol


class SwitchError(RuntimeError):
    """The node did not answer: not connected, dropped, or no reply in time."""


class Switch(Protocol):
    @property
    def node(self) -> str:
        """The node's address as configured ("host:port")."""
        ...

    def api(self, command: str, timeout: float = 5.0) -> str:
        """Run an API command (`api <command>`) and return its output; SwitchError if none."""
        ...

    def sendevent(self, name: str, headers: dict[str, str]) -> None:
        """Fire an event on the node (`sendevent <name>`); SwitchError if not sent."""
        ...
