"""Configuration decisions → FreeSWITCH configuration documents, with lxml.

Same safety nets as `render`: every name and path is checked against what FreeSWITCH
takes literally, and a document holding a preprocessor directive is refused — except
the stock streams' `$${sounds_dir}`, which is ours and which FreeSWITCH must expand.
"""

from __future__ import annotations

import re

from lxml import etree

from xmlcurl import fsnames as fs
from xmlcurl.callcenter import AgentDefinition, CallcenterConfiguration, QueueDefinition, Tier
from xmlcurl.conference_configuration import ConferenceConfiguration
from xmlcurl.local_stream import LocalStreamConfiguration, Stream
from xmlcurl.render import add_each
from xmlcurl.safe import UnsafeValue, checked, holds_directive

# Stream names: path-like, characters FreeSWITCH's strings never split or expand.
_STREAM_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}(/[a-z0-9._-]{1,253}){0,4}")
# Absolute, without `..`, short enough for mod_local_stream's 512-byte file path.
_DIRECTORY = re.compile(r"(?!.*/\.\.?(/|$))/[A-Za-z0-9._+/-]{0,470}")
# The rates mod_local_stream accepts; it silently plays anything else at 8 kHz.
_LOCAL_STREAM_RATES = frozenset({8000, 12000, 16000, 24000, 32000, 48000})


def _configuration(name: str, description: str) -> tuple[etree._Element, etree._Element]:
    root = etree.Element("document", type="freeswitch/xml")
    section = etree.SubElement(root, "section", name=fs.SECTION_CONFIGURATION)
    return root, etree.SubElement(section, "configuration", name=name, description=description)


def _serialise(root: etree._Element) -> bytes:
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    ours = body.replace(fs.SOUNDS_DIR_VAR.encode(), b"")
    if holds_directive(ours):
        raise UnsafeValue("document holds a preprocessor directive")
    return body


def _stream(stream: Stream) -> etree._Element:
    if stream.rate not in _LOCAL_STREAM_RATES:
        raise UnsafeValue(f"mod_local_stream cannot run at {stream.rate} Hz")
    directory = stream.directory
    if directory != fs.STOCK_MUSIC_DIR:
        checked(_DIRECTORY, directory)
    element = etree.Element("directory", name=checked(_STREAM_NAME, stream.name), path=directory)
    for name, value in ((fs.LS_RATE, str(stream.rate)), *stream.params):
        etree.SubElement(element, "param", name=name, value=value)
    return element


def local_stream(conf: LocalStreamConfiguration) -> bytes:
    root, configuration = _configuration(fs.CONF_LOCAL_STREAM, "Hold music")
    for stream in conf.streams:
        if stream.directory == fs.STOCK_MUSIC_DIR:
            # Ours, and the one place `$${sounds_dir}` must stay for FreeSWITCH.
            configuration.append(_stream(stream))
    # Every tenant's hold music: one that cannot be served must not silence the rest.
    tenants = (s for s in conf.streams if s.directory != fs.STOCK_MUSIC_DIR)
    add_each(configuration, tenants, _stream, lambda s: f"hold music stream {s.name!r}")
    return _serialise(root)


# callcenter.conf: names are `<digits>@<domain>`; contacts exactly what Centrex builds;
# param values plain words, numbers and local_stream URLs, never an expansion.
_CC_NAME = re.compile(r"[0-9]{1,8}@[a-z0-9.-]{1,253}")
_CC_CONTACT = re.compile(r"\[leg_timeout=[0-9]{1,3}\]user/[0-9]{1,8}@[a-z0-9.-]{1,253}")
_CC_VALUE = re.compile(r"[A-Za-z0-9 ._/:-]{0,300}")
_CC_STATUSES = frozenset({fs.CC_STATUS_AVAILABLE, fs.CC_STATUS_LOGGED_OUT})


def _queue(queue: QueueDefinition) -> etree._Element:
    element = etree.Element("queue", name=checked(_CC_NAME, queue.name))
    for name, value in queue.params:
        etree.SubElement(element, "param", name=name, value=checked(_CC_VALUE, value))
    return element


def _agent(agent: AgentDefinition) -> etree._Element:
    if agent.status not in _CC_STATUSES:
        raise UnsafeValue(f"unknown agent status {agent.status!r}")
    return etree.Element(
        "agent",
        {
            fs.CC_NAME: checked(_CC_NAME, agent.name),
            fs.CC_TYPE: fs.CC_AGENT_TYPE_CALLBACK,
            fs.CC_CONTACT: checked(_CC_CONTACT, agent.contact),
            fs.CC_STATUS: agent.status,
            fs.CC_MAX_NO_ANSWER: str(int(agent.max_no_answer)),
            fs.CC_WRAP_UP_TIME: str(int(agent.wrap_up_time)),
            fs.CC_REJECT_DELAY_TIME: str(int(agent.reject_delay_time)),
            fs.CC_BUSY_DELAY_TIME: str(int(agent.busy_delay_time)),
            fs.CC_NO_ANSWER_DELAY_TIME: str(int(agent.no_answer_delay_time)),
        },
    )


def _tier(tier: Tier) -> etree._Element:
    return etree.Element(
        "tier",
        {
            fs.CC_AGENT: checked(_CC_NAME, tier.agent),
            fs.CC_QUEUE_ATTR: checked(_CC_NAME, tier.queue),
            fs.CC_LEVEL: str(int(tier.level)),
            fs.CC_POSITION: str(int(tier.position)),
        },
    )


def callcenter(conf: CallcenterConfiguration) -> bytes:
    root, configuration = _configuration(fs.CONF_CALLCENTER, "Queues")
    settings = etree.SubElement(configuration, "settings")
    for name, value in conf.settings:
        etree.SubElement(settings, "param", name=name, value=checked(_CC_VALUE, value))
    # Every tenant's queues: one that cannot be served must not stop the rest.
    add_each(
        etree.SubElement(configuration, "queues"),
        conf.queues,
        _queue,
        lambda q: f"queue {q.name!r}",
    )
    add_each(
        etree.SubElement(configuration, "agents"),
        conf.agents,
        _agent,
        lambda a: f"queue agent {a.name!r}",
    )
    add_each(
        etree.SubElement(configuration, "tiers"),
        conf.tiers,
        _tier,
        lambda t: f"queue tier {t.agent!r} in {t.queue!r}",
    )
    return _serialise(root)


# conference.conf: ours only, but checked as any answer: names are words, values plain
# numbers, words, tone streams and local_stream URLs, never an expansion.
_CONF_NAME = re.compile(r"[a-z0-9 -]{1,32}")
_CONF_DIGITS = re.compile(r"[0-9*#]{1,8}")
_CONF_VALUE = re.compile(r"[A-Za-z0-9 ._/:;%(),-]{1,200}")


def conference(conf: ConferenceConfiguration) -> bytes:
    root, configuration = _configuration(fs.CONF_CONFERENCE, "Conference rooms")
    controls = etree.SubElement(configuration, "caller-controls")
    group = etree.SubElement(controls, "group", name=checked(_CONF_NAME, conf.controls_group))
    for control in conf.controls:
        etree.SubElement(
            group,
            "control",
            action=checked(_CONF_NAME, control.action),
            digits=checked(_CONF_DIGITS, control.digits),
        )
    profiles = etree.SubElement(configuration, "profiles")
    for profile in conf.profiles:
        element = etree.SubElement(profiles, "profile", name=checked(_CONF_NAME, profile.name))
        for name, value in profile.params:
            etree.SubElement(
                element, "param", name=checked(_CONF_NAME, name), value=checked(_CONF_VALUE, value)
            )
    return _serialise(root)
