"""Every error a caller gets has a stable code in `extensions.code` (docs/errors.md); anything else is a
bug, logged with the request's id and answered "internal error" with that id, never its own message."""

from __future__ import annotations

import logging
from typing import Any
from unittest.mock import ANY

import httpx
import pytest
from strawberry.types import ExecutionResult

import service.activation.activate
import service.api.permissions
import service.auth.store
import service.erasure.erase
import service.ingest.errors
import service.segments.engine
from service.api import mutation
from service.api.context import Context
from service.api.schema import schema
from service.database import DatabaseUnavailable, Graph, QueryTimeout
from service.errors import AccountGraphError, ErrorCode
from service.segments import engine
from tests.helpers import IN_PROCESS_ADMIN, execute_graphql

SECRET = "the-internal-detail-no-caller-may-see"
PREVIEW = '{ preview(rule: {person: {field: EMAIL, op: EQ, value: "a@example.com"}}) { count } }'


def codes(result: ExecutionResult) -> list[str]:
    return [error.extensions["code"] for error in result.errors or []]


def subclasses(cls: type[Any]) -> set[type[Any]]:
    return {sub for direct in cls.__subclasses__() for sub in {direct} | subclasses(direct)}


def test_every_error_type_of_every_layer_names_its_code() -> None:
    # The modules whose error types must be loaded to be seen (imported above for that).
    assert service.activation.activate and service.api.permissions and service.auth.store
    assert service.erasure.erase and service.ingest.errors and service.segments.engine and mutation
    found = subclasses(AccountGraphError)
    assert {"RuleError", "SegmentError", "ActivationError", "DeliveryFailed", "ErasureError", "KeyStoreError",
            "Unauthenticated", "MissingScope", "ImportRejected", "UpsertRejected", "QueryTimeout",
            "DatabaseUnavailable", "InvalidText", "InvalidArgument"} <= {cls.__name__ for cls in found}
    for cls in found:
        assert isinstance(cls.default_code, ErrorCode), cls
    assert DatabaseUnavailable().extensions == {"code": "DATABASE_UNAVAILABLE"}
    assert QueryTimeout(1).extensions == {"code": "QUERY_TIMEOUT"}


@pytest.mark.asyncio
async def test_user_errors_are_answered_with_their_codes(graph: Graph) -> None:
    cases = {
        "{ person(email: ": "INVALID_QUERY",
        "{ nothing }": "INVALID_QUERY",
        '{ preview(rule: {visits: {url: "/x", withinDays: 0}}) { count } }': "RULE_INVALID",
        'mutation { evaluateSegment(id: "no-such-id") { count } }': "NOT_FOUND",
        'mutation { revokeApiKey(id: "000000000000") { id } }': "NOT_FOUND",
        'mutation { upsertPeople(source: "crm", people: []) { records } }': "VALIDATION_FAILED",
        '{ preview(rule: {person: {field: EMAIL, op: EQ, value: "a"}}) { members(after: "a") { endCursor } } }':
            "VALIDATION_FAILED",
        '{ preview(rule: {person: {field: EMAIL, op: EQ, value: "a"}}) { companies(first: 0) { members } } }':
            "VALIDATION_FAILED",
    }
    for query, code in cases.items():
        result = await execute_graphql(graph, query)
        assert codes(result) == [code], (query, result.errors)
    assert codes(await execute_graphql(graph, PREVIEW, key_=None)) == ["FORBIDDEN"]


@pytest.mark.asyncio
async def test_a_rejected_upsert_has_the_import_code_and_names_the_record_and_field(graph: Graph) -> None:
    result = await execute_graphql(graph, """mutation { upsertPeople(source: "crm", people: [
        {id: "1", email: "broken", advertisingOptOut: true}]) { records } }""")
    reason = "'broken' is not an email address"
    assert result.errors
    assert result.errors[0].message == f"rejected, nothing written: people[0].email (id '1'): {reason}"
    assert result.errors[0].extensions == {
        "code": "IMPORT_REJECTED", "errors": [{"record": 0, "id": "1", "field": "email", "reason": reason}],
        "requestId": ANY}


@pytest.mark.asyncio
async def test_a_conflict_is_answered_with_its_code(graph: Graph) -> None:
    add = 'mutation { addDestination(name: "Ads", kind: LINKEDIN) { name } }'
    assert codes(await execute_graphql(graph, add)) == []
    assert codes(await execute_graphql(graph, add)) == ["CONFLICT"]


@pytest.mark.asyncio
async def test_an_internal_error_is_logged_with_the_request_id_and_not_shown(
        graph: Graph, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    async def broken(*arguments: object) -> int:
        raise KeyError(SECRET)

    monkeypatch.setattr(engine, "count", broken)
    context = Context(request=None, response=None, graph=graph, key=IN_PROCESS_ADMIN)  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="accountgraph"):
        result = await schema.execute(PREVIEW, context_value=context)
    assert result.errors and len(result.errors) == 1
    error = result.errors[0]
    assert (error.message, error.path) == ("internal error", ["preview", "count"])
    assert error.extensions == {"code": "INTERNAL", "requestId": context.request_id}
    assert SECRET not in str(error.formatted)
    [logged] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert context.request_id in logged.getMessage() and "preview.count" in logged.getMessage()
    assert logged.exc_info and isinstance(logged.exc_info[1], KeyError)  # the traceback is in the log


def test_over_http_the_request_id_is_in_the_header_and_in_an_internal_error(
        client: httpx.Client, graph: Graph, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*arguments: object) -> int:
        raise ValueError(SECRET)  # a plain ValueError is a bug too, not the caller's mistake

    answered = client.post("/graphql", json={"query": "{ segments { id } }"})
    assert answered.status_code == 200 and len(answered.headers["X-Request-Id"]) == 32
    monkeypatch.setattr(engine, "count", broken)
    failed = client.post("/graphql", json={"query": PREVIEW})
    assert SECRET not in failed.text
    [error] = failed.json()["errors"]
    assert error["message"] == "internal error"
    assert error["extensions"] == {"code": "INTERNAL", "requestId": failed.headers["X-Request-Id"]}
    assert failed.headers["X-Request-Id"] != answered.headers["X-Request-Id"]
    refused = httpx.post(f"{client.base_url}/graphql", json={"query": PREVIEW})
    assert refused.status_code == 401 and refused.headers["X-Request-Id"]
