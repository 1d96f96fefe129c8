"""The GraphQL schema, composed from one module per type."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.utils.logging import StrawberryLogger

from service.activation.webhook import DeliveryFailed
from service.api.activation import ActivationMutation
from service.api.mutation import IngestMutation
from service.api.query import Query
from service.api.segment_mutation import SegmentMutation
from service.api.subscription import Subscription

Mutation = merge_types("Mutation", (IngestMutation, SegmentMutation, ActivationMutation))


class AccountGraphSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Log unexpected failures only: a bad argument or rule is the caller's error, and a receiver that is down is the receiver's; both are answered in `errors`."""
        for error in errors:
            if error.original_error is None or isinstance(error.original_error, (ValueError, DeliveryFailed)):
                continue
            StrawberryLogger.error(error, execution_context)


# Clients send the same few documents again and again: parse and validate each once (~2 ms a request).
schema = AccountGraphSchema(query=Query, mutation=Mutation, subscription=Subscription,
                            extensions=[ParserCache(maxsize=1000), ValidationCache(maxsize=1000)])
