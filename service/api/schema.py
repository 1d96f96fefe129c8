"""The GraphQL schema, composed from one module per type."""

import strawberry

from service.api.mutation import Mutation
from service.api.query import Query

schema = strawberry.Schema(query=Query, mutation=Mutation)
