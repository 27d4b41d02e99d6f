"""What the compiler checked on its way to a decision, noted as it decides. Pure.

The dialplan compiler takes an optional `Trace`; each rule it weighs notes whether it
applied and why (a precedence row of a line's call handling, a schedule or holiday in
force, a group member skipped, a forward not followed, a timing). FreeSWITCH's own
fetches pass `SILENT`, which keeps nothing: the same functions decide for the switch
and explain to a person (`provisioning.explain`), never a second implementation.

A rule and its reason are `Phrase`s (and so, in `provisioning.explain`, what a fetch
does and how the call ends), data rather than sentences: a stable code, the
English template the CLI and the REST API show, and the values it names (a value may be
a phrase itself: a weekday, a kind of forward). Each surface words them in its own
language in one place (the panel: `admin.explain.words`), as `provisioning.errors` does
for refusals. To add one: `phrase("code", "template with %(value)s", value=…)` with a
literal code and template where the rule is weighed, and the same code in the panel's
catalogue with its French (`tests/unit/test_trace_words.py` holds them together).
"""

from __future__ import annotations

from dataclasses import dataclass

Value = str | int


@dataclass(frozen=True)
class Phrase:
    """A rule weighed or a reason, as a code, its English template and its values."""

    code: str
    template: str
    values: tuple[tuple[str, Value | Phrase], ...] = ()

    def __str__(self) -> str:
        return self.template % {
            name: str(v) if isinstance(v, Phrase) else v for name, v in self.values
        }


def phrase(code: str, template: str, /, **values: Value | Phrase) -> Phrase:
    return Phrase(code, template, tuple(values.items()))


@dataclass(frozen=True)
class Step:
    """One thing the compiler weighed: `stage` says which part of it (`call`,
    `precedence`, `schedule`, `forward`, `group`, `member`, `queue`, `number`,
    `timing`), `what` the rule weighed, `applied` whether it decided or held, and
    `because` why (None: it goes without saying)."""

    stage: str
    what: Phrase
    applied: bool
    because: Phrase | None = None

    @property
    def rule(self) -> str:
        return str(self.what)

    @property
    def why(self) -> str:
        return "" if self.because is None else str(self.because)


class Trace:
    """Collects steps in the order the compiler weighed them."""

    # Whether notes are kept: a compiler may skip building a costly reason when not.
    on = True

    def __init__(self) -> None:
        self.steps: list[Step] = []

    def note(self, stage: str, what: Phrase, applied: bool, because: Phrase | None = None) -> None:
        self.steps.append(Step(stage, what, applied, because))


class _Silent(Trace):
    on = False

    def note(self, stage: str, what: Phrase, applied: bool, because: Phrase | None = None) -> None:
        pass


# Every fetch FreeSWITCH makes: nothing kept, nothing built.
SILENT: Trace = _Silent()
