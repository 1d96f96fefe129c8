"""The service's log lines: one JSON object a line (the default of `accountgraph serve`), or plain text
(the default of `accountgraph run`, read by a person in a terminal); LOG_FORMAT chooses either for both.

A JSON line holds `time` (UTC, ISO 8601), `level`, `logger`, `message`, `request_id` (the request being
served, service.request_id; null outside any), `pid`, `exception` (the traceback, when there is one),
and the fields a call passes as `extra={...}`. Secrets stay out: settings hold them as SecretStr, which
prints as stars; an API key's text is never logged (its id is), and any text shaped like one in a
message or field is replaced by its id as a last guard."""

from __future__ import annotations

import json
import logging
import os
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import SecretStr

# The id of the request being served in this task (service.request_id sets it; None outside any request:
# the live loop, the outbox, start-up).
current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# An API key's text (service.auth.keys: ag_<id>_<secret>); the id alone is not secret.
_KEY_TEXT = re.compile(r"\bag_([0-9a-f]{12})_[A-Za-z0-9_-]{43}")
# The attributes every LogRecord has: anything else on a record came in `extra`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id",
                                                                              "taskName", "color_message"}


class LogFormat(StrEnum):
    JSON = "json"
    TEXT = "text"


def redact(text: str) -> str:
    return _KEY_TEXT.sub(r"ag_\1_<redacted>", text)


def _field(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return str(value)  # stars
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [_field(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _field(item) for key, item in value.items()}
    return redact(str(value))


class RequestIdFilter(logging.Filter):
    """Puts the id of the request being served on each record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
            "pid": record.process or os.getpid(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and name not in line:
                line[name] = _field(value)
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        elif record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger [request id] message key=value ...`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(request)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        record.request = f" [{request_id}]" if request_id else ""
        extras = " ".join(f"{name}={_field(value)}" for name, value in vars(record).items()
                          if name not in _STANDARD and name != "request")
        text = redact(super().format(record))
        return f"{text} {extras}" if extras else text


def logging_config(log_format: LogFormat, level: str = "INFO") -> dict[str, Any]:
    """A logging.config.dictConfig for the service and uvicorn (uvicorn applies it in every worker process):
    everything to stderr through one handler; uvicorn's own lines in the same format. The Neo4j driver's
    lines below WARNING are left out: its INFO lines are the server's notifications on each query (an
    index that exists already, a cartesian product the query means), noise to an operator."""
    neo4j_level = logging.getLevelName(max(logging.WARNING, logging.getLevelNamesMapping()[level.upper()]))
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"line": {"()": JsonFormatter if log_format is LogFormat.JSON else TextFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                "formatter": "line", "filters": ["request_id"]}},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {name: {"handlers": [], "propagate": True, "level": level.upper()}
                    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "accountgraph")}
        | {"neo4j": {"handlers": [], "propagate": True, "level": neo4j_level}},
    }
