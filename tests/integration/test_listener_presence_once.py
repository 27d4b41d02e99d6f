"""Three nodes: each hears of a line's state once per change. Events that leave a
line's state as it was (a call state after its creation, a second answer) send the
other nodes nothing; a node that reconnected, or that showed its phones the line
itself (a call of its own), is told again."""

from __future__ import annotations

import gevent

from tests.fakes.freeswitch import FakeFreeSWITCH
from tests.integration.test_listener import DOMAIN, line, phone_call, until
from tests.integration.test_listener_nodes import fakes, line_events, listener  # noqa: F401

CALLEE = f"1000@{DOMAIN}"


def settle(listener) -> None:  # noqa: F811
    """Every event queued is written and what it sends is on its way."""
    gevent.sleep(0.05)
    until(lambda: listener.idle() and not listener._outbox)
    gevent.sleep(0.05)


def told(fake: FakeFreeSWITCH) -> list[str]:
    return line_events(fake, CALLEE)


def test_a_state_is_sent_once_however_many_events_repeat_it(engine, fakes, listener):  # noqa: F811
    first, second, third = fakes
    a_leg, b_leg = phone_call(first, "1001", "1000")
    until(lambda: (s := line(engine, "1000")) and s.ringing_calls == 1)
    settle(listener)
    first.set_callstate(b_leg, "RINGING")  # again: still ringing
    settle(listener)
    first.answer_channel(b_leg)
    first.answer_channel(a_leg)
    until(lambda: (s := line(engine, "1000")) and s.active_calls == 1 and not s.ringing_calls)
    settle(listener)
    first.set_callstate(b_leg, "ACTIVE")  # again: still busy
    settle(listener)
    first.hangup_channel(b_leg)
    first.hangup_channel(a_leg)
    until(lambda: line(engine, "1000").active_calls == 0)
    settle(listener)
    for other in (second, third):
        assert told(other) == ["early", "confirmed", "terminated"]
    assert told(first) == []


def answered_call(engine, node, listener) -> str:  # noqa: F811
    """1001 calls 1000 on `node`, both answer; once the listener has told the others, the
    leg to 1000."""
    a_leg, b_leg = phone_call(node, "1001", "1000")
    node.answer_channel(b_leg)
    node.answer_channel(a_leg)
    until(lambda: (s := line(engine, "1000")) and s.active_calls == 1 and not s.ringing_calls)
    settle(listener)
    return b_leg


def test_a_reconnected_node_is_told_again(engine, fakes, listener):  # noqa: F811
    first, second, third = fakes
    b_leg = answered_call(engine, first, listener)
    assert told(second)[-1:] == told(third)[-1:] == ["confirmed"]
    before = (len(told(second)), len(told(third)))
    sessions = listener.nodes[f"127.0.0.1:{second.port}"].connections
    second.disconnect()
    until(lambda: listener.nodes[f"127.0.0.1:{second.port}"].connections > sessions)
    until(lambda: len(listener.connected()) == 3)
    settle(listener)
    first.set_callstate(b_leg, "ACTIVE")
    settle(listener)
    # The new session may have lost what the last one was told; the third node has not.
    assert told(second)[before[0] :] == ["confirmed"]
    assert len(told(third)) == before[1]


def test_a_node_that_showed_a_line_itself_is_told_its_state_again(engine, fakes, listener):  # noqa: F811
    first, second, third = fakes
    b_leg = answered_call(engine, first, listener)
    # A second call to the same line, on the second node, which lights its phones'
    # keys for it itself (and puts them out when it ends, while the line is still busy
    # on the first node).
    c_leg, d_leg = phone_call(second, "1002", "1000")
    until(lambda: line(engine, "1000").active_calls == 2)
    second.hangup_channel(d_leg)
    second.hangup_channel(c_leg)
    until(lambda: line(engine, "1000").active_calls == 1)
    settle(listener)
    heard = (len(told(second)), len(told(third)))
    first.set_callstate(b_leg, "ACTIVE")  # the line is still busy
    settle(listener)
    assert told(second)[heard[0] :] == ["confirmed"]  # shown otherwise since: told again
    assert len(told(third)) == heard[1]  # holds it already
