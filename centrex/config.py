"""Settings, read once at start from `CENTREX_*` environment variables or a TOML file.

The file named by `CENTREX_CONFIG` holds the same settings in lower case without the
prefix (`database_url = "…"`); the environment wins over the file. Every bad or
missing value is reported at once with the variable's name.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any

PREFIX = "CENTREX_"


class ConfigError(ValueError):
    pass


def _port(value: str) -> int:
    port = int(value)
    if not 0 < port < 65536:
        raise ValueError
    return port


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError
    return number


def _milliseconds(value: str) -> int:
    number = int(value)
    if not 0 < number <= 60_000:
        raise ValueError
    return number


def _secret(value: str) -> str:
    if len(value) < 32:
        raise ValueError(value)
    return value


def _credentials(value: str) -> str:
    user, sep, password = value.partition(":")
    if not (user and sep and password) or any(c.isspace() for c in value):
        raise ValueError
    return value


def _country(value: str) -> str:
    import phonenumbers

    value = value.upper()
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError
    return value


def _log_level(value: str) -> str:
    value = value.upper()
    if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError
    return value


def _log_format(value: str) -> str:
    value = value.lower()
    if value not in {"text", "json"}:
        raise ValueError
    return value


def _esl_nodes(value: str) -> tuple[str, ...]:
    nodes = tuple(n.strip() for n in value.split(",") if n.strip())
    for node in nodes:
        host, sep, port = node.rpartition(":")
        if not (host and sep) or any(c.isspace() for c in host):
            raise ValueError
        _port(port)
    if len(set(nodes)) != len(nodes):
        raise ValueError
    return nodes


def _bool(value: str) -> bool:
    value = value.lower()
    if value not in {"true", "false", "1", "0", "yes", "no"}:
        raise ValueError
    return value in {"true", "1", "yes"}


def _whole(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError
    return number


def _sender(value: str) -> str:
    from email.headerregistry import Address
    from email.utils import parseaddr

    name, address = parseaddr(value)
    if "@" not in address or any(c.isspace() or c in "\r\n" for c in address):
        raise ValueError
    Address(display_name=name, addr_spec=address)
    return value


def _base_url(value: str) -> str:
    if not value.startswith(("https://", "http://")) or any(c.isspace() for c in value):
        raise ValueError
    return value.rstrip("/")


def _default_workers() -> int:
    return 2 * (os.cpu_count() or 1) + 1


def _default_panel_workers() -> int:
    return os.cpu_count() or 1


@dataclass(frozen=True)
class Settings:
    # Where everything is stored; SQLite file by default, postgresql+psycopg://… to scale out.
    database_url: str = ""
    # Directory for the default SQLite database and other local files.
    data_dir: str = "instance"
    # "user:password" FreeSWITCH presents (xml_curl gateway-credentials, xml_cdr cred).
    xmlcurl_credentials: str = ""
    # How numbers from carriers in national form are read (`0…` → `+33…`).
    default_country: str = "FR"
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = field(default_factory=_default_workers)
    # The panel and the REST API: a port and worker processes of their own, so that
    # FreeSWITCH's fetches never wait behind people or slow clients.
    panel_port: int = 8082
    panel_workers: int = field(default_factory=_default_panel_workers)
    # Milliseconds a fetch or call record may take before the safe fallback (or a 503) is
    # answered, whatever the database does.
    fetch_deadline: int = 500
    # mod_xml_curl's `timeout` (freeswitch-conf/autoload_configs/xml_curl.conf.xml), in
    # milliseconds: a fetch that waited this long is given up by FreeSWITCH, not served.
    switch_timeout: int = 1000
    # Milliseconds a dialplan fetch may have waited for a worker before the call is
    # turned away (NORMAL_TEMPORARY_FAILURE): the servers are past their capacity.
    call_wait_limit: int = 250
    # Milliseconds FreeSWITCH's side waits for a request's next bytes.
    read_timeout: int = 1000
    # Milliseconds the panel and the REST API wait for PostgreSQL to answer one round
    # trip before giving up on the connection (503).
    database_timeout: int = 5000
    log_level: str = "INFO"
    # "text" lines, or "json": one JSON object per line (time, level, logger, message,
    # exception), for log collectors.
    log_format: str = "text"
    # FreeSWITCH event sockets the listener follows, "host:port" each.
    esl_nodes: tuple[str, ...] = ("127.0.0.1:8021",)
    # The event socket password (event_socket.conf `password`, vars.xml centrex_esl_password).
    esl_password: str = ""
    # Where the listener serves live data: activity snapshots, their event stream, click-to-call.
    live_port: int = 8081
    # The bearer token Prometheus presents to read the metrics (centrex.metrics); none are
    # served without it.
    metrics_token: str = ""
    # Where `centrex serve` serves its metrics, and where `centrex esl` serves its own.
    metrics_port: int = 8083
    esl_metrics_port: int = 8084
    # FreeSWITCH's xml_cdr err-log-dir, when readable from here: call records that could not
    # be posted are imported from it.
    cdr_error_dir: str = ""
    # Converted announcements, hold music and ringback tones; FreeSWITCH must read it too.
    media_dir: str = ""
    # Signs the panel's session cookies; the panel is off without it.
    secret_key: str = ""
    # Panel cookies are sent over HTTPS only; false for plain-HTTP development.
    secure_cookies: bool = True
    # How many reverse proxies stand before the panel: the address a log-in comes from
    # is then read from their X-Forwarded-For (per-address throttling); 0: none.
    trusted_proxies: int = 0
    # The panel's address as users reach it, for the links mailed to them
    # (https://centrex.example.com); empty: the address the request came to.
    panel_url: str = ""
    # Security mail (password and PIN changes, reset links) goes through this SMTP
    # server; empty: Centrex sends no mail.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_sender: str = "Centrex <noreply@localhost>"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False

    @cached_property
    def effective_media_dir(self) -> Path:
        # Resolved once: every dialplan fetch names it, and resolving asks the disk.
        return Path(self.media_dir or Path(self.data_dir) / "media").resolve()

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path(self.data_dir).resolve() / 'centrex.sqlite3'}"


# How each setting is read from text, and what a good value looks like.
_PARSERS: dict[str, tuple[Callable[[str], Any], str]] = {
    "database_url": (str, "an SQLAlchemy URL such as postgresql+psycopg://user:pw@host/db"),
    "data_dir": (str, "a directory path"),
    "xmlcurl_credentials": (_credentials, "user:password, without spaces"),
    "default_country": (_country, "an ISO 3166 two-letter country code such as FR"),
    "host": (str, "an address to listen on"),
    "port": (_port, "a TCP port number (1-65535)"),
    "workers": (_positive, "a whole number of worker processes, at least 1"),
    "panel_port": (_port, "a TCP port number (1-65535)"),
    "panel_workers": (_positive, "a whole number of worker processes, at least 1"),
    "fetch_deadline": (_milliseconds, "milliseconds, 1-60000"),
    "switch_timeout": (_milliseconds, "milliseconds, 1-60000"),
    "call_wait_limit": (_milliseconds, "milliseconds, 1-60000"),
    "read_timeout": (_milliseconds, "milliseconds, 1-60000"),
    "database_timeout": (_milliseconds, "milliseconds, 1-60000"),
    "log_level": (_log_level, "DEBUG, INFO, WARNING or ERROR"),
    "log_format": (_log_format, "text or json"),
    "esl_nodes": (_esl_nodes, "host:port of each FreeSWITCH event socket, comma-separated"),
    "esl_password": (str, "the event socket password"),
    "live_port": (_port, "a TCP port number (1-65535)"),
    "metrics_token": (_secret, "at least 32 random characters"),
    "metrics_port": (_port, "a TCP port number (1-65535)"),
    "esl_metrics_port": (_port, "a TCP port number (1-65535)"),
    "cdr_error_dir": (str, "a directory path"),
    "media_dir": (str, "a directory path"),
    "secret_key": (_secret, "at least 32 random characters"),
    "secure_cookies": (_bool, "true or false"),
    "trusted_proxies": (_whole, "a whole number of reverse proxies, 0 or more"),
    "panel_url": (_base_url, "the panel's base URL, such as https://centrex.example.com"),
    "smtp_host": (str, "the SMTP server's host name"),
    "smtp_port": (_port, "a TCP port number (1-65535)"),
    "smtp_sender": (_sender, "a sender address such as Centrex <noreply@example.com>"),
    "smtp_username": (str, "the SMTP user name"),
    "smtp_password": (str, "the SMTP password"),
    "smtp_starttls": (_bool, "true or false"),
}


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    config_file = environ.get(PREFIX + "CONFIG")
    if config_file:
        try:
            with open(config_file, "rb") as fh:
                from_file = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{PREFIX}CONFIG: cannot read {config_file}: {exc}") from None
        unknown = set(from_file) - set(_PARSERS)
        if unknown:
            raise ConfigError(f"{config_file}: unknown settings {', '.join(sorted(unknown))}")
        raw.update({k: str(v) for k, v in from_file.items()})
    for name in _PARSERS:
        if PREFIX + name.upper() in environ:
            raw[name] = environ[PREFIX + name.upper()]
    raw.update({k: str(v) for k, v in overrides.items() if v is not None})

    values: dict[str, Any] = {}
    errors = []
    for name, text in raw.items():
        parse, expected = _PARSERS[name]
        try:
            values[name] = parse(text.strip())
        except ValueError:
            errors.append(f"{PREFIX}{name.upper()}: expected {expected}, got {text!r}")
    if errors:
        raise ConfigError("\n".join(errors))
    return Settings(**values)


def require(settings: Settings, *names: str) -> None:
    """Fail with every missing setting named, for commands that cannot run without them."""
    missing = [n for n in names if not getattr(settings, n)]
    if missing:
        lines = [f"{PREFIX}{n.upper()} is not set: expected {_PARSERS[n][1]}" for n in missing]
        raise ConfigError("\n".join(lines))


def environment(settings: Settings) -> dict[str, str]:
    """The settings as `CENTREX_*` variables, for a process started with them (unset
    values left out, so that the child reads them as unset)."""
    env = {}
    for name in _PARSERS:
        value = getattr(settings, name)
        text = ",".join(value) if isinstance(value, tuple) else str(value)
        if text:
            env[PREFIX + name.upper()] = text
    return env


SETTING_NAMES = [f.name for f in fields(Settings)]
