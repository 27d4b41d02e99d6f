"""local_stream.conf: the streams compiled from tenants' hold music, and their XML."""

from pathlib import Path

import pytest
from lxml import etree

from tests.unit.test_render import assert_golden
from xmlcurl import fsnames as fs
from xmlcurl import render_configuration
from xmlcurl.inputs import HoldMusicData
from xmlcurl.local_stream import (
    STOCK_STREAMS,
    LocalStreamConfiguration,
    Stream,
    compile_local_stream,
    hold_music_url,
)
from xmlcurl.render import UnsafeValue

STATIC = Path(__file__).resolve().parents[2] / "freeswitch-conf/autoload_configs"
MEDIA_DIR = "/var/lib/centrex/media"
MUSIC = [
    HoldMusicData(domain="acme.example", name="jazz", path="acme.example/music/jazz/jazz.wav"),
    HoldMusicData(
        domain="shop.example", name="calm-2", path="shop.example/music/calm-2/calm-2.wav"
    ),
]


def streams_of(configuration: etree._Element) -> dict[str, tuple[str, dict[str, str]]]:
    return {
        d.get("name"): (d.get("path"), {p.get("name"): p.get("value") for p in d.iter("param")})
        for d in configuration.iter("directory")
    }


def directories(xml: bytes) -> dict[str, tuple[str, dict[str, str]]]:
    root = etree.fromstring(xml)
    assert root.get("type") == "freeswitch/xml"
    assert root.find("section").get("name") == "configuration"
    configuration = root.find("section/configuration")
    assert configuration.get("name") == "local_stream.conf"
    return streams_of(configuration)


def test_each_hold_music_is_a_wideband_stream_and_a_narrowband_one():
    conf = compile_local_stream(MUSIC, MEDIA_DIR)
    streams = {s.name: s for s in conf.streams}
    assert streams["centrex/acme.example/jazz"] == Stream(
        "centrex/acme.example/jazz", f"{MEDIA_DIR}/acme.example/music/jazz/16000", 16000
    )
    assert streams["centrex/acme.example/jazz/8000"] == Stream(
        "centrex/acme.example/jazz/8000", f"{MEDIA_DIR}/acme.example/music/jazz/8000", 8000
    )
    assert len(conf.streams) == len(STOCK_STREAMS) + 2 * len(MUSIC)


def test_without_tenant_music_the_stock_streams_remain():
    assert compile_local_stream([], MEDIA_DIR).streams == STOCK_STREAMS


def test_stock_streams_are_those_of_the_static_file():
    static = streams_of(etree.parse(str(STATIC / "local_stream.conf.xml")).getroot())
    served = directories(render_configuration.local_stream(compile_local_stream([], MEDIA_DIR)))
    assert served == static
    assert set(served) == {"moh", "default"}


def test_hold_music_url_is_what_a_call_plays():
    assert hold_music_url("acme.example", "jazz") == "local_stream://centrex/acme.example/jazz"


def test_rendered_configuration_golden():
    xml = render_configuration.local_stream(compile_local_stream(MUSIC, MEDIA_DIR))
    assert_golden("configuration-local_stream", xml)
    found = directories(xml)
    assert found["moh"] == (
        "$${sounds_dir}/music/8000",
        {
            "rate": "8000",
            "shuffle": "true",
            "channels": "1",
            "interval": "20",
            "timer-name": "soft",
        },
    )
    assert found["centrex/shop.example/calm-2/8000"] == (
        f"{MEDIA_DIR}/shop.example/music/calm-2/8000",
        {"rate": "8000"},
    )


@pytest.mark.parametrize(
    "stream",
    [
        Stream("centrex/a b/jazz", "/srv/media/x", 16000),
        Stream("centrex/a.example/$${x}", "/srv/media/x", 16000),
        Stream("centrex/a.example/jazz", "/srv/my media/x", 16000),
        Stream("centrex/a.example/jazz", "/srv/media/../../etc", 16000),
        Stream("centrex/a.example/jazz", "relative/x", 16000),
        Stream("centrex/a.example/jazz", "/srv/media/x", 11025),
        Stream("centrex/a.example/jazz", "/srv/media/" + "x" * 500, 16000),
        Stream("centrex/a.example/x-pre-process", "/srv/media/x", 16000),
        Stream("centrex/a.example/x\x01", "/srv/media/x", 16000),
    ],
)
def test_an_unsafe_stream_is_left_out_and_the_others_served(stream, caplog):
    """Every tenant's hold music shares one answer: a stream FreeSWITCH must not read
    (bad name, path or rate) is left out and logged; the stock and other streams stay."""
    good = Stream("centrex/b.example/calm", "/srv/media/b.example/calm", 16000)
    conf = LocalStreamConfiguration((*STOCK_STREAMS, stream, good))
    found = directories(render_configuration.local_stream(conf))
    assert set(found) == {"moh", "default", "centrex/b.example/calm"}
    assert "left out of FreeSWITCH's configuration" in caplog.text


def test_unsafe_stock_streams_are_never_rendered():
    with pytest.raises(UnsafeValue):
        render_configuration.local_stream(
            LocalStreamConfiguration((Stream("moh", fs.STOCK_MUSIC_DIR, 11025),))
        )
