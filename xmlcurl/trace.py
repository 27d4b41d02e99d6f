"""What the compiler checked on its way to a decision, noted as it decides. Pure.

The dialplan compiler takes an optional `Trace`; each rule it weighs notes whether it
applied and why (a precedence row of a line's call handling, a schedule or holiday in
force, a group member skipped, a forward not followed, a timing). FreeSWITCH's own
fetches pass `SILENT`, which keeps nothing: the same functions decide for the switch
and explain to a person (`provisioning.explain`), never a second implementation.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """One thing the compiler weighed: `stage` says which part of it (`call`,
    `precedence`, `schedule`, `forward`, `group`, `member`, `queue`, `number`,
    `timing`), `rule` what was weighed, `applied` whether it decided or held."""

    stage: str
    rule: str
    applied: bool
    why: str = ""


class Trace:
    """Collects steps in the order the compiler weighed them."""

    # Whether notes are kept: a compiler may skip building a costly reason when not.
    on = True

    def __init__(self) -> None:
        self.steps: list[Step] = []

    def note(self, stage: str, rule: str, applied: bool, why: str = "") -> None:
        self.steps.append(Step(stage, rule, applied, why))


class _Silent(Trace):
    on = False

    def note(self, stage: str, rule: str, applied: bool, why: str = "") -> None:
        pass


# Every fetch FreeSWITCH makes: nothing kept, nothing built.
SILENT: Trace = _Silent()
