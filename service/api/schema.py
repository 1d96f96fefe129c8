"""The GraphQL schema, composed from one module per type, with the limits on documents."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

import strawberry
from graphql import GraphQLError
from starlette.responses import Response
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.utils.logging import StrawberryLogger

from service.activation.webhook import DeliveryFailed
from service.api.activation import ActivationMutation
from service.api.erasure import ErasureMutation
from service.api.keys import KeyMutation, KeyQuery
from service.api.mutation import IngestMutation
from service.api.query import Query as DataQuery
from service.api.segment_mutation import SegmentMutation
from service.api.subscription import Subscription
from service.database import DatabaseUnavailable, QueryTimeout
from service.limits import ApiLimits

log = logging.getLogger("accountgraph")

Query = merge_types("Query", (DataQuery, KeyQuery))
Mutation = merge_types("Mutation", (IngestMutation, SegmentMutation, ActivationMutation, KeyMutation, ErasureMutation))

# Answered in `errors` and not logged: the caller's mistakes (a bad argument or rule, a missing
# scope) and a receiver that is down, which is the receiver's.
EXPECTED = (ValueError, DeliveryFailed, GraphQLError)


class AccountGraphSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Log unexpected failures only; a query stopped by the timeout, or Neo4j out of reach, is one
        warning line. Over HTTP, the latter makes the answer a 503 (the error's code says why)."""
        for error in errors:
            original = error.original_error
            if original is None or isinstance(original, EXPECTED):
                continue
            if isinstance(original, (QueryTimeout, DatabaseUnavailable)):
                name = execution_context.operation_name if execution_context else None
                log.warning("GraphQL operation %s stopped: %s", name or "(anonymous)", original)
                if isinstance(original, DatabaseUnavailable):
                    _unavailable(execution_context)
                continue
            StrawberryLogger.error(error, execution_context)


def _unavailable(execution_context: ExecutionContext | None) -> None:
    """Answer 503 with Retry-After: the sub-response strawberry's HTTP view builds its answer from."""
    response = getattr(getattr(execution_context, "context", None), "response", None)
    if isinstance(response, Response):
        response.status_code = 503
        response.headers["Retry-After"] = "5"


def limit_extensions(limits: ApiLimits) -> list[Callable[[], SchemaExtension]]:
    """Factories of the extensions that enforce the limits on documents (a fresh one per request)."""
    # The depth and alias rules are built once: the validation cache knows a document by its rules too.
    rules = [*QueryDepthLimiter(max_depth=limits.max_depth).validation_rules,
             *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules]
    extensions: list[Callable[[], SchemaExtension]] = [
        partial(AddValidationRules, rules),
        partial(MaxTokensLimiter, max_token_count=limits.max_tokens),
    ]
    if not limits.introspection:
        extensions.append(DisableIntrospection)
    # Clients send the same few documents again and again: parse and validate each once (~2 ms a
    # request). After the limits, so a document over a limit is refused before anything is cached.
    extensions += [partial(ParserCache, maxsize=1000), partial(ValidationCache, maxsize=1000)]
    return extensions


def build_schema(limits: ApiLimits = ApiLimits()) -> AccountGraphSchema:
    return AccountGraphSchema(query=Query, mutation=Mutation, subscription=Subscription,
                              extensions=limit_extensions(limits))


schema = build_schema()
