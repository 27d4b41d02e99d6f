"""Call-record benchmark: server CPU per record mod_xml_cdr posts to `POST /cdr`.

    python -m bench.cdr_bench [--records 400] [--database-url URL] [--encode E] [--profile N]

Applies the demo tenant on domain 127.0.0.1 (the captured records' domain) to a fresh
database (a temporary SQLite file unless `--database-url`), then posts the captured
records of FreeSWITCH 1.10.12 (../shared/fixtures/xml_cdr, each call's legs, 6 to 25 kB
of XML) through the application's real handler, as mod_xml_cdr sends them with
freeswitch-conf's `encode=textxml` (`--encode true`: url-encoded in a form field, as it
was configured before; also `base64`, `unset`), each time with fresh leg and call
uuids so that every post stores new rows. Prints the CPU milliseconds of this process
per record (the handler, its parsing, its database work on SQLite; PostgreSQL's own
CPU is not counted), for the 24 kB A leg alone and for the mix of legs, and the wall
time. `--profile N` prints the N costliest functions of a cProfile run instead.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient

from centrex.app import create_app
from centrex.config import Settings
from centrex.db import make_engine, upgrade
from tests.conftest import XMLCURL_CREDENTIALS, apply_raw, basic_auth, demo_document
from tests.unit.test_cdr import CALL1_A, CALL1_A_UUID, bodies, cdr_xml

# Every captured leg, of both captured calls.
LEGS = ("cdr-leg-4", "cdr-leg", "cdr-leg-3", "cdr-leg-2", "cdr-leg-7", "cdr-leg-6", "cdr-leg-5")
# The legs of a line (the phones' own and the one ringing 1000): routed by Centrex they
# carry the line's `nolocal:centrex_peer_line` (a vanilla dialplan captured them).
LINE_LEGS = {"cdr-leg-4": "1001", "cdr-leg": "1000", "cdr-leg-7": "1001"}
OWN_LINE = "nolocal:centrex_peer_line"


def _records(names: tuple[str, ...]) -> list[tuple[bytes, set[str]]]:
    """Each leg's XML, and the uuids in it (replaced by fresh ones on every post)."""
    found = []
    for name in names:
        xml = cdr_xml(name)
        if name in LINE_LEGS:
            own = f"{LINE_LEGS[name]}%40127.0.0.1"
            element = f"<{OWN_LINE}>{own}</{OWN_LINE}>".encode()
            xml = xml.replace(b"<variables>", b"<variables>" + element, 1)
        uuids = {u for u in _uuids(xml.decode())}
        found.append((xml, uuids))
    return found


def _uuids(text: str) -> set[str]:
    import re

    return set(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text))


def _bodies(records: list[tuple[bytes, set[str]]], count: int, encode: str) -> list[bytes]:
    """`count` bodies cycling through the records, each call's uuids new."""
    out = []
    for i in range(count):
        xml, uuids = records[i % len(records)]
        text = xml.decode()
        for old in uuids:
            text = text.replace(old, str(uuid.UUID(int=hash((old, i // len(records))) % 2**128)))
        out.append(bodies(text.encode())[encode])
    return out


def _poster(client: FlaskClient) -> Callable[[bytes], None]:
    headers = basic_auth()

    def post(body: bytes) -> None:
        answer = client.post(
            f"/cdr?uuid=a_{CALL1_A_UUID}",
            data=body,
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )
        assert answer.status_code == 200, answer.get_data(as_text=True)

    return post


def _cpu_ms_per_record(post: Callable[[bytes], None], posted: list[bytes]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for body in posted:
        post(body)
    count = len(posted)
    return (
        (time.process_time() - cpu) * 1000 / count,
        (time.perf_counter() - wall) * 1000 / count,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=400)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--encode", default="textxml", choices=("textxml", "true", "base64", "unset")
    )
    parser.add_argument("--profile", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'cdr.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        apply_raw(engine, demo_document())
        settings = Settings(database_url=url, xmlcurl_credentials=XMLCURL_CREDENTIALS)
        app = create_app(settings, engine)
        post = _poster(app.test_client())
        a_leg = _records((CALL1_A,))
        every_leg = _records(LEGS)
        for body in _bodies(every_leg, 20, args.encode):  # warm up: imports, first statements
            post(body)
        if args.profile:
            posted = _bodies(a_leg, args.records, args.encode)
            profile = cProfile.Profile()
            profile.enable()
            for body in posted:
                post(body)
            profile.disable()
            pstats.Stats(profile).sort_stats("tottime").print_stats(args.profile)
            return
        size = len(cdr_xml(CALL1_A))
        load = os.getloadavg()[0]
        database = url.split(":")[0]
        print(f"{os.cpu_count()} CPUs, load average {load:.2f}, {database}, encode={args.encode}")
        for label, records in ((f"A leg ({size // 1024} kB)", a_leg), ("every leg", every_leg)):
            cpu, wall = _cpu_ms_per_record(post, _bodies(records, args.records, args.encode))
            print(f"{label:>16}: {cpu:6.2f} ms CPU / record, {wall:6.2f} ms wall")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        app.extensions["centrex"].kept.close()
        engine.dispose()


if __name__ == "__main__":
    main()
