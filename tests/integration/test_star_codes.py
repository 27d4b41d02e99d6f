"""Star codes through the xml_curl endpoint: the setting really changes in the database
(through the same rules as the document), and a refused code changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from centrex.db import make_session_factory
from provisioning import line_settings
from provisioning.models import QueueAgent, User
from tests.conftest import apply_raw, demo_document
from tests.integration.test_pickup import CALLER_LEG, NOTHING, ringing
from tests.integration.test_xmlcurl import actions, dialplan

DOMAIN = "127.0.0.1"
# The captured request is placed by 1001 (Alice), authenticated.
CONFIRMED = [
    ("answer", None),
    ("playback", "ivr/ivr-call_forwarding_has_been_set.wav"),
    ("hangup", "NORMAL_CLEARING"),
]
CANCELLED = [
    ("answer", None),
    ("playback", "ivr/ivr-call_forwarding_has_been_cancelled.wav"),
    ("hangup", "NORMAL_CLEARING"),
]
REFUSED = [
    ("pre_answer", None),
    ("playback", "tone_stream://%(250,250,425);loops=5"),
    ("hangup", "CALL_REJECTED"),
]


def stored(engine, extension: str = "1001") -> tuple[dict, int]:
    with make_session_factory(engine)() as session:
        user = session.scalars(select(User).where(User.extension == extension)).one()
        return dict(user.call_handling or {}), user.version


def test_forward_always_with_a_number_is_stored_normalised_and_confirmed(
    client, engine, demo_tenant
):
    before = stored(engine)[1]
    assert actions(dialplan(client, "*720612345678")) == CONFIRMED
    handling, version = stored(engine)
    assert handling["forward_always"] == {"to": "+33612345678"}
    assert handling["remembered_forwards"] == {"always": "+33612345678"}
    assert version == before + 1
    # The next call to Alice follows it.
    call = actions(dialplan(client, "1001", user_name="1000"))
    assert ("bridge", "sofia/gateway/127.0.0.1/+33612345678") in call


def test_forward_off_keeps_the_number_and_the_code_alone_turns_it_back_on(
    client, engine, demo_tenant
):
    dialplan(client, "*721002")
    assert actions(dialplan(client, "*73")) == CANCELLED
    handling, _ = stored(engine)
    assert "forward_always" not in handling
    assert handling["remembered_forwards"] == {"always": "1002"}
    # Dialled alone, the code first asks; nothing typed, it comes back with the mark.
    asked = actions(dialplan(client, "*72"))
    assert asked[-1] == ("transfer", "*72${centrex_star_digits} XML 127.0.0.1")
    assert "forward_always" not in stored(engine)[0]
    assert actions(dialplan(client, "*72", centrex_star_asked="true")) == CONFIRMED
    assert stored(engine)[0]["forward_always"] == {"to": "1002"}


def test_the_code_alone_with_nothing_to_reuse_is_refused(client, engine, demo_tenant):
    before = stored(engine)
    assert actions(dialplan(client, "*72", centrex_star_asked="true")) == REFUSED
    assert stored(engine) == before


@pytest.mark.parametrize(
    "code",
    [
        "*7200442071234567",  # international: Alice may call national numbers only
        "*720899123456",  # premium rate
        "*721001",  # her own extension
        "*729999",  # no such extension, and no phone number
        "*72112",  # an emergency number is no forward target
    ],
)
def test_a_barred_or_invalid_forward_number_is_refused_and_changes_nothing(
    client, engine, demo_tenant, code
):
    before = stored(engine)
    assert actions(dialplan(client, code)) == REFUSED
    assert stored(engine) == before


def test_a_forward_that_would_close_a_loop_is_refused(client, engine, demo_tenant):
    with make_session_factory(engine).begin() as session:
        line_settings.set_call_handling(
            session, DOMAIN, "1000", {"forward_always": {"to": "1001"}}, version=None
        )
    before = stored(engine)
    assert actions(dialplan(client, "*721000")) == REFUSED
    assert stored(engine) == before


def test_junk_after_a_code_is_refused_cleanly(client, engine, demo_tenant):
    before = stored(engine)
    for junk in ("*735", "*721", "*78*"):
        assert actions(dialplan(client, junk)) == [("hangup", "INVALID_NUMBER_FORMAT")]
    assert stored(engine) == before


def test_busy_and_no_answer_forwards_on_and_off(client, engine, demo_tenant):
    assert actions(dialplan(client, "*901002")) == CONFIRMED
    assert actions(dialplan(client, "*920612345678")) == CONFIRMED
    handling, _ = stored(engine)
    assert handling["forward_busy"] == {"to": "1002"}
    assert handling["forward_no_answer"]["to"] == "+33612345678"
    assert actions(dialplan(client, "*91")) == CANCELLED
    assert actions(dialplan(client, "*93")) == CANCELLED
    handling, _ = stored(engine)
    assert "forward_busy" not in handling and "forward_no_answer" not in handling
    assert handling["remembered_forwards"] == {"busy": "1002", "no_answer": "+33612345678"}


def test_do_not_disturb_on_and_off(client, engine, demo_tenant):
    assert actions(dialplan(client, "*78"))[1] == ("playback", "ivr/ivr-dnd_activated.wav")
    assert stored(engine)[0]["do_not_disturb"] == {}  # enabled is the default
    assert actions(dialplan(client, "*79"))[1] == ("playback", "ivr/ivr-dnd_cancelled.wav")
    assert stored(engine)[0]["do_not_disturb"] == {"enabled": False}


def test_a_tenants_own_code_is_the_one_that_works(client, engine):
    apply_raw(engine, demo_document(feature_codes={"dnd_on": "*44"}))
    # The default code is nothing then: not dialled out either.
    assert actions(dialplan(client, "*78")) == [("hangup", "UNALLOCATED_NUMBER")]
    assert "do_not_disturb" not in stored(engine)[0]
    assert actions(dialplan(client, "*44"))[1] == ("playback", "ivr/ivr-dnd_activated.wav")
    assert stored(engine)[0]["do_not_disturb"] == {}


def _logged_in(engine, extension: str) -> bool:
    with make_session_factory(engine)() as session:
        return session.scalars(
            select(QueueAgent.logged_in)
            .join(User, User.id == QueueAgent.user_id)
            .where(User.extension == extension)
        ).one()


def test_queue_agents_log_in_and_out_by_code(client, engine):
    queue = {"name": "Support", "extension": "400", "short_number": "401", "agents": ["1001"]}
    apply_raw(engine, demo_document(queues=[queue]))
    assert actions(dialplan(client, "*57400"))[1] == (
        "playback",
        "ivr/ivr-you_are_now_logged_in.wav",
    )
    assert _logged_in(engine, "1001") is True
    assert actions(dialplan(client, "*58401"))[1] == (
        "playback",
        "ivr/ivr-you_are_now_logged_out.wav",
    )
    assert _logged_in(engine, "1001") is False
    # Not one of its agents: refused, nothing written.
    assert actions(dialplan(client, "*57400", user_name="1002")) == REFUSED


def test_group_pickup_takes_a_call_ringing_a_colleague_of_one_of_my_groups(client, engine):
    group = {"name": "Sales", "extension": "5300", "members": ["1000", "1001"]}
    apply_raw(engine, demo_document(groups=[group]))
    ringing(engine, "1000")
    assert actions(dialplan(client, "*8")) == [
        ("set", "intercept_unanswered_only=true"),
        ("intercept", CALLER_LEG),
        *NOTHING,
    ]
    # Bob shares no group with Alice: his ringing call is not hers to take.
    apply_raw(engine, demo_document(groups=[{**group, "members": ["1000", "1002"]}]))
    assert actions(dialplan(client, "*8")) == NOTHING


def test_an_agent_s_break_by_code_is_written_and_pushed_as_on_break(client, engine):
    from esl.queue_agents import wanted_state

    queues = [
        {"name": "Sales", "extension": "500", "agents": ["1000", "1001"]},
        {"name": "Support", "extension": "501", "agents": ["1001"]},
    ]
    apply_raw(engine, demo_document(queues=queues))
    break_starts = [
        ("answer", None),
        ("playback", "tone_stream://%(150,50,1320);%(150,50,880);loops=1"),
        ("hangup", "NORMAL_CLEARING"),
    ]
    assert actions(dialplan(client, "*59")) == break_starts
    with make_session_factory(engine)() as session:
        rows = session.scalars(
            select(QueueAgent.paused)
            .join(User, User.id == QueueAgent.user_id)
            .where(User.extension == "1001")
        ).all()
    assert rows == [True, True]
    statuses = wanted_state(engine).statuses
    assert statuses["1001@127.0.0.1"] == "On Break"
    assert statuses["1000@127.0.0.1"] == "Available"
    assert actions(dialplan(client, "*60"))[1][0] == "playback"
    assert wanted_state(engine).statuses["1001@127.0.0.1"] == "Available"
    # Bob is the agent of no queue: refused.
    assert actions(dialplan(client, "*59", user_name="1002")) == REFUSED


def test_no_answer_forward_from_voicemail_to_a_number_takes_the_default_delay(
    client, engine, demo_tenant
):
    with make_session_factory(engine).begin() as session:
        line_settings.set_call_handling(
            session,
            DOMAIN,
            "1001",
            {"forward_no_answer": {"to": "voicemail", "after": 0}},
            version=None,
        )
    assert actions(dialplan(client, "*920612345678")) == CONFIRMED
    assert stored(engine)[0]["forward_no_answer"] == {"to": "+33612345678", "after": 20}


def test_a_code_the_database_cannot_take_gets_the_safe_fallback(
    client, engine, demo_tenant, monkeypatch
):
    from sqlalchemy.exc import OperationalError

    def down(*_args, **_kwargs):
        raise OperationalError("UPDATE users", {}, Exception("server closed the connection"))

    monkeypatch.setattr("provisioning.line_settings.set_call_handling", down)
    assert actions(dialplan(client, "*78")) == [("hangup", "NORMAL_TEMPORARY_FAILURE")]
