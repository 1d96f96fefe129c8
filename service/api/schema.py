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

from service.api.activation import ActivationMutation
from service.api.delivery import DeliveryMutation, DeliveryQuery
from service.api.erasure import ErasureMutation
from service.api.keys import KeyMutation, KeyQuery
from service.api.metrics import OperationMetrics
from service.api.mutation import IngestMutation
from service.api.query import Query as DataQuery
from service.api.segment_mutation import SegmentMutation
from service.api.stewardship import StewardshipMutation, StewardshipQuery
from service.api.subscription import Subscription
from service.database import DatabaseUnavailable, QueryTimeout
from service.errors import AccountGraphError, ErrorCode
from service.limits import ApiLimits
from service.request_id import new_request_id

log = logging.getLogger("accountgraph")

Query = merge_types("Query", (DataQuery, DeliveryQuery, KeyQuery, StewardshipQuery))
Mutation = merge_types("Mutation", (IngestMutation, SegmentMutation, ActivationMutation, DeliveryMutation,
                                   KeyMutation, ErasureMutation, StewardshipMutation))
# merge_types makes a type of its own, without a description: given here.
Query.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "What can be read: people, accounts, companies, campaigns and lists, saved segments and their history, "
    "destinations, webhook deliveries, API keys and MDM link suggestions.")
Mutation.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "What can be changed: records upserted from a source, segments saved and evaluated, destinations and "
    "activations, deliveries re-driven, API keys, erasure of a person, MDM link suggestions decided.")

INTERNAL_MESSAGE = "internal error"


class AccountGraphSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Every error answered gets its code. The caller's (an AccountGraphError, or GraphQL's own for a
        document that does not parse or validate) are answered as they are and not logged, except a
        query stopped by the timeout, or Neo4j out of reach, which is one warning line (and over HTTP
        the latter makes the answer a 503). Anything else is a bug: logged in full with the request's
        id, and answered "internal error" with that id, not with its own message.

        Every error also names the request's id (`extensions.requestId`), as its log lines do.
        Strawberry returns the list it passes here, so an internal error is replaced in it."""
        request_id = _request_id(execution_context)
        for index, error in enumerate(errors):
            original = error.original_error
            if original is None or isinstance(original, GraphQLError):
                if "code" not in (error.extensions or {}):
                    error.extensions = {**(error.extensions or {}), "code": ErrorCode.INVALID_QUERY.value}
            elif isinstance(original, AccountGraphError):
                if isinstance(original, (QueryTimeout, DatabaseUnavailable)):
                    log.warning("GraphQL operation %s stopped: %s", _operation(execution_context), original)
                if isinstance(original, DatabaseUnavailable):
                    _unavailable(execution_context)
            else:
                errors[index] = _internal(error, execution_context, request_id)
            errors[index].extensions = {**(errors[index].extensions or {}), "requestId": request_id}


def _operation(execution_context: ExecutionContext | None) -> str:
    return (execution_context.operation_name if execution_context else None) or "(anonymous)"


def _request_id(execution_context: ExecutionContext | None) -> str:
    return getattr(getattr(execution_context, "context", None), "request_id", None) or new_request_id()


def _internal(error: GraphQLError, execution_context: ExecutionContext | None, request_id: str) -> GraphQLError:
    """The error logged with its traceback and the request's id; the answer names only the id."""
    where = ".".join(map(str, error.path or [])) or "-"
    log.error("internal error in GraphQL operation %s at %s (request %s)", _operation(execution_context), where,
              request_id, exc_info=error.original_error, extra={"operation": _operation(execution_context)})
    return GraphQLError(INTERNAL_MESSAGE, nodes=error.nodes, source=error.source, positions=error.positions,
                        path=error.path, original_error=error.original_error,
                        extensions={"code": ErrorCode.INTERNAL.value, "requestId": request_id})


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
        OperationMetrics,  # first: it times everything, refusals by the limits included
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
