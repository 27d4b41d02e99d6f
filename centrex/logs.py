"""Log output: lines of text, or one JSON object per line (`CENTREX_LOG_FORMAT=json`) for
log collectors, with the time, level, logger, message and exception (null, or its
traceback) of every record — gunicorn's own lines included.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger

from centrex.config import Settings

TEXT = "text"
JSON = "json"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON; a line break in a message or a traceback is
    escaped, so every line of the output is one whole record."""

    def format(self, record: logging.LogRecord) -> str:
        exception = None
        if record.exc_info:
            exception = self.formatException(record.exc_info)
        elif record.exc_text:
            exception = record.exc_text
        if record.stack_info:
            exception = (exception + "\n" if exception else "") + self.formatStack(
                record.stack_info
            )
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "exception": exception,
        }
        return json.dumps(entry, ensure_ascii=False, default=str)


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == JSON else logging.Formatter(TEXT_FORMAT)


def configure_logging(settings: Settings) -> None:
    """The process's log lines on standard error, at CENTREX_LOG_LEVEL, in
    CENTREX_LOG_FORMAT (unless logging was set up already, as basicConfig does)."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(settings.log_format))
    logging.basicConfig(level=settings.log_level, handlers=[handler])


class JsonGunicornLogger(GunicornLogger):
    """gunicorn's logger (arbiter and workers), its error log in JSON lines."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """What gunicorn is given for CENTREX_LOG_FORMAT."""
    return {"logger_class": JsonGunicornLogger} if settings.log_format == JSON else {}
