"""The panel's pages: log in, my forwarding, my password; for tenant admins, the
tenant's users and their forwarding (acting for them)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm

from admin.forms import (
    MEDIA_KINDS,
    ContactForm,
    DeleteContactForm,
    DeleteMediaForm,
    ForwardingForm,
    ImportContactsForm,
    LoginForm,
    LogoutForm,
    MediaForm,
    PasswordForm,
)
from admin.forwarding import FORWARDS, ForwardFields, ForwardingFields, call_handling_for, fields_of
from centrex.config import Settings
from esl.calllog import InvalidQuery, calls_csv, query_calls
from esl.cdr import Kind
from provisioning import accounts, contacts_csv, media, service
from provisioning.accounts import Account
from provisioning.document import DocumentInvalid, Problem, dump_document, parse_document
from provisioning.validation import InvalidValue

log = logging.getLogger(__name__)

blueprint = Blueprint("panel", __name__, template_folder="templates", static_folder="static")

_SECURITY_HEADERS = {
    # Pages of this origin only: no framing, no inline or outside scripts.
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def configure_panel(app: Flask, settings: Settings) -> None:
    app.secret_key = settings.secret_key or None
    app.config.update(
        SESSION_COOKIE_NAME="centrex_panel",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=accounts.SESSION_LIFETIME,
        # CSRF tokens are checked by each form, not on every POST of the application:
        # xml_curl, xml_cdr and the API authenticate otherwise.
        WTF_CSRF_CHECK_DEFAULT=False,
    )


@blueprint.before_request
def _panel_on() -> Response | None:
    if not current_app.secret_key:
        return Response(
            "The panel is off: set CENTREX_SECRET_KEY.", status=503, mimetype="text/plain"
        )
    return None


@blueprint.after_request
def _security_headers(response: Response) -> Response:
    response.headers.update(_SECURITY_HEADERS)
    return response


def _sessions() -> Any:
    return current_app.extensions["centrex"].sessions


def _settings() -> Settings:
    return current_app.extensions["centrex"].settings


def _logged_in() -> Account | None:
    """The account of this browser's session, read again: the session may have been
    closed (log-out, a password change), the user gone or their admin flag changed."""
    token = session.get("sid")
    if not isinstance(token, str):
        return None
    with _sessions().begin() as db:
        return accounts.session_account(db, token)


def _start_session(account: Account) -> None:
    with _sessions().begin() as db:
        token = accounts.open_session(db, account)
    session.clear()
    session.permanent = True
    session["sid"] = token


def _account_page(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        account = _logged_in()
        if account is None:
            session.clear()
            return redirect(url_for("panel.login"))
        return view(account, *args, **kwargs)

    return wrapper


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        account = accounts.log_in(
            _sessions(),
            form.number.data or "",
            form.password.data or "",
            _settings().default_country,
        )
        if account is None:
            log.info("panel log-in refused for %r from %s", form.number.data, request.remote_addr)
            form.password.errors = ["Unknown number or wrong password."]
        else:
            _start_session(account)
            log.info("panel log-in of %s@%s", account.extension, account.domain)
            return redirect(url_for("panel.home"))
    return render_template("login.html", form=form), 200 if request.method == "GET" else 400


@blueprint.post("/logout")
def logout() -> Any:
    if LogoutForm().validate_on_submit():
        token = session.get("sid")
        if isinstance(token, str):
            with _sessions().begin() as db:
                accounts.close_session(db, token)
        session.clear()
    return redirect(url_for("panel.login"))


@blueprint.get("/")
@_account_page
def home(account: Account) -> Any:
    return redirect(url_for("panel.line", extension=account.extension))


@blueprint.get("/users")
@_account_page
def users(account: Account) -> Any:
    if not account.admin:
        abort(403)
    with _sessions().begin() as db:
        listed = accounts.tenant_accounts(db, account.domain)
    return render_template("users.html", account=account, users=listed, logout=LogoutForm())


# Problems reported on a user's call handling → the form field they concern.
_PROBLEM = re.compile(r"users\[\d+\]\.call_handling\.(?P<key>\w+)(?:\.(?P<field>\w+))?")


def _field_for(path: str) -> str | None:
    match = _PROBLEM.match(path)
    if match is None:
        return None
    key, field = match["key"], match["field"]
    if key in FORWARDS:
        return "no_answer_after" if field in ("after", "rings") else f"{key}_to"
    if key == "caller_id":
        return field if field in ("hide_incoming", "outgoing_number") else "withhold"
    return "do_not_disturb" if key == "do_not_disturb" else None


def _change_user(
    account: Account, extension: str, change: Callable[[dict[str, Any]], None], what: str
) -> list[Problem]:
    """Make `change` to the user's part of the tenant document and apply the document
    with every check; nothing is written if any fails, and the problems are returned."""
    with _sessions().begin() as db:
        raw = dump_document(service.export_document(db, account.domain))
        change(next(u for u in raw.get("users", []) if u["extension"] == extension))
        try:
            service.apply_document(db, parse_document(raw))
        except DocumentInvalid as invalid:
            db.rollback()
            return invalid.problems
    log.info("panel: %s@%s changed %s of %s", account.extension, account.domain, what, extension)
    return []


def _save_forwarding(account: Account, extension: str, form: ForwardingForm) -> list[str]:
    """Apply the form to the user's call handling through the tenant document; the
    problems found, by field (on the form) or not (returned)."""
    fields = ForwardingFields(
        {
            key: ForwardFields(bool(getattr(form, key).data), getattr(form, f"{key}_to").data or "")
            for key in FORWARDS
        },
        form.no_answer_after.data or 0,
        bool(form.do_not_disturb.data),
        bool(form.withhold.data),
        bool(form.hide_incoming.data),
        form.outgoing_number.data or "",
    )

    def change(user: dict[str, Any]) -> None:
        user["call_handling"] = call_handling_for(user.get("call_handling", {}), fields)
        user["call_waiting"] = bool(form.call_waiting.data)

    general = []
    for problem in _change_user(account, extension, change, "the line settings"):
        name = _field_for(problem.path)
        if name is None:
            general.append(problem.message)
        else:
            getattr(form, name).errors = [*getattr(form, name).errors, problem.message]
    return general


def _may_see(account: Account, extension: str) -> None:
    """One's own line; any line of one's tenant for its admins (the domain is always the
    session's: never another tenant's)."""
    if extension != account.extension and not account.admin:
        abort(403)


def _csv_file(text: str, name: str) -> Response:
    return Response(
        text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


CALLS_PER_PAGE = 50


def _call_filters() -> dict[str, str | None]:
    return {
        "month": request.args.get("month") or None,
        "kind": request.args.get("kind") or None,
        "search": (request.args.get("search") or "").strip()[:64] or None,
    }


@blueprint.get("/lines/<extension>/calls")
@_account_page
def calls(account: Account, extension: str) -> Any:
    _may_see(account, extension)
    filters = _call_filters()
    try:
        page_number = max(int(request.args.get("page", "1")), 1)
    except ValueError:
        page_number = 1
    problem, page, status = None, None, 200
    with _sessions().begin() as db:
        owner = accounts.find_account(db, account.domain, extension)
        if owner is None:
            abort(404)
        try:
            page = query_calls(
                db,
                account.domain,
                user=extension,
                limit=CALLS_PER_PAGE,
                offset=(page_number - 1) * CALLS_PER_PAGE,
                **filters,
            )
        except InvalidQuery as exc:
            problem, status = str(exc), 400
    body = render_template(
        "calls.html",
        account=account,
        owner=owner,
        page=page,
        page_number=page_number,
        per_page=CALLS_PER_PAGE,
        filters=filters,
        kinds=[k.value for k in Kind],
        problem=problem,
        logout=LogoutForm(),
    )
    return body, status


@blueprint.get("/lines/<extension>/calls.csv")
@_account_page
def calls_as_csv(account: Account, extension: str) -> Any:
    _may_see(account, extension)
    with _sessions().begin() as db:
        if accounts.find_account(db, account.domain, extension) is None:
            abort(404)
        try:
            text = calls_csv(db, account.domain, user=extension, **_call_filters())
        except InvalidQuery as exc:
            return Response(str(exc), status=400, mimetype="text/plain")
    return _csv_file(text, f"calls-{extension}.csv")


@blueprint.route("/lines/<extension>", methods=["GET", "POST"])
@_account_page
def line(account: Account, extension: str) -> Any:
    _may_see(account, extension)
    with _sessions().begin() as db:
        owner = accounts.find_account(db, account.domain, extension)
        if owner is None:  # never another tenant's: the domain is the session's
            abort(404)
        doc = service.export_user(db, account.domain, extension)
        current = fields_of(doc.call_handling.model_dump(mode="json", exclude_defaults=True))
    form = ForwardingForm()
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            problems = _save_forwarding(account, extension, form)
            if not problems and not form.errors:
                flash("Saved: calls follow the new settings from now on.")
                return redirect(url_for("panel.line", extension=extension))
        status = 400
    else:
        for key in FORWARDS:
            getattr(form, key).data = current.forwards[key].enabled
            getattr(form, f"{key}_to").data = current.forwards[key].to
        form.no_answer_after.data = current.no_answer_after
        form.do_not_disturb.data = current.do_not_disturb
        form.withhold.data = current.withhold
        form.hide_incoming.data = current.hide_incoming
        form.outgoing_number.data = current.outgoing_number
        form.call_waiting.data = doc.call_waiting
    page = render_template(
        "line.html",
        account=account,
        owner=owner,
        form=form,
        problems=problems,
        logout=LogoutForm(),
    )
    return page, status


# Problems found on a user's contacts → "contact N: …" (N counted from 1, as listed).
_CONTACT_PROBLEM = re.compile(r"users\[\d+\]\.contacts\[(?P<index>\d+)\](?:\.(?P<field>\w+))?")
# Imports read at most this much: 500 contacts of five numbers fit in a tenth of it.
_MAX_IMPORT = 512 * 1024


def _contact_problems(problems: list[Problem], contacts: list[dict[str, Any]]) -> list[str]:
    messages = []
    for problem in problems:
        found = _CONTACT_PROBLEM.match(problem.path)
        if found is None:
            messages.append(f"{problem.path}: {problem.message}")
            continue
        index = int(found["index"])
        name = contacts[index]["name"] if index < len(contacts) else f"contact {index + 1}"
        messages.append(f"{name}: {found['field'] or 'contact'} {problem.message}")
    return messages


@blueprint.route("/lines/<extension>/contacts", methods=["GET", "POST"])
@_account_page
def contacts(account: Account, extension: str) -> Any:
    _may_see(account, extension)
    add, delete, upload = ContactForm(), DeleteContactForm(), ImportContactsForm()
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        wanted: list[dict[str, Any]] | None = None
        change = request.form.get("change")
        with _sessions().begin() as db:
            try:
                owner_doc = service.export_user(db, account.domain, extension)
            except service.NotFound:
                abort(404)
        current = [c.model_dump(mode="json") for c in owner_doc.contacts]
        forms: dict[str, FlaskForm] = {"add": add, "delete": delete, "import": upload}
        form = forms.get(change or "")
        if form is None or not form.validate_on_submit():
            problems = ["The form was not sent whole; please try again."]
            if form is not None and "csrf_token" not in form.errors:
                problems = [f"{form[k].label.text}: {', '.join(e)}" for k, e in form.errors.items()]
        elif form is add:
            numbers = [n.strip() for n in (add.numbers.data or "").split(",") if n.strip()]
            entry = {"name": (add.name.data or "").strip(), "numbers": numbers}
            wanted = contacts_csv.merged(current, [entry])
        elif form is delete:
            gone = (delete.name.data or "").casefold()
            wanted = [c for c in current if c["name"].casefold() != gone]
        else:
            text = upload.file.data.read(_MAX_IMPORT + 1)
            try:
                if len(text) > _MAX_IMPORT:
                    raise DocumentInvalid([Problem("file", "is larger than 512 kB")])
                imported = contacts_csv.parse_contacts_csv(text.decode("utf-8-sig"))
                wanted = contacts_csv.merged(current, imported)
            except UnicodeDecodeError:
                problems = ["The file is not UTF-8 text."]
            except DocumentInvalid as invalid:
                problems = [str(p) for p in invalid.problems]
        if wanted is not None:
            final = wanted

            def change_contacts(user: dict[str, Any]) -> None:
                user["contacts"] = final

            found = _change_user(account, extension, change_contacts, "the contacts")
            problems = _contact_problems(found, final)
            if not problems:
                flash("Contacts saved.")
                return redirect(url_for("panel.contacts", extension=extension))
    with _sessions().begin() as db:
        owner = accounts.find_account(db, account.domain, extension)
        if owner is None:
            abort(404)
        listed = service.export_user(db, account.domain, extension).contacts
    page = render_template(
        "contacts.html",
        account=account,
        owner=owner,
        contacts=listed,
        add=add,
        delete=DeleteContactForm(formdata=None),
        upload=upload,
        problems=problems,
        logout=LogoutForm(),
    )
    return page, status


@blueprint.get("/lines/<extension>/contacts.csv")
@_account_page
def contacts_as_csv(account: Account, extension: str) -> Any:
    _may_see(account, extension)
    with _sessions().begin() as db:
        try:
            user = service.export_user(db, account.domain, extension)
        except service.NotFound:
            abort(404)
    return _csv_file(contacts_csv.contacts_csv(user.contacts), f"contacts-{extension}.csv")


# Room for the multipart envelope around the largest file accepted.
_MULTIPART_SLACK = 64 * 1024


@blueprint.route("/media", methods=["GET", "POST"])
@_account_page
def media_page(account: Account) -> Any:
    """The tenant's announcements, hold music and ringback tones (admins only)."""
    if not account.admin:
        abort(403)
    request.max_content_length = media.MAX_BYTES + _MULTIPART_SLACK
    upload, delete = MediaForm(), DeleteMediaForm()
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        store = media.MediaStore(_settings().effective_media_dir)
        change = request.form.get("change")
        try:
            if change == "upload" and upload.validate_on_submit():
                data = upload.file.data.read(media.MAX_BYTES + 1)
                with _sessions().begin() as db:
                    service.upload_media(
                        db, store, account.domain, upload.kind.data, upload.name.data, data
                    )
                flash(f"{upload.name.data}: converted and stored.")
                return redirect(url_for("panel.media_page"))
            if change == "delete" and delete.validate_on_submit():
                with _sessions().begin() as db:
                    service.delete_media(
                        db, store, account.domain, delete.kind.data, delete.name.data
                    )
                flash(f"{delete.name.data}: deleted.")
                return redirect(url_for("panel.media_page"))
            problems = [
                f"{name}: {', '.join(errors)}"
                for name, errors in {**upload.errors, **delete.errors}.items()
                if name != "csrf_token"
            ] or ["The form was not sent whole; please try again."]
        except (media.MediaError, service.NotFound) as exc:
            problems = [str(exc)]
    with _sessions().begin() as db:
        items = service.list_media(db, account.domain)
    page = render_template(
        "media.html",
        account=account,
        items=items,
        kinds=MEDIA_KINDS,
        upload=upload,
        delete=DeleteMediaForm(formdata=None),
        problems=problems,
        logout=LogoutForm(),
    )
    return page, status


@blueprint.route("/password", methods=["GET", "POST"])
@_account_page
def password(account: Account) -> Any:
    form = PasswordForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            right = accounts.log_in(
                _sessions(),
                f"{account.extension}@{account.domain}",
                form.current.data or "",
                _settings().default_country,
            )
            if right is None:
                form.current.errors = ["Wrong password."]
            else:
                try:
                    with _sessions().begin() as db:
                        accounts.set_password(
                            db, account.domain, account.extension, form.new.data or ""
                        )
                except InvalidValue as exc:
                    form.new.errors = [f"The new password {exc}."]
                else:
                    # Every session of the account ended with the change; this one
                    # goes on as a new one.
                    _start_session(account)
            if not form.errors:
                log.info("panel: %s@%s changed their password", account.extension, account.domain)
                flash("Your password has been changed.")
                return redirect(url_for("panel.line", extension=account.extension))
    page = render_template("password.html", account=account, form=form, logout=LogoutForm())
    return page, status
