"""A queue's max_wait kept by the call's route (`xmlcurl.queue`): the scheduled
overflow, what cancels it, and the hunt it leads to."""

from dataclasses import replace

import pytest

from provisioning.tenant_routing import Destination
from tests.unit.test_callcenter import DOMAIN, SALES, SUPPORT, TENANT, request
from xmlcurl import render
from xmlcurl.callcenter import compile_callcenter
from xmlcurl.decisions import CancelWaitLimit, JoinQueue, QueueWaitLimit, SetVariable
from xmlcurl.queue import route_to_queue, wait_is_over
from xmlcurl.render import UnsafeValue

CALLER = "0b5a3f4e-8c1d-4e2f-9a7b-123456789abc"
SALES_TO_VOICEMAIL = replace(
    SALES, doc=SALES.doc.model_copy(update={"overflow": Destination(voicemail="1000")})
)


def test_joining_a_queue_schedules_its_overflow_at_max_wait():
    route = route_to_queue(request("500", unique_id=CALLER), TENANT, SALES_TO_VOICEMAIL)
    limit = route.actions.index(QueueWaitLimit(120, "500", DOMAIN, CALLER))
    assert route.actions[limit - 2 : limit] == (
        SetVariable("centrex_failover_for", "500"),
        SetVariable("centrex_stage", "queue_wait"),
    )
    assert route.actions[limit + 1] == JoinQueue("500@acme.example")
    # The caller left the queue by itself (no agent): no transfer any more, then the overflow.
    assert route.actions[limit + 2] == CancelWaitLimit()


def test_the_wait_limit_renders_a_transfer_the_agents_answer_cancels():
    route = route_to_queue(request("250", unique_id=CALLER), TENANT, SALES_TO_VOICEMAIL)
    xml = render.dialplan(route).decode()
    assert f'data="api_on_answer_centrex_cancel_wait=sched_del {CALLER}"' in xml
    assert f'data="api_on_answer_centrex_clear_stage=uuid_setvar {CALLER} centrex_stage"' in xml
    assert (
        'data="cc_export_vars=api_on_answer_centrex_cancel_wait,'
        'api_on_answer_centrex_clear_stage"' in xml
    )
    assert f'application="sched_transfer" data="+120 250 XML {DOMAIN}"' in xml
    assert '<action application="sched_cancel"/>' in xml
    assert xml.index("sched_transfer") < xml.index('"callcenter"') < xml.index("sched_cancel")


def test_the_hunt_at_max_wait_goes_to_the_overflow_only():
    back = request(
        "500", unique_id=CALLER, failover_for="500", stage="queue_wait", unit_chain=("500",)
    )
    assert wait_is_over(back)
    route = route_to_queue(back, TENANT, SALES_TO_VOICEMAIL)
    xml = render.dialplan(route).decode()
    assert "callcenter" not in xml and "sched_" not in xml
    assert 'application="voicemail" data="default acme.example 1000"' in xml
    assert 'application="unset" data="centrex_stage"' in xml


@pytest.mark.parametrize(
    "changes",
    [
        {"failover_for": "250", "stage": "queue_wait"},  # marked for another number
        {"failover_for": "500", "stage": "ring"},  # another kind of failover
        {},
    ],
)
def test_other_hunts_of_the_queue_number_join_the_queue(changes):
    call = request("500", unique_id=CALLER, **changes)
    assert not wait_is_over(call)
    assert JoinQueue("500@acme.example") in route_to_queue(call, TENANT, SALES).actions


@pytest.mark.parametrize("unique_id", [CALLER, "uuid-1"])
def test_no_limit_or_no_channel_name_schedules_nothing(unique_id):
    queue = SUPPORT if unique_id == CALLER else SALES
    actions = route_to_queue(request("501", unique_id=unique_id), TENANT, queue).actions
    assert not [a for a in actions if isinstance(a, (QueueWaitLimit, CancelWaitLimit))]


def test_mod_callcenter_s_own_limit_only_backs_the_route_up():
    (sales, support) = compile_callcenter([SALES, SUPPORT]).queues
    assert dict(sales.params)["max-wait-time"] == "123"
    assert dict(support.params)["max-wait-time"] == "0"


def test_a_channel_name_that_is_not_a_uuid_is_refused_by_the_renderer():
    route = route_to_queue(request("500", unique_id=CALLER), TENANT, SALES)
    bad = tuple(
        replace(a, channel="x y") if isinstance(a, QueueWaitLimit) else a for a in route.actions
    )
    with pytest.raises(UnsafeValue):
        render.dialplan(replace(route, actions=bad))
