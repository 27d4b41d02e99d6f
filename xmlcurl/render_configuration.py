"""Configuration decisions → FreeSWITCH configuration documents, with lxml.

Same safety nets as `render`: every name and path is checked against what FreeSWITCH
takes literally, and a document holding a preprocessor directive is refused — except
the stock streams' `$${sounds_dir}`, which is ours and which FreeSWITCH must expand.
"""

from __future__ import annotations

import re

from lxml import etree

from xmlcurl import fsnames as fs
from xmlcurl.local_stream import LocalStreamConfiguration
from xmlcurl.render import UnsafeValue

# Stream names: path-like, characters FreeSWITCH's strings never split or expand.
_STREAM_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}(/[a-z0-9._-]{1,253}){0,4}")
# Absolute, without `..`, short enough for mod_local_stream's 512-byte file path.
_DIRECTORY = re.compile(r"(?!.*/\.\.?(/|$))/[A-Za-z0-9._+/-]{0,470}")
# The rates mod_local_stream accepts; it silently plays anything else at 8 kHz.
_LOCAL_STREAM_RATES = frozenset({8000, 12000, 16000, 24000, 32000, 48000})


def _checked(pattern: re.Pattern[str], value: str) -> str:
    if not pattern.fullmatch(value):
        raise UnsafeValue(f"refusing to render {value!r}")
    return value


def _configuration(name: str, description: str) -> tuple[etree._Element, etree._Element]:
    root = etree.Element("document", type="freeswitch/xml")
    section = etree.SubElement(root, "section", name=fs.SECTION_CONFIGURATION)
    return root, etree.SubElement(section, "configuration", name=name, description=description)


def _serialise(root: etree._Element) -> bytes:
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    ours = body.replace(fs.SOUNDS_DIR_VAR.encode(), b"")
    if b"$${" in ours or b"x-pre-process" in ours.lower():
        raise UnsafeValue("document holds a preprocessor directive")
    return body


def local_stream(conf: LocalStreamConfiguration) -> bytes:
    root, configuration = _configuration(fs.CONF_LOCAL_STREAM, "Hold music")
    for stream in conf.streams:
        if stream.rate not in _LOCAL_STREAM_RATES:
            raise UnsafeValue(f"mod_local_stream cannot run at {stream.rate} Hz")
        directory = stream.directory
        if directory != fs.STOCK_MUSIC_DIR:
            _checked(_DIRECTORY, directory)
        element = etree.SubElement(
            configuration,
            "directory",
            name=_checked(_STREAM_NAME, stream.name),
            path=directory,
        )
        for name, value in ((fs.LS_RATE, str(stream.rate)), *stream.params):
            etree.SubElement(element, "param", name=name, value=value)
    return _serialise(root)
