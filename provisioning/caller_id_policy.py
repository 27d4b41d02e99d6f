"""The tenant's outgoing caller ID policy: which number users' outside calls present,
set by the tenant for chosen users and for the members of chosen groups (operator
guide: "Affichage des numéros pour les appels sortants" — e.g. every member of the
sales group presents the sales number, not their direct line).

Pure: the document's rules, their checks, and what they make of each user. A user
named in a rule is ruled by it; else the first rule naming one of the user's groups
(in the document's order). The user's own choice (`call_handling.caller_id`) still
comes first: withholding their number, or one of the tenant's numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pydantic import BaseModel, ConfigDict, Field

# What a rule presents, besides one of the tenant's numbers (E.164).
OWN = "own"  # the user's direct number (else the tenant's main number)
MAIN = "main"  # the tenant's main number
WITHHELD = "withheld"  # no number (CLIR); emergency calls still get the real one
KEYWORDS = (OWN, MAIN, WITHHELD)


class OutgoingCallerId(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    present: str = Field(
        description="own (the user's direct number), main (the tenant's main number), "
        "withheld, or one of the tenant's numbers"
    )
    users: list[str] = Field(default_factory=list, description="Extensions it applies to")
    groups: list[str] = Field(
        default_factory=list, description="Hunt groups (names) whose members it applies to"
    )


def check_outgoing_caller_ids(
    rules: list[OutgoingCallerId],
    *,
    read_number: Callable[[str], str],
    numbers: Iterable[str],
    main_number: str | None,
    users: set[str],
    groups: set[str],
    fail: Callable[[str, str], None],
) -> None:
    """In canonical form (numbers E.164); `read_number` raises ValueError on a bad one;
    `groups` are case-folded names."""
    tenant_numbers = set(numbers)
    ruled: dict[str, int] = {}
    for i, rule in enumerate(rules):
        path = f"outgoing_caller_ids[{i}]"
        if rule.present not in KEYWORDS:
            try:
                rule.present = read_number(rule.present)
            except ValueError as exc:
                fail(f"{path}.present", str(exc))
            else:
                if rule.present not in tenant_numbers:
                    fail(f"{path}.present", "must be own, main, withheld or a tenant's number")
        elif rule.present == MAIN and main_number is None:
            fail(f"{path}.present", "the tenant has no main_number")
        if not rule.users and not rule.groups:
            fail(path, "names no user and no group")
        for k, extension in enumerate(rule.users):
            if extension not in users:
                fail(f"{path}.users[{k}]", f"no user has extension {extension}")
            elif extension in ruled and ruled[extension] != i:
                fail(f"{path}.users[{k}]", f"{extension} is already in rule {ruled[extension]}")
            ruled.setdefault(extension, i)
        for k, name in enumerate(rule.groups):
            if name.casefold() not in groups:
                fail(f"{path}.groups[{k}]", f"no group is named {name!r}")


def policy_by_extension(
    rules: list[OutgoingCallerId], members: dict[str, list[str]]
) -> dict[str, str]:
    """Each ruled user's `present`: named directly, else through their first group in
    rule order. `members`: case-folded group name → its members' extensions."""
    policy: dict[str, str] = {}
    for rule in rules:
        for name in rule.groups:
            for extension in members.get(name.casefold(), ()):
                policy.setdefault(extension, rule.present)
    for rule in rules:
        for extension in rule.users:
            policy[extension] = rule.present
    return policy


def presented(
    *,
    chosen: str | None,
    policy: str | None,
    public_number: str | None,
    main_number: str | None,
) -> str | None:
    """The number a line presents outside (None: none to present): the user's chosen
    one, else the policy's, else the line's own, else the tenant's main number. A
    withheld policy still has a number for the carrier (P-Asserted-Identity)."""
    if chosen:
        return chosen
    if policy == MAIN:
        return main_number
    if policy is not None and policy not in KEYWORDS:
        return policy
    return public_number or main_number


def withheld_by_policy(chosen: str | None, policy: str | None) -> bool:
    """The policy withholds the number, unless the user chose one to present."""
    return policy == WITHHELD and not chosen
