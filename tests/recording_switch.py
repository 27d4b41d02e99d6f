"""A `Switch` for tests: records the API commands it is sent and answers background
jobs as FreeSWITCH does (`+OK Job-UUID: <the job asked for>`)."""

from __future__ import annotations

import threading

from esl.switch import SwitchError


class RecordingSwitch:
    """A connected node. `failures` makes that many next commands raise SwitchError (a
    dropped socket, a node that does not answer in time); `reply` replaces the answer."""

    def __init__(self, node: str = "fs1.example:8021", failures: int = 0, reply: str = "") -> None:
        self.node = node
        self.commands: list[str] = []
        self.failures = failures
        self.reply = reply
        self._lock = threading.Lock()

    def api(self, command: str, timeout: float = 5.0) -> str:
        with self._lock:
            self.commands.append(command)
            if self.failures:
                self.failures -= 1
                raise SwitchError(f"{self.node} is not connected")
        if self.reply:
            return self.reply
        verb, _, rest = command.partition(" ")
        if verb == "bgapi" and rest.startswith("uuid:"):
            return f"+OK Job-UUID: {rest.split(' ', 1)[0][len('uuid:') :]}\n"
        return "-ERR unexpected command\n"

    def sendevent(self, name: str, headers: dict[str, str]) -> None:
        raise SwitchError("no event expected")
