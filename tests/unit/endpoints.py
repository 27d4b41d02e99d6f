"""Rings as the routing tests read them: who is rung and how, without what each line's
legs carry (`LineLeg`, and whether the caller's record reports the ring: the
renderer's and the ring's own tests check them)."""

from __future__ import annotations

from dataclasses import replace

from xmlcurl.decisions import Action, Ring, UserEndpoint


def without_legs(ring: Ring) -> Ring:
    return replace(
        ring,
        endpoints=tuple(
            replace(e, leg=None, reported_by_caller=False) if isinstance(e, UserEndpoint) else e
            for e in ring.endpoints
        ),
    )


def actions_without_legs(actions: tuple[Action, ...]) -> tuple[Action, ...]:
    return tuple(without_legs(a) if isinstance(a, Ring) else a for a in actions)
