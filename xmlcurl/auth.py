"""HTTP basic authentication of FreeSWITCH's requests: mod_xml_curl's
`gateway-credentials` and mod_xml_cdr's `cred`, both the `xmlcurl_credentials` setting."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from flask import current_app

# What a refused request answers with, so that curl knows basic auth is expected.
CHALLENGE = (("WWW-Authenticate", 'Basic realm="centrex"'),)


@lru_cache(maxsize=4)
def _expected_header(credentials: str) -> bytes:
    return b"Basic " + base64.b64encode(credentials.encode())


def switch_authorised(environ: Mapping[str, Any]) -> bool:
    """Whether the request carries FreeSWITCH's credentials: compared as the whole
    header FreeSWITCH sends (libcurl always writes it the same way), in constant time.
    Nothing is accepted while no credentials are configured."""
    credentials: str = current_app.extensions["centrex"].settings.xmlcurl_credentials
    given = environ.get("HTTP_AUTHORIZATION", "")
    if not credentials or not given:
        return False
    return hmac.compare_digest(given.encode("latin-1"), _expected_header(credentials))
