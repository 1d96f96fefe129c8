"""GraphQL operations timed by name, type and outcome (service.metrics): a schema extension around each
operation. The outcome is 'ok', or the code of the first error answered, in lower case
('invalid_query', 'forbidden', 'query_timeout', 'internal', ...: docs/errors.md). The operation's
label is also left in the HTTP request's state for the access log line (service.http_metrics)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from service.errors import AccountGraphError, ErrorCode
from service.metrics import GRAPHQL_SECONDS, OK, operation_label


def outcome_of(errors: list[GraphQLError] | None) -> str:
    if not errors:
        return OK
    code = (errors[0].extensions or {}).get("code")
    known = {c.value for c in ErrorCode}
    return (code if code in known else ErrorCode.INTERNAL.value).lower()


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        raised: Exception | None = None
        try:
            yield
        except Exception as error:  # strawberry answers it after the operation (a syntax error, a bug)
            raised = error
            raise
        finally:
            context = self.execution_context
            name = operation_label(context.operation_name)
            try:
                kind = context.operation_type.value if context.graphql_document else "unknown"
            except Exception:  # a document whose operation cannot be chosen: the errors say why
                kind = "unknown"
            result = context.result
            errors = (getattr(result, "errors", None) if result is not None else None) or context.pre_execution_errors
            outcome = outcome_of(errors) if raised is None else _outcome_of_raised(raised)
            GRAPHQL_SECONDS.labels(name, kind, outcome).observe(time.perf_counter() - started)
            state = getattr(getattr(context.context, "request", None), "state", None)
            if state is not None:
                state.graphql_operation = name


def _outcome_of_raised(error: Exception) -> str:
    """What the answer will say of an exception strawberry catches outside the operation."""
    if isinstance(error, AccountGraphError):
        return error.code.value.lower()
    if isinstance(error, GraphQLError) and not isinstance(error.original_error, Exception):
        return ErrorCode.INVALID_QUERY.value.lower()  # the document does not parse
    return ErrorCode.INTERNAL.value.lower()
