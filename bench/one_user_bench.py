"""One user's save in a large tenant, through the REST API (the PUT of a user's call
handling, the PUT of a user's whole entry and its PATCH, a JSON merge patch) and through
the panel (the POST of the line page).

    python -m bench.one_user_bench [--sizes 100,100000] [--saves 300] [--database-url URL]

For each size, a tenant of that many users (apply_bench's document: users with
contacts, forwards, barring choices; groups, a queue, schedules) is applied, then, for
each kind of save, `--saves` changes of one user are sent one after the other through
the application (Flask's WSGI stack, the token check, the use case, the commit), each
made from the version the previous answer gave. Call handling: do-not-disturb on, a
forward to a colleague, off again. User PUT: the user as the GET gave them, renamed, a
contact and a forward to a colleague added, then taken off again. User PATCH: the name,
the voicemail e-mails and a forward changed by a merge patch. Panel: the user logs in
(their panel password set beforehand), then for each save GETs their line page for its
CSRF token and the version it shows, and POSTs the form with do-not-disturb and a busy
forward to a colleague turned on or off (the POST alone is timed). Each answer is
checked (200, or the panel's redirect to the page, which then shows the next version).
Prints p50, p99 and max per size and kind, and the ratio of the largest size's p50 to
the smallest's (saved in bench/results/).
Target: p50 ≤ 50 ms and p99 ≤ 150 ms at 100,000 users, within 1.5× of 100.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from bench.apply_bench import bench_document, domain_of, drop_tenants
from bench.xmlcurl_bench import print_and_save, revision
from centrex.app import create_app
from centrex.config import Settings
from centrex.db import make_engine, make_session_factory, upgrade
from provisioning import accounts, service
from provisioning.document import parse_document

CHANGES = (
    {"do_not_disturb": {}},
    {"forward_always": {"to": "{colleague}"}},
    {},
)


def _call_handling_saves(client, base: str, headers, colleague: str, saves: int) -> list[float]:
    url_path = f"{base}/call-handling"
    version = client.get(url_path, headers=headers).json["version"]
    timings = []
    for k in range(saves):
        change = {
            key: {**value, **({"to": colleague} if "to" in value else {})}
            for key, value in CHANGES[k % len(CHANGES)].items()
        }
        started = time.perf_counter()
        answer = client.put(
            url_path, headers=headers, json={"call_handling": change, "version": version}
        )
        timings.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.json
        assert answer.json["version"] == version + 1
        version += 1
    return timings


def _user_puts(client, base: str, headers, colleague: str, saves: int) -> list[float]:
    shown = client.get(base, headers=headers).json
    version = shown["version"]
    timings = []
    for k in range(saves):
        body = {**shown, "version": version}
        if k % 2 == 0:
            body["name"] = f"Renamed {k}"
            body["contacts"] = [{"name": "Plumber", "numbers": ["01 45 45 45 45"]}]
            body["call_handling"] = {"forward_busy": {"to": colleague}}
        started = time.perf_counter()
        answer = client.put(base, headers=headers, json=body)
        timings.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.json
        assert answer.json["version"] == version + 1, answer.json
        version += 1
    return timings


def _user_patches(client, base: str, headers, colleague: str, saves: int) -> list[float]:
    version = client.get(base, headers=headers).json["version"]
    timings = []
    for k in range(saves):
        patch = {
            "name": f"Patched {k}",
            "voicemail": {"emails": [f"box{k}@example.com"] if k % 2 else None},
            "call_handling": {"forward_busy": {"to": colleague} if k % 2 else None},
            "version": version,
        }
        started = time.perf_counter()
        answer = client.patch(
            base, headers=headers, json=patch, content_type="application/merge-patch+json"
        )
        timings.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.json
        assert answer.json["version"] == version + 1
        version += 1
    return timings


PANEL_PASSWORD = "Bench-4729-Cedar!"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_VERSION = re.compile(r'name="version" type="hidden" value="(\d+)"')


def _line_page(client, path: str) -> tuple[str, int]:
    """The line page's CSRF token and the version of the settings it shows."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    token, version = _CSRF.search(page.text), _VERSION.search(page.text)
    assert token and version, page.text[:500]
    return token[1], int(version[1])


def _panel_posts(client, base: str, headers, colleague: str, saves: int) -> list[float]:
    domain, extension = base.split("/")[-3], base.split("/")[-1]
    login = _CSRF.search(client.get("/panel/login").text)
    assert login, "no CSRF token on the log-in page"
    logged = client.post(
        "/panel/login",
        data={
            "number": f"{extension}@{domain}",
            "password": PANEL_PASSWORD,
            "csrf_token": login[1],
        },
    )
    assert logged.status_code == 302, logged.text[:500]
    path = f"/panel/lines/{extension}"
    token, version = _line_page(client, path)
    timings = []
    for k in range(saves):
        form = {"csrf_token": token, "version": str(version), "no_answer_after": "20"}
        if k % 2 == 0:
            form |= {"do_not_disturb": "y", "forward_busy": "y", "forward_busy_to": colleague}
        started = time.perf_counter()
        answer = client.post(path, data=form)
        timings.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 302 and answer.location.endswith(path), answer.text[:800]
        token, shown = _line_page(client, path)
        assert shown == version + 1, (shown, version)
        version = shown
    return timings


KINDS = {
    "PUT …/call-handling": _call_handling_saves,
    "PUT …/users/{ext}": _user_puts,
    "PATCH …/users/{ext}": _user_patches,
    "panel POST /panel/lines/{ext}": _panel_posts,
}


def run_size(engine, url: str, users: int, saves: int) -> dict[str, list[float]]:
    raw = bench_document(users)
    started = time.perf_counter()
    with make_session_factory(engine).begin() as session:
        service.apply_document(session, parse_document(raw))
        token = service.create_token(session, f"bench-{users}", domain_of(users))
    print(f"{users} users applied in {time.perf_counter() - started:.1f} s", flush=True)
    # A user in the middle of the tenant, and a colleague to forward to.
    extension = raw["users"][users // 2]["extension"]
    colleague = raw["users"][users // 2 + 1]["extension"]
    with make_session_factory(engine).begin() as session:
        accounts.set_password(session, domain_of(users), extension, PANEL_PASSWORD)
    settings = Settings(
        database_url=url,
        xmlcurl_credentials="fs:bench",
        secret_key="bench-panel-secret-key-of-32-chars-at-least",
        secure_cookies=False,
    )
    app = create_app(settings, engine)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    base = f"/api/v1/tenants/{domain_of(users)}/users/{extension}"
    timings = {
        kind: saving(client, base, headers, colleague, saves) for kind, saving in KINDS.items()
    }
    app.extensions["centrex"].kept.close()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,100000")
    parser.add_argument("--saves", type=int, default=300)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as work:
        url = args.database_url or f"sqlite:///{Path(work) / 'bench.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        rows = []
        medians: dict[str, dict[int, float]] = {kind: {} for kind in KINDS}
        for users in sizes:
            drop_tenants(engine, sizes)  # each size's tenant has the same numbers
            for kind, timings in run_size(engine, url, users, args.saves).items():
                ordered = sorted(timings)
                p50 = statistics.median(ordered)
                p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
                medians[kind][users] = p50
                rows.append(
                    f"| {kind} | {users:,} | {p50:.1f} ms | {p99:.1f} ms | {ordered[-1]:.1f} ms |"
                )
        engine.dispose()
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    lines = [
        f"One user's save through the REST API and the panel, {args.saves} saves a size and "
        "kind, "
        f"{database}, revision {revision()}",
        "",
        "| save | users | p50 | p99 | max |",
        "|---|---:|---:|---:|---:|",
        *rows,
    ]
    if len(sizes) > 1:
        lines.append("")
        for kind, by_size in medians.items():
            ratio = by_size[sizes[-1]] / by_size[sizes[0]]
            lines.append(f"{kind}: p50 at {sizes[-1]:,} users ÷ p50 at {sizes[0]:,}: ×{ratio:.2f}")
    print_and_save("\n".join(lines), "one-user")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
