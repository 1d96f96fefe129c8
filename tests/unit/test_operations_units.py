"""The pure parts of operations: the request id taken from a caller, the log line's format and its
guard against key text, and the bounded labels of GraphQL operations."""

from __future__ import annotations

import json
import logging
import re

import pytest
from pydantic import SecretStr

from service import metrics
from service.logs import JsonFormatter, LogFormat, RequestIdFilter, TextFormatter, current_request_id, logging_config
from service.metrics import ANONYMOUS, MAX_OPERATION_NAMES, OTHER, operation_label
from service.request_id import accepted_request_id

KEY = "ag_0123456789ab_" + "A1b2_-" * 7 + "z"


def record(message: str, *arguments: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("accountgraph.test", logging.WARNING, __file__, 1, message, arguments, None)
    for name, value in extra.items():
        setattr(made, name, value)
    RequestIdFilter().filter(made)
    return made


def test_a_well_formed_request_id_is_kept_and_any_other_replaced() -> None:
    for kept in ("abc", "0af76519-16cd-43dd-8448-eb211c80319c", "00-4bf92f3577b34da6-00f067aa0ba902b7-01", "x" * 128):
        assert accepted_request_id(kept) == kept
    for replaced in (None, "", "two words", 'a"b', "line\nbreak", "x" * 129, "é"):
        assert re.fullmatch(r"[0-9a-f]{32}", accepted_request_id(replaced))


def test_a_json_line_has_the_fields_the_request_id_and_no_key_text() -> None:
    token = current_request_id.set("req-1")
    try:
        line = json.loads(JsonFormatter().format(record("refused %s", KEY, key_id="0123456789ab",
                                                        password=SecretStr("hunter2"), nested={"k": KEY})))
    finally:
        current_request_id.reset(token)
    assert {"time", "level", "logger", "message", "request_id", "pid"} <= line.keys()
    assert line["level"] == "WARNING" and line["logger"] == "accountgraph.test" and line["request_id"] == "req-1"
    assert line["message"] == "refused ag_0123456789ab_<redacted>" and line["key_id"] == "0123456789ab"
    assert "hunter2" not in json.dumps(line) and KEY not in json.dumps(line)
    assert json.loads(JsonFormatter().format(record("outside")))["request_id"] is None


def test_a_text_line_names_the_request() -> None:
    token = current_request_id.set("req-2")
    try:
        text = TextFormatter().format(record("hello", status=200))
    finally:
        current_request_id.reset(token)
    assert "WARNING accountgraph.test [req-2] hello status=200" in text


def test_operation_labels_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "_operation_names", set())  # the process's own names stay as they were
    assert operation_label(None) == ANONYMOUS and operation_label("") == ANONYMOUS
    assert operation_label("not a name") == OTHER
    assert operation_label("TownsendAudience") == "TownsendAudience"
    for index in range(MAX_OPERATION_NAMES + 5):
        operation_label(f"Generated{index}")
    assert operation_label("NeverSeenBefore") == OTHER
    assert operation_label("TownsendAudience") == "TownsendAudience"  # names seen before keep their label


@pytest.mark.parametrize(("level", "neo4j_level"), [("INFO", "WARNING"), ("debug", "WARNING"), ("ERROR", "ERROR")])
def test_the_neo4j_drivers_notifications_stay_out_of_the_log(level: str, neo4j_level: str) -> None:
    config = logging_config(LogFormat.JSON, level)
    assert config["loggers"]["neo4j"]["level"] == neo4j_level
    assert config["loggers"]["accountgraph"]["level"] == level.upper()
