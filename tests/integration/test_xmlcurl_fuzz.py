"""The xml_curl endpoint fuzzed: requests shaped like FreeSWITCH's, with the fields
Centrex reads (and some it does not) given any value — control characters, unassigned
code points, dial-string and preprocessor syntax, huge lengths — and raw bodies of any
bytes. Every answer is a well-formed FreeSWITCH document, at once, that holds no
preprocessor directive.

Seeded (derandomised), so a run is repeatable; a few thousand cases per database.
"""

from __future__ import annotations

import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.conftest import basic_auth
from tests.fsrequests import fixture_fields, fixtures_dir, fs_body, with_fields
from xmlcurl import fsnames as fs
from xmlcurl.request import _WANTED
from xmlcurl.safe import holds_directive

_CAPTURED = sorted(p.stem for p in Path(fixtures_dir(), "xml_curl").glob("*.json"))
# Each section as often as the others, whatever the number of captures of each.
FIXTURES = st.one_of(
    *(
        st.sampled_from([name for name in _CAPTURED if name.startswith(section)])
        for section in ("dialplan", "directory", "configuration")
    )
)
# What FreeSWITCH never waits longer for (mod_xml_curl's timeout is seconds): an
# answer past this is a hang, not a slow run.
ANSWER_WITHIN_SECONDS = 1.0

_SYNTAX = [
    "${system(id)}",
    "$${domain}",
    '<X-PRE-PROCESS cmd="exec" data="id"/>',
    "x-pre-process",
    "1000,user/2000",
    "1000|sofia/gateway/x/1",
    "[leg_timeout=1]user/1000",
    "{origination_caller_id_number=1}",
    "1000@evil.example",
    "sip:1000@evil.example;transport=tcp",
    "1*5",
    "#15",
    "112#",
    "+33612345678",
    "0612345678",
    "1000",
    "public",
    "default",
    "127.0.0.1",
    "true",
    "\x00",
    "\x01",
    "\ufffe",
    "\uffff",
    "\u202e1000",
    "%00",
    "%",
    "&section=directory",
]
VALUES = st.one_of(
    st.sampled_from(_SYNTAX),
    st.text(max_size=40),
    st.text(alphabet="0123456789*#+", max_size=25),
    st.builds(lambda c, n: c * n, st.sampled_from("1a$%\x01é"), st.integers(500, 20_000)),
)
# The fields every answer is built from (and may echo) come up more often.
_ECHOED = [
    fs.SECTION,
    fs.HUNT_CONTEXT,
    fs.HUNT_DESTINATION,
    fs.CALLER_CONTEXT,
    fs.CALLER_DESTINATION,
    fs.HUNT_CALLER_ID_NAME,
    fs.DOMAIN,
    fs.USER,
    fs.KEY_VALUE,
    fs.PURPOSE,
]
NAMES = st.one_of(
    st.sampled_from(_ECHOED),
    st.sampled_from([*sorted(_WANTED), "variable_sip_h_X-Evil", "Core-UUID", ""]),
)


@st.composite
def fetches(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=2_000))
    fields = fixture_fields(draw(FIXTURES))
    changes = draw(st.dictionaries(NAMES, VALUES, max_size=6))
    fields = with_fields(fields, changes)
    if draw(st.booleans()):
        fields = draw(st.permutations(fields))
    # fs_body encodes values as mod_xml_curl does; the section and keys go raw, so a
    # value there can also break the body's own syntax.
    return fs_body([(k, v.encode("utf-8", "replace").decode("utf-8")) for k, v in fields])


def test_every_request_gets_a_well_formed_answer_at_once(client, demo_tenant):
    @settings(
        max_examples=2_000,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(body=fetches())
    def fetch(body: bytes) -> None:
        started = time.perf_counter()
        response = client.post(
            "/xmlcurl",
            data=body,
            headers=basic_auth(),
            content_type="application/x-www-form-urlencoded",
        )
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, body[:300]
        assert response.mimetype == "text/xml"
        root = etree.fromstring(response.data)
        assert root.tag == "document" and root.get("type") == "freeswitch/xml"
        assert root.find("section") is not None
        ours = response.data.replace(fs.SOUNDS_DIR_VAR.encode(), b"")
        assert not holds_directive(ours), body[:300]
        assert elapsed < ANSWER_WITHIN_SECONDS, (elapsed, body[:300])

    fetch()
