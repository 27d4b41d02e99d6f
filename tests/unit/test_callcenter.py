"""callcenter.conf compiled from queues, its XML, and the dialplan of a call to a queue."""

from dataclasses import replace

import pytest
from lxml import etree

from provisioning.tenant_routing import Destination, QueueDoc, QueueStrategy
from tests.unit.test_render import assert_golden
from xmlcurl import render, render_configuration
from xmlcurl.callcenter import (
    AgentDefinition,
    CallcenterConfiguration,
    QueueDefinition,
    compile_callcenter,
    parse_queue_name,
)
from xmlcurl.decisions import Answer, Hangup, JoinQueue, SetMedia, SetVariable, Transfer, Voicemail
from xmlcurl.inputs import AgentData, QueueData, TenantData
from xmlcurl.queue import route_to_queue
from xmlcurl.render import UnsafeValue
from xmlcurl.request import CallRequest

DOMAIN = "acme.example"
SALES = QueueData(
    domain=DOMAIN,
    doc=QueueDoc(
        name="Sales",
        extension="500",
        short_number="250",
        agents=["1000", "1001", "1002"],
        strategy=QueueStrategy.HIERARCHICAL,
        max_wait=120,
        wrap_up=30,
        music_on_hold="jazz",
        agent_rings=3,
    ),
    agents=(
        AgentData(extension="1000", logged_in=True),
        AgentData(extension="1001", logged_in=False),
        AgentData(extension="1002", logged_in=True),
    ),
    music_uploaded=True,
)
SUPPORT = QueueData(
    domain=DOMAIN,
    doc=QueueDoc(name="Support", extension="501", agents=["1001"], max_wait=0),
    agents=(AgentData(extension="1001", logged_in=False),),
)


def params_of(element: etree._Element) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in element.iter("param")}


def parsed(xml: bytes) -> etree._Element:
    root = etree.fromstring(xml)
    assert root.find("section").get("name") == "configuration"
    configuration = root.find("section/configuration")
    assert configuration.get("name") == "callcenter.conf"
    return configuration


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (QueueStrategy.LONGEST_IDLE, "longest-idle-agent"),
        (QueueStrategy.SIMULTANEOUS, "ring-all"),
        (QueueStrategy.CYCLIC, "round-robin"),
        (QueueStrategy.HIERARCHICAL, "top-down"),
        (QueueStrategy.FEWEST_CALLS, "agent-with-fewest-calls"),
        (QueueStrategy.LEAST_TALK_TIME, "agent-with-least-talk-time"),
        (QueueStrategy.RANDOM, "random"),
    ],
)
def test_each_strategy_maps_to_mod_callcenters(ours, theirs):
    queue = replace(SALES, doc=SALES.doc.model_copy(update={"strategy": ours}))
    (definition,) = compile_callcenter([queue]).queues
    assert dict(definition.params)["strategy"] == theirs


def test_queue_params_carry_music_and_timers():
    sales, support = compile_callcenter([SALES, SUPPORT]).queues
    assert sales.name == "500@acme.example"
    params = dict(sales.params)
    assert params["moh-sound"] == "local_stream://centrex/acme.example/jazz"
    assert params["max-wait-time"] == "123"  # max_wait + the backstop
    assert params["max-wait-time-with-no-agent"] == "30"
    assert params["discard-abandoned-after"] == "60"
    # No limit: callers still leave when nobody is logged in.
    assert dict(support.params)["max-wait-time"] == "0"
    assert dict(support.params)["max-wait-time-with-no-agent"] == "30"
    assert dict(support.params)["moh-sound"] == "local_stream://moh"


def test_music_named_but_not_uploaded_plays_the_stock_music():
    queue = replace(SALES, music_uploaded=False)
    (definition,) = compile_callcenter([queue]).queues
    assert dict(definition.params)["moh-sound"] == "local_stream://moh"


def test_agents_are_users_once_and_tiers_say_where_they_are_logged_in():
    conf = compile_callcenter([SALES, SUPPORT])
    agents = {a.name: a for a in conf.agents}
    assert list(agents) == ["1000@acme.example", "1001@acme.example", "1002@acme.example"]
    assert agents["1000@acme.example"].contact == "[leg_timeout=15]user/1000@acme.example"
    assert agents["1000@acme.example"].wrap_up_time == 30
    assert agents["1000@acme.example"].status == "Available"
    # Logged out of both of its queues.
    assert agents["1001@acme.example"].status == "Logged Out"
    assert [(t.agent, t.queue, t.level, t.position) for t in conf.tiers] == [
        ("1000@acme.example", "500@acme.example", 1, 1),
        ("1002@acme.example", "500@acme.example", 1, 3),
    ]


def test_settings_make_the_served_xml_the_source_of_truth():
    settings = dict(compile_callcenter([]).settings)
    assert settings["truncate-agents-on-load"] == "true"
    assert settings["truncate-tiers-on-load"] == "true"
    assert settings["agent-originate-timeout"] == "100"


@pytest.mark.parametrize(
    ("name", "parsed_name"),
    [
        ("500@acme.example", ("500", "acme.example")),
        ("500@ACME.example", ("500", "acme.example")),
        ("support@default", None),
        ("500", None),
        ("@acme.example", None),
    ],
)
def test_queue_names_from_load_queue_requests(name, parsed_name):
    assert parse_queue_name(name) == parsed_name


def test_rendered_configuration_golden():
    xml = render_configuration.callcenter(compile_callcenter([SALES, SUPPORT]))
    assert_golden("configuration-callcenter", xml)
    configuration = parsed(xml)
    assert params_of(configuration.find("settings"))["dbname"] == "callcenter"
    queue = configuration.find("queues/queue[@name='500@acme.example']")
    assert params_of(queue)["strategy"] == "top-down"
    agent = configuration.find("agents/agent[@name='1002@acme.example']")
    assert dict(agent.attrib) == {
        "name": "1002@acme.example",
        "type": "callback",
        "contact": "[leg_timeout=15]user/1002@acme.example",
        "status": "Available",
        "max-no-answer": "0",
        "wrap-up-time": "30",
        "reject-delay-time": "10",
        "busy-delay-time": "10",
        "no-answer-delay-time": "5",
    }
    assert len(configuration.findall("tiers/tier")) == 2


GOOD_QUEUE = QueueDefinition("600@acme.example", (("strategy", "top-down"),))
GOOD_AGENT = AgentDefinition(
    "1001@acme.example", "[leg_timeout=5]user/1001@acme.example", "Available", 0
)


@pytest.mark.parametrize(
    "conf",
    [
        CallcenterConfiguration((), (QueueDefinition("500@acme.example/x", ()), GOOD_QUEUE)),
        CallcenterConfiguration((), (QueueDefinition("sales@acme.example", ()), GOOD_QUEUE)),
        CallcenterConfiguration(
            (), (QueueDefinition("500@a.example", (("x", "$${y}"),)), GOOD_QUEUE)
        ),
        CallcenterConfiguration(
            (),
            (
                QueueDefinition(
                    "500@a.example", (("moh-sound", "local_stream://a.example/x-pre-process"),)
                ),
                GOOD_QUEUE,
            ),
        ),
        CallcenterConfiguration(
            (),
            (GOOD_QUEUE,),
            (
                AgentDefinition("1000@a.example", "user/1000@a.example|evil", "Available", 0),
                GOOD_AGENT,
            ),
        ),
        CallcenterConfiguration(
            (),
            (GOOD_QUEUE,),
            (
                AgentDefinition("1000@a.example", "[leg_timeout=5]user/1000@a.example", "Busy", 0),
                GOOD_AGENT,
            ),
        ),
    ],
)
def test_unsafe_items_are_left_out_and_the_others_served(conf, caplog):
    """Every tenant's queues share one answer: an item FreeSWITCH must not read is left
    out (and logged), the rest still load."""
    configuration = parsed(render_configuration.callcenter(conf))
    assert [q.get("name") for q in configuration.findall("queues/queue")] == ["600@acme.example"]
    agents = [a.get("name") for a in configuration.findall("agents/agent")]
    assert agents == (["1001@acme.example"] if conf.agents else [])
    assert "left out of FreeSWITCH's configuration" in caplog.text


def test_unsafe_shared_settings_are_never_rendered():
    with pytest.raises(UnsafeValue):
        render_configuration.callcenter(CallcenterConfiguration((("odbc-dsn", "$${x}"),), ()))


# --- the dialplan of a call to a queue ----------------------------------------------
TENANT = TenantData(
    domain=DOMAIN,
    name="ACME",
    timezone="Europe/Paris",
    country="FR",
    main_number=None,
    gateway=None,
    unit_numbers={"sales": "500", "hotline": "600"},
)


def request(destination: str, **changes: object) -> CallRequest:
    call = CallRequest(DOMAIN, destination, "1001", "Bob", "1001", DOMAIN, None, None, "uuid-1")
    return replace(call, **changes)


def test_a_caller_waits_with_the_music_then_overflows():
    queue = replace(
        SALES, doc=SALES.doc.model_copy(update={"overflow": Destination(voicemail="1000")})
    )
    route = route_to_queue(request("500"), TENANT, queue)
    assert route.actions == (
        Answer(),
        SetVariable("hangup_after_bridge", "true"),
        SetMedia("hold_music", "local_stream://centrex/acme.example/jazz"),
        JoinQueue("500@acme.example"),
        Answer(),
        Voicemail(DOMAIN, "1000"),
    )
    xml = render.dialplan(route)
    assert b'application="callcenter" data="500@acme.example"' in xml


def test_overflow_to_another_unit_carries_the_chain():
    queue = replace(
        SALES, doc=SALES.doc.model_copy(update={"overflow": Destination(group="hotline")})
    )
    route = route_to_queue(request("250"), TENANT, queue)
    assert route.actions[-2:] == (
        SetVariable("centrex_unit_chain", "500,600"),
        Transfer("600", DOMAIN),
    )


def test_overflow_back_into_a_queue_already_tried_ends_the_call():
    queue = replace(
        SALES, doc=SALES.doc.model_copy(update={"overflow": Destination(queue="Sales")})
    )
    route = route_to_queue(request("500"), TENANT, queue)
    assert route.actions[-1] == Hangup("NORMAL_CLEARING")
    hotline = replace(queue, doc=queue.doc.model_copy(update={"extension": "700"}))
    looped = route_to_queue(request("700", unit_chain=("500",)), TENANT, hotline)
    assert looped.actions[-1] == Hangup("NORMAL_CLEARING")
