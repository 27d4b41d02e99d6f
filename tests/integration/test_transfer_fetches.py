"""POST /xmlcurl with the transfer requests FreeSWITCH 1.10.12 sent in the end-to-end
setup (tests/fixtures/xml_curl/), against the demo tenant on 127.0.0.1: the answers, and
a constant number of queries whatever the transfer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import post_fetch
from tests.dial_strings import read_as_user_endpoints
from tests.fsrequests import with_fields
from tests.integration.test_xmlcurl import count_queries

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "xml_curl"
DOMAIN = "127.0.0.1"


def captured(name: str, **values: str) -> list[tuple[str, str]]:
    fields = [(k, v) for k, v in json.loads((FIXTURES / f"{name}.json").read_text())["fields"]]
    return with_fields(fields, values)


def refer_to(target: str) -> list[tuple[str, str]]:
    return captured(
        "dialplan-refer-transfer",
        **{"Hunt-Destination-Number": target, "Caller-Destination-Number": target},
    )


# The call log's mark of the decision (`xmlcurl.route_trail`): not the route's own.
ROUTE_MARK = "centrex_route="


def actions(response) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    root = etree.fromstring(response.data)
    return read_as_user_endpoints(
        [
            (a.get("application"), a.get("data", ""))
            for a in root.iter("action")
            if not a.get("data", "").startswith(ROUTE_MARK)
        ]
    )


def test_a_refer_to_a_colleague_rings_them(client, demo_tenant):
    assert ("bridge", f"user/1002@{DOMAIN}") in actions(post_fetch(client, refer_to("1002")))


def test_a_refer_out_goes_through_the_trunk_as_the_reception(client, demo_tenant):
    answer = actions(post_fetch(client, refer_to("0698765432")))
    assert ("set", "effective_caller_id_number=+33184800100") in answer
    assert ("bridge", f"sofia/gateway/{DOMAIN}/+33698765432") in answer


@pytest.mark.parametrize("target", ["00442079460000", "1002,user/x", "*318", "4242"])
def test_a_refused_refer_rings_the_caller_back_to_the_reception(client, demo_tenant, target):
    answer = actions(post_fetch(client, refer_to(target)))
    assert answer[-2:] == [("unset", "centrex_peer_line"), ("transfer", f"1000 XML {DOMAIN}")]


def test_the_dtmf_transfer_code_and_its_consultation(client, demo_tenant):
    code = actions(post_fetch(client, captured("dialplan-dtmf-transfer-code")))
    assert [a for a, _ in code] == ["unbind_meta_app", "read", "set", "att_xfer", "unset"]
    target = actions(
        post_fetch(
            client,
            captured(
                "dialplan-dtmf-transfer-target",
                # Set by the consultation's originate (captured before Centrex marked it).
                variable_centrex_consultation="true",
            ),
        )
    )
    assert ("bridge", f"user/1002@{DOMAIN}") in target


def test_a_transfer_fetch_costs_one_query_like_any_call(client, demo_tenant, engine):
    """The transferor's line loads with the dialled one: still one query a fetch."""

    def fetch(fields):  # type: ignore[no-untyped-def]
        return lambda: actions(post_fetch(client, fields))

    for fields in (
        refer_to("1002"),
        refer_to("0698765432"),
        captured("dialplan-dtmf-transfer-code"),
        captured(
            "dialplan-dtmf-transfer-target",
            # Set by the consultation's originate (captured before Centrex marked it).
            variable_centrex_consultation="true",
        ),
    ):
        assert count_queries(engine, fetch(fields)) == 1
