"""Structured logs: with CENTREX_LOG_FORMAT=json a process writes one JSON object per line
(time, level, logger, message, exception), whatever its messages hold."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import datetime

import pytest

from centrex.config import ConfigError, load_settings
from centrex.logs import JsonFormatter, JsonGunicornLogger, gunicorn_options

PROGRAM = """
import logging
from centrex.config import load_settings
from centrex.logs import configure_logging

configure_logging(load_settings())
log = logging.getLogger("centrex.test")
log.debug("not at INFO")
log.info("call from %s", "1001\\nforged: header")
try:
    {}["missing"]
except KeyError:
    log.exception("lookup failed")
logging.getLogger("esl.listener").warning("événement perdu")
"""


def run(log_format: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENTREX_")}
    env.update({"CENTREX_LOG_FORMAT": log_format, "CENTREX_LOG_LEVEL": "INFO"})
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, check=True
    )
    return done.stderr.splitlines()


def test_each_record_is_one_json_line_with_its_exception():
    lines = run("json")
    records = [json.loads(line) for line in lines]
    assert [(r["level"], r["logger"], r["message"]) for r in records] == [
        ("INFO", "centrex.test", "call from 1001\nforged: header"),
        ("ERROR", "centrex.test", "lookup failed"),
        ("WARNING", "esl.listener", "événement perdu"),
    ]
    assert all(set(r) == {"time", "level", "logger", "message", "exception"} for r in records)
    assert records[0]["exception"] is None
    assert records[1]["exception"].startswith("Traceback (most recent call last):")
    assert records[1]["exception"].endswith("KeyError: 'missing'")
    assert datetime.fromisoformat(records[0]["time"]).utcoffset().total_seconds() == 0


def test_text_stays_the_default():
    (first, *_rest) = run("text")
    assert " INFO centrex.test: call from 1001" in first
    assert load_settings({}).log_format == "text"


def test_a_bad_format_is_refused_by_name():
    with pytest.raises(ConfigError, match="CENTREX_LOG_FORMAT: expected text or json"):
        load_settings({"CENTREX_LOG_FORMAT": "xml"})


def test_a_record_s_stack_is_kept_with_it():
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "m", None, None, sinfo="Stack:")
    assert json.loads(JsonFormatter().format(record))["exception"] == "Stack:"


def test_gunicorn_logs_in_json_only_when_asked():
    assert gunicorn_options(load_settings({})) == {}
    options = gunicorn_options(load_settings({"CENTREX_LOG_FORMAT": "json"}))
    assert options == {"logger_class": JsonGunicornLogger}
