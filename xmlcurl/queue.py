"""A call to a queue (ACD): wait in mod_callcenter's queue, then the overflow.

Pure. The caller is answered and joins the queue with `callcenter <queue>`, hearing
the queue's hold music (mod_callcenter plays its `moh-sound`; `hold_music` is the same
music when an agent puts the call on hold). The application returns when the caller
leaves the queue: because an agent took the call — `hangup_after_bridge` then ends the
call with the conversation, so nothing after it runs — or because the caller waited
`max_wait` seconds, or no agent was logged in (mod_callcenter's TIMEOUT and
NO_AGENT_TIMEOUT), or the queue is unknown to the node. In those cases the actions
after it run: the queue's overflow, through `xmlcurl.destinations`.
"""

from __future__ import annotations

from xmlcurl import fsnames as fs
from xmlcurl.callcenter import hold_music, queue_name
from xmlcurl.decisions import Answer, JoinQueue, Route, SetMedia, SetVariable
from xmlcurl.destinations import Handoff, hand_off
from xmlcurl.inputs import QueueData, TenantData
from xmlcurl.request import CallRequest


def route_to_queue(
    request: CallRequest, tenant: TenantData, queue: QueueData, media_dir: str = ""
) -> Route:
    doc = queue.doc
    # The queue itself counts as gone through: an overflow back into it ends the call.
    chain = tuple(dict.fromkeys((*request.unit_chain, doc.extension)))
    at = Handoff(tenant, chain, media_dir, queue.media_paths)
    overflow_name, overflow = hand_off(doc.overflow, at)
    actions = (
        Answer(),
        SetVariable(fs.V_HANGUP_AFTER_BRIDGE, "true"),
        SetMedia(fs.V_HOLD_MUSIC, hold_music(queue)),
        JoinQueue(queue_name(doc.extension, queue.domain)),
        *overflow,
    )
    name = f"queue {doc.name}, then {overflow_name}"
    return Route(request.context, request.destination, name, actions)
