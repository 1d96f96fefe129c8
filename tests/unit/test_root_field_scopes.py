"""Every root field of the schema asks for the scope of its kind (moved from test_access.py: no Neo4j needed)."""

from __future__ import annotations

from strawberry.types.base import StrawberryObjectDefinition

from service.api.permissions import required_scope
from service.api.schema import schema
from service.auth.keys import Scope

EXPECTED_SCOPES = {
    "Query": dict.fromkeys(["audience", "person", "account", "company", "campaign", "marketingList", "preview",
                            "wasMember", "companyWasMember", "segment", "segments"], Scope.READ)
    | dict.fromkeys(["destinations", "deliveries", "apiKeys", "linkSuggestions", "linkSuggestion"], Scope.ADMIN),
    "Mutation": dict.fromkeys(["upsertPeople", "upsertAccounts", "upsertAccountPeople", "upsertOpportunities",
                               "recordWebVisits", "upsertSameCompanyLinks"], Scope.WRITE)
    | dict.fromkeys(["createSegment", "updateSegment", "deleteSegment", "evaluateSegment", "addDestination",
                     "activate", "redriveDelivery", "revokeApiKey", "erasePerson",
                     "acceptLinkSuggestion", "rejectLinkSuggestion"], Scope.ADMIN),
    "Subscription": {"audienceChanges": Scope.READ},
}


def test_every_root_field_needs_the_scope_of_its_kind() -> None:
    """A root field added without a scope, or with another than its kind's, fails here."""
    for type_name, expected in EXPECTED_SCOPES.items():
        definition = schema.get_type_by_name(type_name)
        assert isinstance(definition, StrawberryObjectDefinition), type_name
        found = {schema.config.name_converter.get_graphql_name(f): required_scope(f) for f in definition.fields}
        assert found == expected, type_name
