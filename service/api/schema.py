"""The GraphQL schema, composed from one module per type."""

import strawberry
from strawberry.tools import merge_types

from service.api.activation import ActivationMutation
from service.api.mutation import IngestMutation
from service.api.query import Query
from service.api.segment_mutation import SegmentMutation

Mutation = merge_types("Mutation", (IngestMutation, SegmentMutation, ActivationMutation))
schema = strawberry.Schema(query=Query, mutation=Mutation)
