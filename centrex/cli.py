"""The `centrex` command.

    centrex serve [--host H] [--port P] [--workers N] [--panel-port P]
                                                       xml_curl and call records on one
                                                       port, the panel and REST API on another
    centrex esl                                        the event-socket listener + live API
    centrex db upgrade                                 create or migrate the schema
    centrex apply FILE [--dry-run [--json]]            create/update a tenant from a document
    centrex export DOMAIN [-o FILE]                    write a tenant's document
    centrex delete DOMAIN --yes                        delete a tenant and all it owns
    centrex tenants                                    list tenants
    centrex token create NAME [--tenant DOMAIN]        make a REST API token
    centrex holidays import DOMAIN --year Y [--country C] [--user EXT]
    centrex holidays import-csv DOMAIN FILE            add holidays from a CSV file
    centrex summary DOMAIN [--html]                    every rule in force, printable
    centrex explain DOMAIN --from CALLER --to NUMBER [--at "YYYY-MM-DD HH:MM"]
                    [--assume EXT=STATE,…] [--json]    what a call would do, and why
    centrex cdr import DIR                             import call records FreeSWITCH left
                                                       in its xml_cdr err-log-dir
    centrex calls DOMAIN [--user EXT] [--month YYYY-MM] [--kind K] [--search Q] [--csv]
                                                       the call log of a tenant or a user
    centrex reminders DOMAIN EXT                       list a line's reminders (wake-up calls)
    centrex media add DOMAIN KIND NAME FILE            add or replace an announcement, hold
                                                       music or ringback tone (WAV or MP3)
    centrex media list DOMAIN                          list a tenant's media
    centrex media delete DOMAIN KIND NAME              remove a media and its files
    centrex schema                                     JSON Schema of the tenant document
    centrex demo [--domain D]                          demo tenant + serve (the quick start)

Exit status: 0 done, 1 refused (invalid document, unknown tenant, bad settings), 2 usage.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import getpass
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from centrex.config import ConfigError, Settings, environment, load_settings, require
from centrex.db import make_engine, make_session_factory, upgrade
from provisioning import explain, media, preview, reminders, service, summary
from provisioning.document import (
    DocumentInvalid,
    dump_text,
    json_schema,
    load_text,
    parse_document,
)
from provisioning.errors import DomainError
from provisioning.preview import RoutingEffects
from provisioning.validation import InvalidValue, check_panel_password


def _sessions(settings: Settings) -> sessionmaker[Session]:
    return make_session_factory(make_engine(settings.effective_database_url))


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    require(settings, "xmlcurl_credentials")
    from centrex.server import serve

    return serve(settings)


def cmd_esl(settings: Settings, _args: argparse.Namespace) -> int:
    require(settings, "esl_password")
    from esl.service import run_listener

    return run_listener(settings)


def cmd_db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    upgrade(make_engine(settings.effective_database_url))
    print(f"database at {settings.effective_database_url} is up to date")
    return 0


@contextlib.contextmanager
def _whole_tenant() -> Iterator[None]:
    """A command that holds a whole tenant (100,000 users: millions of objects) runs
    without the cyclic garbage collector, whose repeated full passes over them all
    added a sixth to the time; what it builds forms no cycles, and the command ends."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _apply_text(settings: Settings, text: str, dry_run: bool) -> service.ApplyReport:
    with _whole_tenant():
        raw = load_text(text)
        with _sessions(settings).begin() as session:
            report = service.apply_data(session, raw)
            if dry_run:
                session.rollback()
    return report


def _preview_text(settings: Settings, text: str) -> tuple[service.ApplyReport, RoutingEffects]:
    """A dry run with its routing effects: the whole document parsed (its calls are
    taken from it), applied and explained inside a transaction rolled back."""
    with _whole_tenant():
        doc = parse_document(load_text(text))
        with _sessions(settings).begin() as session:
            return preview.dry_run(
                session,
                doc,
                default_country=settings.default_country,
                media_dir=str(settings.effective_media_dir),
            )


def cmd_apply(settings: Settings, args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    if args.dry_run:
        report, effects = _preview_text(settings, text)
        if args.json:
            body = {"dry_run": True, **report.as_dict(), "routing": effects.as_dict()}
            print(json.dumps(body, ensure_ascii=False, indent=2))
            return 0
    else:
        report = _apply_text(settings, text, dry_run=False)
    verb = "would" if args.dry_run else "did"
    if not report.changed:
        print("no change")
    for kind in ("created", "updated", "deleted"):
        for item in getattr(report, kind):
            print(f"{verb} {kind[:-1]}: {item}" if args.dry_run else f"{kind}: {item}")
    if args.dry_run:
        print(preview.as_text(effects))
    return 0


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    with _whole_tenant(), _sessions(settings).begin() as session:
        text = dump_text(service.export_data(session, args.domain))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def cmd_delete(settings: Settings, args: argparse.Namespace) -> int:
    if not args.yes:
        print(
            f"deleting {args.domain} removes all its users and numbers: add --yes", file=sys.stderr
        )
        return 1
    with _sessions(settings).begin() as session:
        service.delete_tenant(session, args.domain, media.MediaStore(settings.effective_media_dir))
    print(f"deleted: tenant {args.domain}")
    return 0


def cmd_tenants(settings: Settings, _args: argparse.Namespace) -> int:
    with _sessions(settings).begin() as session:
        for domain in service.list_tenants(session):
            print(domain)
    return 0


def cmd_token_create(settings: Settings, args: argparse.Namespace) -> int:
    with _sessions(settings).begin() as session:
        token = service.create_token(session, args.name, args.tenant)
    print(token)
    return 0


def cmd_holidays_import(settings: Settings, args: argparse.Namespace) -> int:
    with _sessions(settings).begin() as session:
        report = service.import_holidays(session, args.domain, args.country, args.year, args.user)
    print("updated: " + ", ".join(report.updated) if report.changed else "no change")
    return 0


def cmd_holidays_import_csv(settings: Settings, args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    with _sessions(settings).begin() as session:
        report = service.import_holidays_csv(session, args.domain, text)
    print("updated: " + ", ".join(report.updated) if report.changed else "no change")
    return 0


def cmd_summary(settings: Settings, args: argparse.Namespace) -> int:
    with _sessions(settings).begin() as session:
        doc = service.export_document(session, args.domain)
    found = summary.summarise(doc, datetime.now(UTC))
    sys.stdout.write(summary.as_html(found) if args.html else summary.as_text(found))
    sys.stdout.write("\n")
    return 0


def cmd_explain(settings: Settings, args: argparse.Namespace) -> int:
    with _sessions(settings).begin() as session:
        found, timezone = explain.explain_call(
            session.connection(),
            args.domain,
            args.caller,
            args.to,
            at=args.at,
            assume=args.assume,
            default_country=settings.default_country,
            media_dir=str(settings.effective_media_dir),
            now=datetime.now(UTC),
        )
    if args.json:
        print(json.dumps(found.as_dict(timezone), ensure_ascii=False, indent=2))
    else:
        print(explain.as_text(found, timezone))
    return 0


def cmd_reminders(settings: Settings, args: argparse.Namespace) -> int:
    with _sessions(settings).begin() as session:
        tenant, _ = service.find_line(session, args.domain, args.extension)
        found = reminders.list_reminders(session, args.domain, args.extension)
    if not found:
        print(f"no reminders for {args.extension}@{args.domain}")
    zone = ZoneInfo(tenant.timezone)
    for r in found:
        when = f"{r.on_date} {r.at_time:%H:%M}" if r.on_date else f"{r.at_time:%H:%M}"
        due = reminders.as_utc(r.next_due_at)
        following = f"{due.astimezone(zone):%Y-%m-%d %H:%M}" if due else "never"
        state = "" if r.enabled else "  (disabled)"
        print(f"{r.id:>5}  {r.kind:<12}  {when:<16}  next {following:<16}  {r.label}{state}")
    return 0


def _minutes(duration_ms: int) -> str:
    seconds = round(duration_ms / 1000)
    return f"{seconds // 60}:{seconds % 60:02d}"


def cmd_media_add(settings: Settings, args: argparse.Namespace) -> int:
    with open(args.file, "rb") as fh:
        # One byte over the limit is enough to refuse the file.
        data = fh.read(media.MAX_BYTES + 1)
    store = media.MediaStore(settings.effective_media_dir)
    with _sessions(settings).begin() as session:
        item, created = service.upload_media(
            session, store, args.domain, args.kind, args.name, data
        )
    verb = "created" if created else "replaced"
    print(f"{verb}: {item.kind} {item.name} ({_minutes(item.duration_ms)}, {item.size} bytes)")
    return 0


def cmd_media_list(settings: Settings, args: argparse.Namespace) -> int:
    from xmlcurl.local_stream import hold_music_url

    with _sessions(settings).begin() as session:
        items = service.list_media(session, args.domain)
    if not items:
        print(f"no media for {args.domain}")
    for item in items:
        if item.kind == media.MUSIC:
            played_as = hold_music_url(item.domain, item.name)
        else:
            played_as = str(settings.effective_media_dir / item.path)
        print(f"{item.kind:<12}  {item.name:<32}  {_minutes(item.duration_ms):>5}  {played_as}")
    return 0


def cmd_media_delete(settings: Settings, args: argparse.Namespace) -> int:
    store = media.MediaStore(settings.effective_media_dir)
    with _sessions(settings).begin() as session:
        service.delete_media(session, store, args.domain, args.kind, args.name)
    print(f"deleted: {args.kind} {args.name}")
    return 0


def cmd_cdr_import(settings: Settings, args: argparse.Namespace) -> int:
    from esl.calllog import import_error_dir

    if not Path(args.directory).is_dir():
        print(f"centrex: {args.directory} is not a directory", file=sys.stderr)
        return 1
    engine = make_engine(settings.effective_database_url)
    report = import_error_dir(engine, args.directory, settings.default_country)
    print(report)
    return 1 if report.error else 0


def _clock(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def cmd_calls(settings: Settings, args: argparse.Namespace) -> int:
    from esl import calllog

    filters = {"user": args.user, "month": args.month, "kind": args.kind, "search": args.search}
    with _sessions(settings).begin() as session:
        if args.csv:
            sys.stdout.write(calllog.calls_csv(session, args.domain, **filters))
            return 0
        page = calllog.query_calls(session, args.domain, **filters, limit=args.limit)
    for c in page.calls:
        peer = f"{c.peer_number or 'withheld'} {c.peer_name}".strip()
        print(
            f"{c.started_at:%Y-%m-%d %H:%M}  {c.extension:>8}  {c.kind:<9}  {peer:<40}"
            f"  {_clock(c.billsec):>6}  {c.hangup_cause}"
        )
        if c.route:
            print(f"{'':>18}rule applied: {c.route}")
    if page.total > len(page.calls):
        print(f"… and {page.total - len(page.calls)} more (--limit)")
    return 0


def cmd_panel_password(settings: Settings, args: argparse.Namespace) -> int:
    """The password from standard input (one line) or, on a terminal, asked twice."""
    if sys.stdin.isatty():
        password = getpass.getpass("New panel password: ")
        if getpass.getpass("Again: ") != password:
            print("error: the two passwords differ", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\n")
    from provisioning import accounts

    try:
        with _sessions(settings).begin() as session:
            accounts.set_password(session, args.domain, args.extension, password)
    except InvalidValue as exc:
        raise InvalidValue(exc.said, path="password") from None
    print(f"panel password of {args.extension}@{args.domain} set")
    return 0


def _demo_panel_password(numbers: list[str]) -> str:
    """A password the panel's rules accept (12-20 chars, no sequence, not the numbers)."""
    while True:
        words = [secrets.choice(_DEMO_WORDS) for _ in range(2)]
        password = f"{words[0]}-{secrets.randbelow(9000) + 1000}-{words[1]}!"
        try:
            return check_panel_password(password, own_numbers=numbers)
        except InvalidValue:
            continue


_DEMO_WORDS = ("Maple", "River", "Cedar", "Harbor", "Violet", "Summit", "Orchid", "Falcon")


def cmd_schema(_settings: Settings, _args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(), indent=2))
    return 0


def _demo_secret(path: Path, make: Any) -> str:
    if path.exists():
        return path.read_text().strip()
    value = make()
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from provisioning import accounts

    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    credentials = settings.xmlcurl_credentials or _demo_secret(
        data_dir / "xmlcurl-credentials", lambda: f"freeswitch:{secrets.token_urlsafe(18)}"
    )
    esl_password = settings.esl_password or _demo_secret(
        data_dir / "esl-password", lambda: secrets.token_urlsafe(18)
    )
    secret_key = settings.secret_key or _demo_secret(
        data_dir / "secret-key", lambda: secrets.token_urlsafe(48)
    )
    # The demo serves plain HTTP: its panel cookie cannot be Secure.
    settings = dataclasses.replace(
        settings,
        xmlcurl_credentials=credentials,
        esl_password=esl_password,
        secret_key=secret_key,
        secure_cookies=False,
    )
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    raw = load_text(resources.files("provisioning").joinpath("demo/tenant.yaml").read_text())
    raw["domain"] = args.domain
    # The demo tenant moves with --domain: the one an earlier run made goes first
    # (it owns the demo's public numbers).
    marker = data_dir / "demo-domain"
    previous = marker.read_text().strip() if marker.exists() else None
    if previous and previous != args.domain:
        with make_session_factory(engine).begin() as session:
            if previous in service.list_tenants(session, previous):
                service.delete_tenant(
                    session, previous, media.MediaStore(settings.effective_media_dir)
                )
    marker.write_text(args.domain + "\n")
    report = _apply_text(settings, dump_text(raw), dry_run=False)
    sessions = make_session_factory(engine)

    def make_token() -> str:
        with sessions.begin() as session:
            return service.create_token(session, f"demo-{secrets.token_hex(4)}", None)

    token = _demo_secret(data_dir / "demo-api-token", make_token)
    doc = parse_document(raw)
    # Kept so that every run prints them; set again each run (the tenant may be new).
    panel_passwords = json.loads(
        _demo_secret(
            data_dir / "demo-panel-passwords",
            lambda: json.dumps(
                {
                    u.extension: _demo_panel_password([u.extension, u.public_number or ""])
                    for u in doc.users
                }
            ),
        )
    )
    with sessions.begin() as session:
        for extension, password in panel_passwords.items():
            accounts.set_password(session, args.domain, extension, password)
    url = f"http://{settings.host}:{settings.port}"
    people = f"http://{settings.host}:{settings.panel_port}"
    print(f"""
Centrex demo — database {settings.effective_database_url}
  tenant {args.domain}: {"created" if report.created else "up to date"}

Point FreeSWITCH at it (freeswitch-conf/vars.d/site.xml, see freeswitch-conf/README.md):
  centrex_url                  = {url}
  centrex_xmlcurl_credentials  = {credentials}
  centrex_esl_password         = {esl_password}

Demo phones (SIP domain and realm {args.domain}, FreeSWITCH port 5060):""")
    for user in doc.users:
        box = f"voicemail PIN {user.voicemail.pin}" if user.voicemail.enabled else "no voicemail"
        print(f"  {user.extension}  {user.name:<16} password {user.sip_password}  {box}")
    print(
        f"""  voicemail: dial *318 from your phone

Panel: {people}/panel/   (log in as extension@{args.domain}; 1000 manages the users)"""
    )
    for user in doc.users:
        print(f"  {user.extension}@{args.domain}  panel password {panel_passwords[user.extension]}")
    print(
        f"""

REST API: {people}/api/v1/tenants/{args.domain}   (Authorization: Bearer {token})
Live activity: http://{settings.host}:{settings.live_port}/api/v1/tenants/{args.domain}/activity
  (the event-socket listener follows {", ".join(settings.esl_nodes)})
""",
        flush=True,
    )
    from centrex.server import serve

    listener = _start_listener(settings)
    try:
        serve(settings)
    finally:
        listener.terminate()
        listener.wait(timeout=10)
    return 0


def _start_listener(settings: Settings) -> subprocess.Popen[bytes]:
    """`centrex esl` beside the server, with the same settings."""
    env = {**os.environ, **environment(settings)}
    env["CENTREX_DATABASE_URL"] = settings.effective_database_url
    return subprocess.Popen([sys.executable, "-m", "centrex.cli", "esl"], env=env)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="centrex", description="Centrex routing server")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve xml_curl and the REST API")
    serve.add_argument("--host")
    serve.add_argument("--port")
    serve.add_argument("--workers")
    serve.add_argument("--panel-port", help="where the panel and the REST API answer")
    serve.set_defaults(run=cmd_serve)

    sub.add_parser(
        "esl", help="follow FreeSWITCH's event sockets: live state, presence, live API"
    ).set_defaults(run=cmd_esl)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db", required=True)
    db.add_parser("upgrade", help="create or migrate the schema").set_defaults(run=cmd_db_upgrade)

    apply = sub.add_parser("apply", help="create or update a tenant from a YAML/JSON document")
    apply.add_argument("file", help="the document, or - for standard input")
    apply.add_argument(
        "--dry-run",
        action="store_true",
        help="validate and report only, with the calls whose routing changes",
    )
    apply.add_argument("--json", action="store_true", help="a dry run's report as JSON")
    apply.set_defaults(run=cmd_apply)

    export = sub.add_parser("export", help="write a tenant's document (YAML)")
    export.add_argument("domain")
    export.add_argument("-o", "--output", help="file to write (default: standard output)")
    export.set_defaults(run=cmd_export)

    delete = sub.add_parser("delete", help="delete a tenant and everything it owns")
    delete.add_argument("domain")
    delete.add_argument("--yes", action="store_true")
    delete.set_defaults(run=cmd_delete)

    sub.add_parser("tenants", help="list tenants").set_defaults(run=cmd_tenants)

    token = sub.add_parser("token", help="REST API tokens").add_subparsers(
        dest="token", required=True
    )
    create = token.add_parser("create", help="make a token (printed once)")
    create.add_argument("name")
    create.add_argument("--tenant", help="limit the token to this tenant's domain")
    create.set_defaults(run=cmd_token_create)

    hol = sub.add_parser("holidays", help="national holidays").add_subparsers(
        dest="holidays", required=True
    )
    imp = hol.add_parser("import", help="add a year's national holidays to a tenant or a user")
    imp.add_argument("domain")
    imp.add_argument("--year", type=int, required=True)
    imp.add_argument("--country", help="ISO 3166 code (default: the tenant's country)")
    imp.add_argument("--user", help="extension: add them to its planner's special days")
    imp.set_defaults(run=cmd_holidays_import)
    csv_import = hol.add_parser(
        "import-csv", help="add holidays from a CSV file (date,name or from,to,name)"
    )
    csv_import.add_argument("domain")
    csv_import.add_argument("file", help="the CSV file, or - for standard input")
    csv_import.set_defaults(run=cmd_holidays_import_csv)

    summ = sub.add_parser("summary", help="every rule in force for a tenant, printable")
    summ.add_argument("domain")
    summ.add_argument("--html", action="store_true", help="a standalone HTML page")
    summ.set_defaults(run=cmd_summary)

    expl = sub.add_parser("explain", help="what a call would do, and why (nothing is dialled)")
    expl.add_argument("domain")
    expl.add_argument("--from", dest="caller", required=True, help="an extension or a number")
    expl.add_argument("--to", required=True, help="what is dialled")
    expl.add_argument("--at", help='the tenant\'s wall-clock time, "2026-12-24 12:45" (now)')
    expl.add_argument("--assume", help="live state assumed: 1001=busy,1002=unregistered,…")
    expl.add_argument("--json", action="store_true", help="the explanation as JSON")
    expl.set_defaults(run=cmd_explain)

    rem = sub.add_parser("reminders", help="list a line's reminders (wake-up calls)")
    rem.add_argument("domain")
    rem.add_argument("extension")
    rem.set_defaults(run=cmd_reminders)

    med = sub.add_parser("media", help="announcements, hold music, ringback tones").add_subparsers(
        dest="media", required=True
    )
    add = med.add_parser("add", help="add or replace a media from a WAV or MP3 file")
    add.add_argument("domain")
    add.add_argument("kind", choices=media.KINDS)
    add.add_argument("name")
    add.add_argument("file")
    add.set_defaults(run=cmd_media_add)
    listing = med.add_parser("list", help="list a tenant's media")
    listing.add_argument("domain")
    listing.set_defaults(run=cmd_media_list)
    remove = med.add_parser("delete", help="remove a media and its files")
    remove.add_argument("domain")
    remove.add_argument("kind", choices=media.KINDS)
    remove.add_argument("name")
    remove.set_defaults(run=cmd_media_delete)

    cdr = sub.add_parser("cdr", help="call records").add_subparsers(dest="cdr", required=True)
    cdr_import = cdr.add_parser("import", help="import the records FreeSWITCH could not post")
    cdr_import.add_argument("directory", help="mod_xml_cdr's err-log-dir")
    cdr_import.set_defaults(run=cmd_cdr_import)

    calls = sub.add_parser("calls", help="the call log of a tenant, or of one user")
    calls.add_argument("domain")
    calls.add_argument("--user", help="only this extension's log")
    calls.add_argument("--month", help="YYYY-MM, in the tenant's timezone")
    calls.add_argument(
        "--kind", choices=["placed", "received", "missed", "rejected", "forwarded", "transferred"]
    )
    calls.add_argument("--search", help="the peer's number or name holds this")
    calls.add_argument("--limit", type=int, default=100, help="latest entries shown (default 100)")
    calls.add_argument("--csv", action="store_true", help="every matching entry, as CSV")
    calls.set_defaults(run=cmd_calls)

    panel = sub.add_parser("panel-password", help="set a user's panel password")
    panel.add_argument("domain")
    panel.add_argument("extension")
    panel.set_defaults(run=cmd_panel_password)

    sub.add_parser("schema", help="print the tenant document's JSON Schema").set_defaults(
        run=cmd_schema
    )

    demo = sub.add_parser("demo", help="load the demo tenant and serve")
    demo.add_argument("--domain", default="127.0.0.1", help="the demo tenant's SIP domain")
    demo.add_argument("--host")
    demo.add_argument("--port")
    demo.add_argument("--panel-port")
    demo.set_defaults(run=cmd_demo)
    return parser


def report(error: DomainError | IntegrityError, source: str = "centrex") -> int:
    """The one place the command line says what was refused, on stderr, after `source`
    (the command, or the file it read); its exit status."""
    if isinstance(error, IntegrityError):
        print(
            f"{source}: changed by someone else meanwhile; nothing written, retry", file=sys.stderr
        )
    elif isinstance(error, DocumentInvalid):
        print(f"{source}: invalid, nothing written:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
    else:
        for problem in error.problems:
            print(f"{source}: {problem}", file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    overrides = {k: getattr(args, k, None) for k in ("host", "port", "workers", "panel_port")}
    try:
        settings = load_settings(os.environ, **overrides)
        return int(args.run(settings, args))
    except ConfigError as exc:
        print(f"centrex: configuration error:\n{exc}", file=sys.stderr)
        return 1
    except (DomainError, IntegrityError) as exc:
        return report(exc, getattr(args, "file", None) or "centrex")
    except UnicodeDecodeError as exc:  # a file (or standard input) read as UTF-8
        source = getattr(args, "file", None) or "input"
        byte = exc.object[exc.start]
        print(f"{source}: not UTF-8 text (byte {byte:#04x} at {exc.start})", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"centrex: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
