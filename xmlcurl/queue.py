"""A call to a queue (ACD): wait in mod_callcenter's queue, then the overflow.

Pure. The caller is answered and joins the queue with `callcenter <queue>`, hearing
the queue's hold music (mod_callcenter plays its `moh-sound`; `hold_music` is the same
music when an agent puts the call on hold). The application returns when the caller
leaves the queue: because an agent took the call — `hangup_after_bridge` then ends the
call with the conversation, so nothing after it runs — or because no agent was logged
in (mod_callcenter's NO_AGENT_TIMEOUT), or the queue is unknown to the node. In those
cases the actions after it run: the queue's overflow, through `xmlcurl.destinations`.

`max_wait` is kept by the route, not by mod_callcenter alone: mod_callcenter checks its
`max-wait-time` but, while an agent's phone rings, waits for the offer to end (up to
the agent's whole ring time). So the route schedules a transfer of the caller back to
the queue's number at `max_wait`, marked as a wait that is over; that hunt is the
overflow. An agent who answers cancels the transfer from their own leg (see
`QueueWaitLimit`); a caller who leaves the queue otherwise cancels it on the way out.
"""

from __future__ import annotations

from xmlcurl import fsnames as fs
from xmlcurl import handover
from xmlcurl.callcenter import hold_music, queue_name
from xmlcurl.decisions import (
    Action,
    Answer,
    CancelWaitLimit,
    JoinQueue,
    QueueWaitLimit,
    Route,
    SetMedia,
    SetVariable,
)
from xmlcurl.destinations import Handoff, hand_off
from xmlcurl.inputs import QueueData, TenantData
from xmlcurl.request import CallRequest
from xmlcurl.safe import UUID
from xmlcurl.trace import SILENT, Trace, phrase


def wait_is_over(request: CallRequest) -> bool:
    """This hunt is the queue's scheduled transfer at max_wait, not a new caller."""
    return request.failover_for == request.destination and request.stage == fs.STAGE_QUEUE_WAIT


def _wait_limit(request: CallRequest, queue: QueueData) -> tuple[Action, ...]:
    doc = queue.doc
    # FreeSWITCH always names the channel; without a usable name mod_callcenter's own
    # limit (a few seconds later) is the only one.
    if not doc.max_wait or not UUID.fullmatch(request.unique_id):
        return ()
    return (
        *handover.mark_failover(request.destination, fs.STAGE_QUEUE_WAIT),
        QueueWaitLimit(doc.max_wait, request.destination, request.context, request.unique_id),
    )


def route_to_queue(
    request: CallRequest,
    tenant: TenantData,
    queue: QueueData,
    media_dir: str = "",
    trace: Trace = SILENT,
) -> Route:
    doc = queue.doc
    if trace.on:
        for agent in queue.agents:
            state = (
                phrase("agent_paused", "paused")
                if agent.paused
                else phrase("agent_logged_in", "logged in")
                if agent.logged_in
                else phrase("agent_logged_out", "logged out")
            )
            extension = phrase("extension", "%(extension)s", extension=agent.extension)
            trace.note("agent", extension, agent.logged_in and not agent.paused, state)
        wait = (
            phrase("wait_at_most", "wait at most %(seconds)d s", seconds=doc.max_wait)
            if doc.max_wait
            else phrase("wait_no_limit", "wait no limit of its own")
        )
        queue_named = phrase("queue", "queue %(name)s", name=doc.name)
        trace.note("timing", queue_named, not wait_is_over(request), wait)
    # The queue itself counts as gone through: an overflow back into it ends the call.
    chain = tuple(dict.fromkeys((*request.unit_chain, doc.extension)))
    at = Handoff(tenant, chain, media_dir, queue.media_paths)
    overflow_name, overflow = hand_off(doc.overflow, at)
    if wait_is_over(request):
        name = f"queue {doc.name} waited {doc.max_wait} s, then {overflow_name}"
        actions: tuple[Action, ...] = (*handover.clear_failover(), *overflow)
        return Route(request.context, request.destination, name, actions)
    limit = _wait_limit(request, queue)
    actions = (
        Answer(),
        SetVariable(fs.V_HANGUP_AFTER_BRIDGE, "true"),
        SetMedia(fs.V_HOLD_MUSIC, hold_music(queue)),
        *limit,
        JoinQueue(queue_name(doc.extension, queue.domain)),
        *((CancelWaitLimit(), *handover.clear_failover()) if limit else ()),
        *overflow,
    )
    name = f"queue {doc.name}, then {overflow_name}"
    return Route(request.context, request.destination, name, actions)
