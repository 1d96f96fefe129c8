"""Limits over real HTTP: GraphQL depth, aliases and tokens, introspection, body size, the Neo4j
transaction timeout, and a maximum on every list argument."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from graphql import GraphQLInputObjectType, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLType, Source
from graphql.language import Lexer, TokenKind

from service.api.mutation import MAX_BATCH
from service.api.schema import schema
from service.database import Graph, Neo4jConnection, QueryTimeout, Transaction
from service.limits import ApiLimits
from service.queries import Mode
from service.segments.engine import MAX_EXPLAINED, MAX_PAGE
from service.segments.rules import MAX_NODES, MAX_VALUES
from tests.helpers import ApiKeys, ServerThread, execute_graphql, graphql_data, messages, run_cypher

pytestmark = pytest.mark.asyncio

LIMITS = ApiLimits()


def nested(levels: int) -> str:
    """An operation `levels` deep (fields with a selection; the leaf below is not counted):
    account { company { accounts { company { ... } } } }."""
    chain = ["company" if i % 2 == 0 else "accounts" for i in range(levels - 1)]
    selection = "id" if chain and chain[-1] == "company" else "name"
    for name in reversed(chain):
        selection = f"{name} {{ {selection} }}"
    return f'query Deep {{ account(source: "CRM 1", sourceKey: "A") {{ {selection} }} }}'


# ---- the shape of documents ----------------------------------------------------------------------


async def test_an_operation_deeper_than_the_limit_is_refused(client: httpx.Client, graph: Graph) -> None:
    assert client.post("/graphql", json={"query": nested(LIMITS.max_depth)}).json() == {"data": {"account": None}}
    too_deep = client.post("/graphql", json={"query": nested(LIMITS.max_depth + 1)})
    assert messages(too_deep) == [f"'Deep' exceeds maximum operation depth of {LIMITS.max_depth}"]


async def test_more_aliases_than_the_limit_are_refused(client: httpx.Client, graph: Graph) -> None:
    def aliases(count: int) -> str:
        return "{ " + " ".join(f"s{i}: segments {{ id }}" for i in range(count)) + " }"

    assert not messages(client.post("/graphql", json={"query": aliases(LIMITS.max_aliases)}))
    too_many = client.post("/graphql", json={"query": aliases(LIMITS.max_aliases + 1)})
    assert messages(too_many) == [f"{LIMITS.max_aliases + 1} aliases found. Allowed: {LIMITS.max_aliases}"]


def tokens(document: str) -> int:
    """Lexical tokens as the parser counts them against the limit (the end is not one)."""
    lexer, count = Lexer(Source(document)), 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    return count


def document_of(count: int) -> str:
    """A document of exactly `count` tokens: a rule with a long list of values."""
    def document(values: int) -> str:
        listed = " ".join('"v"' for _ in range(values))
        return f"{{ preview(rule: {{person: {{field: EMAIL, op: IN, values: [{listed}]}}}}) {{ count }} }}"

    made = document(count - tokens(document(0)))
    assert tokens(made) == count
    return made


async def test_a_document_of_more_tokens_than_the_limit_is_not_parsed(client: httpx.Client, graph: Graph) -> None:
    at_limit = messages(client.post("/graphql", json={"query": document_of(LIMITS.max_tokens)}))
    assert at_limit == ["person.values: must be a list of 1 to 1000 strings"]  # parsed, and checked as a rule
    too_long = client.post("/graphql", json={"query": document_of(LIMITS.max_tokens + 1)})
    assert messages(too_long) == [
        f"Syntax Error: Document contains more than {LIMITS.max_tokens} tokens. Parsing aborted."]


INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_introspection_is_on_by_default(client: httpx.Client) -> None:
    assert client.post("/graphql", json={"query": INTROSPECTION}).json() == {
        "data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_introspection_can_be_switched_off(neo4j_connection: Neo4jConnection, api_keys: ApiKeys) -> None:
    with ServerThread(neo4j_connection, limits=ApiLimits(introspection=False), poll_seconds=3600,
                      sweep_seconds=3600) as server:
        with httpx.Client(base_url=server.url, timeout=30, headers=api_keys.admin_header) as client:
            refused = messages(client.post("/graphql", json={"query": INTROSPECTION}))
            assert refused[0] == ("GraphQL introspection has been disabled, "
                                 "but the requested query contained the field '__schema'.")
            by_type = messages(client.post("/graphql", json={"query": '{ __type(name: "Query") { name } }'}))
            assert by_type[0] == ("GraphQL introspection has been disabled, "
                                 "but the requested query contained the field '__type'.")
            assert client.post("/graphql", json={"query": "{ segments { id } __typename }"}).status_code == 200


# ---- requests per key ----------------------------------------------------------------------------


async def test_a_key_over_its_rate_limit_is_answered_429_with_retry_after(
        neo4j_connection: Neo4jConnection, api_keys: ApiKeys) -> None:
    with ServerThread(neo4j_connection, limits=ApiLimits(rate_per_second=1, rate_burst=3), poll_seconds=3600,
                      sweep_seconds=3600) as server:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            def ask(key: str) -> httpx.Response:
                return client.post("/graphql", json={"query": "{ segments { id } }"}, headers=ApiKeys.header(key))

            statuses = [ask(api_keys.read).status_code for _ in range(4)]
            assert statuses[:3] == [200, 200, 200]
            refused = ask(api_keys.read)
            assert refused.status_code == 429 and refused.headers["Retry-After"] in ("1", "2")
            error = refused.json()["errors"][0]
            assert error["extensions"]["code"] == "RATE_LIMITED" and "rate limit of 1 requests a second" in \
                error["message"]
            assert ask(api_keys.admin).status_code == 200  # another key has its own
            events = client.post("/events", json={"events": []}, headers=ApiKeys.header(api_keys.read))
            assert events.status_code == 429 and "error" in events.json()  # every path behind the key
            time.sleep(1.2)
            assert ask(api_keys.read).status_code == 200


# ---- request bodies ------------------------------------------------------------------------------


def padded(size: int) -> bytes:
    """A valid GraphQL request of exactly `size` bytes (JSON padded with spaces)."""
    body = b'{"query": "{ segments { id } }"}'
    return body[:-1] + b" " * (size - len(body)) + b"}"


async def test_a_body_over_the_limit_is_413(client: httpx.Client, graph: Graph) -> None:
    limit = LIMITS.max_body_bytes
    at_limit = client.post("/graphql", content=padded(limit), headers={"Content-Type": "application/json"})
    assert at_limit.json() == {"data": {"segments": []}}
    over = client.post("/graphql", content=padded(limit + 1), headers={"Content-Type": "application/json"})
    assert over.status_code == 413
    assert over.json() == {"errors": [{"message": "the request body may have at most 1048576 bytes (1 MiB)",
                                       "extensions": {"code": "BODY_TOO_LARGE",
                                                      "requestId": over.headers["X-Request-Id"]}}]}

    def chunks() -> Iterator[bytes]:  # no Content-Length: the size is only known while reading
        body = padded(limit + 1)
        for start in range(0, len(body), 65536):
            yield body[start:start + 65536]

    chunked = client.post("/graphql", content=chunks(), headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413 and "at most 1048576 bytes" in chunked.text
    events = client.post("/events", content=padded(limit + 1), headers={"Content-Type": "application/json"})
    assert (events.status_code, events.json()) == (
        413, {"error": "the request body may have at most 1048576 bytes (1 MiB)"})
    assert client.post("/graphql", json={"query": "{ segments { id } }"}).status_code == 200  # and serves on


# ---- the Neo4j transaction timeout ---------------------------------------------------------------

SLOW_WORLD = """
CREATE (c:Company {id: 'Slow/A'})
CREATE (a:Account {source: 'Slow', sourceKey: 'A', name: 'Slow'})-[:PART_OF]->(c)
WITH a
CALL (a) { UNWIND range(1, $people) AS i
           CREATE (:Person {email: 'p' + i + '@slow.example'})-[:ASSOCIATED_WITH {source: 'Slow'}]->(a) }
CALL (a) { UNWIND range(1, $deals) AS j
           CREATE (a)-[:HAS_OPPORTUNITY {source: 'Slow'}]->(:Opportunity {source: 'Slow', sourceKey: 'o' + j,
                                                                           amount: 1.0, isWon: true, isClosed: true}) }
"""
# Under an OR every person is tested on their own, so each sums every deal of their one company:
# people x deals rows, about 30 s for 5000 x 5000 here. (At the top level of a rule, the company
# condition is evaluated once per company: that would answer at once. Without the stage filter, the
# company's own figures would answer at once too: the filter makes the sums happen at query time.)
EXPENSIVE = """{ preview(rule: {or: [
  {opportunities: {aggregate: SUM, status: WON, stages: ["Closed Won"], op: GT, value: 1e15}},
  {opportunities: {aggregate: MAX, status: WON, stages: ["Closed Won"], op: GT, value: 1e15}}]}) { count } }"""
ENDLESS = "UNWIND range(1, 4000000000) AS x WITH x WHERE x = -1 RETURN count(x) AS n"


async def test_a_query_over_the_timeout_is_stopped_with_a_clear_error_and_the_next_one_answers(
        graph: Graph, neo4j_connection: Neo4jConnection, api_keys: ApiKeys, caplog: pytest.LogCaptureFixture) -> None:
    await run_cypher(graph, SLOW_WORLD, people=5000, deals=5000)
    limits = ApiLimits(query_timeout_seconds=1)
    with ServerThread(neo4j_connection, limits=limits, poll_seconds=3600, sweep_seconds=3600) as server:
        with httpx.Client(base_url=server.url, timeout=120, headers=ApiKeys.header(api_keys.read)) as client:
            started = time.monotonic()
            stopped = client.post("/graphql", json={"query": EXPENSIVE})
            elapsed = time.monotonic() - started
            assert stopped.status_code == 200
            assert messages(stopped) == ["the query took longer than 1 s and was stopped"]
            assert elapsed < 15, elapsed  # Neo4j checks timeouts every 2 s; unstopped, this runs far longer
            after = client.post("/graphql", json={"query": '{ person(email: "p1@slow.example") { email } }'})
            assert after.json() == {"data": {"person": {"email": "p1@slow.example"}}}
    stops = [r for r in caplog.records if "stopped" in r.getMessage()]
    assert [(r.levelname, r.exc_info) for r in stops] == [("WARNING", None)]  # one line, no stack trace


async def test_every_kind_of_transaction_of_the_graph_has_the_timeout(neo4j_connection: Neo4jConnection) -> None:
    graph = Graph(neo4j_connection, timeout_seconds=0.5)

    async def endless(tx: Transaction) -> None:
        await tx.run_adhoc(ENDLESS)

    try:
        with pytest.raises(QueryTimeout, match=r"^the query took longer than 0.5 s and was stopped$"):
            await graph.run_adhoc(ENDLESS, Mode.READ)
        with pytest.raises(QueryTimeout):
            await graph.run_adhoc(ENDLESS, Mode.WRITE)
        with pytest.raises(QueryTimeout):
            await graph.write_work(endless)
        assert await graph.run_adhoc("RETURN 1 AS one", Mode.READ) == [{"one": 1}]
    finally:
        await graph.close()


# ---- a maximum on every list argument ------------------------------------------------------------

PREVIEW = "query ($rule: RuleInput!) { preview(rule: $rule) { count } }"
PERSON_IN = {"person": {"field": "EMAIL", "op": "IN", "values": [f"p{i}@x.example" for i in range(MAX_VALUES + 1)]}}
ACCOUNT_IN = {"account": {"field": "NAME", "op": "IN", "values": [f"n{i}" for i in range(MAX_VALUES + 1)]}}
ROLES_IN = {"op": "IN", "values": [f"r{i}" for i in range(MAX_VALUES + 1)]}
STAGES = {"opportunities": {"op": "GT", "value": 0, "stages": [f"s{i}" for i in range(MAX_VALUES + 1)]}}
PARTS = [{"person": {"field": "EMAIL", "op": "EQ", "value": f"p{i}@x.example"}} for i in range(MAX_NODES)]
TOO_MANY = MAX_BATCH + 1


def upsert(field: str, argument: str, input_type: str, record: Any, source: bool = True) -> tuple[str, dict[str, Any]]:
    source_argument = 'source: "CRM 1", ' if source else ""
    return (f"mutation ($r: [{input_type}!]!) {{ {field}({source_argument}{argument}: $r) {{ records }} }}",
            {"r": [record(i) for i in range(TOO_MANY)]})


# Every list argument (and list field of an input), with a call just over its maximum and the error.
LIST_ARGUMENTS: dict[str, tuple[str, dict[str, Any], str]] = {
    "Mutation.upsertPeople(people)": (
        *upsert("upsertPeople", "people", "PersonInput", lambda i: {"id": str(i), "email": f"p{i}@x.example"}),
        f"at most {MAX_BATCH} records"),
    "Mutation.upsertAccounts(accounts)": (
        *upsert("upsertAccounts", "accounts", "AccountInput", lambda i: {"id": str(i)}),
        f"at most {MAX_BATCH} records"),
    "Mutation.upsertAccountPeople(links)": (
        *upsert("upsertAccountPeople", "links", "AccountPersonInput", lambda i: {"accountId": "A", "personId": str(i)}),
        f"at most {MAX_BATCH} records"),
    "Mutation.upsertOpportunities(opportunities)": (
        *upsert("upsertOpportunities", "opportunities", "OpportunityInput", lambda i: {"id": str(i)}),
        f"at most {MAX_BATCH} records"),
    "Mutation.recordWebVisits(visits)": (
        *upsert("recordWebVisits", "visits", "WebVisitInput", lambda i: {"id": str(i)}),
        f"at most {MAX_BATCH} records"),
    "Mutation.upsertSameCompanyLinks(links)": (
        *upsert("upsertSameCompanyLinks", "links", "SameCompanyLinkInput", lambda i: {"linkId": str(i)}, source=False),
        f"at most {MAX_BATCH} records"),
    "PersonConditionInput.values": (PREVIEW, {"rule": PERSON_IN}, f"must be a list of 1 to {MAX_VALUES} strings"),
    "AccountConditionInput.values": (PREVIEW, {"rule": ACCOUNT_IN}, f"must be a list of 1 to {MAX_VALUES} strings"),
    "OpportunityRoleConditionInput.values": (PREVIEW, {"rule": {"opportunityRole": ROLES_IN}},
                                             f"must be a list of 1 to {MAX_VALUES} strings"),
    "AccountRoleConditionInput.values": (PREVIEW, {"rule": {"accountRole": ROLES_IN}},
                                         f"must be a list of 1 to {MAX_VALUES} strings"),
    "OpportunityConditionInput.stages": (PREVIEW, {"rule": STAGES}, f"must be a list of 1 to {MAX_VALUES} strings"),
    "BuyingGroupConditionInput.roles": (PREVIEW, {"rule": {"buyingGroup": {"roles": ROLES_IN["values"]}}},
                                        f"must be a list of 1 to {MAX_VALUES} strings"),
    "RuleInput.and": (PREVIEW, {"rule": {"and": PARTS}}, f"a rule may have at most {MAX_NODES} parts"),
    "RuleInput.or": (PREVIEW, {"rule": {"or": PARTS}}, f"a rule may have at most {MAX_NODES} parts"),
    "RulePreview.explain(emails)": (
        'query ($e: [String!]!) { preview(rule: {person: {field: EMAIL, op: EQ, value: "a@b.c"}}) '
        "{ explain(emails: $e) { email } } }",
        {"e": [f"p{i}@x.example" for i in range(MAX_EXPLAINED + 1)]}, f"at most {MAX_EXPLAINED} to explain at once"),
    "RulePreview.explainAccounts(companyIds)": (
        "query ($c: [ID!]!) { preview(subject: COMPANY, rule: {people: {minCount: 1}}) "
        "{ explainAccounts(companyIds: $c) { companyId } } }",
        {"c": [f"CRM 1/{i}" for i in range(MAX_EXPLAINED + 1)]}, f"at most {MAX_EXPLAINED} to explain at once"),
}
# Page sizes: every `first` argument.
PAGES: dict[str, str] = {
    "Audience.members(first)": "{ audience(minCompanyWonAmount: 1, visitedPage: \"/\", withinDays: 30) "
                               "{ members(first: %d) { hasNextPage } } }",
    "RulePreview.members(first)": "{ preview(rule: {person: {field: EMAIL, op: EQ, value: \"a@b.c\"}}) "
                                  "{ members(first: %d) { hasNextPage } } }",
    "RulePreview.companies(first)": "{ preview(rule: {person: {field: EMAIL, op: EQ, value: \"a@b.c\"}}) "
                                    "{ companies(first: %d) { members } } }",
    "Query.deliveries(first)": "{ deliveries(first: %d) { id } }",
    "Query.linkSuggestions(first)": "{ linkSuggestions(first: %d) { minScore } }",
    "Segment.evaluations(first)": "query ($id: ID!) { segment(id: $id) { evaluations(first: %d) { count } } }",
    "Segment.members(first)": "query ($id: ID!) { segment(id: $id) { members(first: %d) { hasNextPage } } }",
    "RulePreview.accounts(first)": "{ preview(subject: COMPANY, rule: {people: {minCount: 1}}) "
                                   "{ accounts(first: %d) { hasNextPage } } }",
    "Segment.companies(first)": "query ($audience: ID!) { segment(id: $audience) { companies(first: %d) "
                                "{ hasNextPage } } }",
    "Company.opportunities(first)": "{ company(id: \"CRM 1/A\") { opportunities(first: %d) { totalCount } } }",
    "Campaign.members(first)": "{ campaign(source: \"CRM 1\", sourceKey: \"C\") "
                               "{ members(first: %d) { totalCount } } }",
    "MarketingList.members(first)": "{ marketingList(source: \"CRM 1\", sourceKey: \"L\") "
                                    "{ members(first: %d) { totalCount } } }",
}
# The company, campaign and list whose pages are asked for above.
PAGED_RECORDS = """
    CREATE (:Account {source: 'CRM 1', sourceKey: 'A', name: 'A'})-[:PART_OF]->(:Company {id: 'CRM 1/A'})
    CREATE (:Campaign {source: 'CRM 1', sourceKey: 'C', name: 'C'})
    CREATE (:MarketingList {source: 'CRM 1', sourceKey: 'L', name: 'L'})
    CREATE (:Delivery {id: 'D', segmentId: 'S', destination: 'Hook', status: 'DEAD', emails: [], attempts: 1,
                       createdAt: datetime()})
"""


def unwrap(graphql_type: GraphQLType) -> GraphQLType:
    return unwrap(graphql_type.of_type) if isinstance(graphql_type, GraphQLNonNull) else graphql_type


def schema_lists_and_pages() -> tuple[set[str], set[str]]:
    lists, pages = set(), set()
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__"):
            continue
        if isinstance(graphql_type, GraphQLObjectType):
            for field_name, field in graphql_type.fields.items():
                for argument_name, argument in field.args.items():
                    if isinstance(unwrap(argument.type), GraphQLList):
                        lists.add(f"{name}.{field_name}({argument_name})")
                    if argument_name == "first":
                        pages.add(f"{name}.{field_name}(first)")
        elif isinstance(graphql_type, GraphQLInputObjectType):
            lists |= {f"{name}.{f}" for f, field in graphql_type.fields.items()
                      if isinstance(unwrap(field.type), GraphQLList)}
    return lists, pages


async def test_every_list_argument_and_page_size_of_the_schema_is_covered_here() -> None:
    assert schema_lists_and_pages() == (set(LIST_ARGUMENTS), set(PAGES))


@pytest.mark.parametrize("where", sorted(LIST_ARGUMENTS))
async def test_a_list_argument_over_its_maximum_is_a_clear_error(graph: Graph, where: str) -> None:
    query, variables, expected = LIST_ARGUMENTS[where]
    result = await execute_graphql(graph, query, **variables)
    assert result.errors, where
    assert expected in result.errors[0].message, result.errors[0].message
    assert await run_cypher(graph, "MATCH (n) WHERE NOT n:ApiKey RETURN count(n) AS n") == [{"n": 0}]


@pytest.mark.parametrize("where", sorted(PAGES))
async def test_a_page_over_the_maximum_is_a_clear_error(graph: Graph, where: str) -> None:
    segment = await graphql_data(graph, 'mutation { createSegment(name: "s", '
                                        'rule: {person: {field: EMAIL, op: EQ, value: "a@b.c"}}) { id } }')
    await run_cypher(graph, PAGED_RECORDS)
    audience = await graphql_data(graph, 'mutation { createSegment(name: "a", subject: COMPANY, '
                                         'rule: {people: {minCount: 1}}) { id } }')
    variables = {"id": segment["createSegment"]["id"]} if "$id" in PAGES[where] else {}
    if "$audience" in PAGES[where]:
        variables = {"audience": audience["createSegment"]["id"]}
    answer = await execute_graphql(graph, PAGES[where] % MAX_PAGE, **variables)
    assert answer.errors is None and all(answer.data.values()), answer  # the parent exists: its page ran
    for first in (MAX_PAGE + 1, 0):
        result = await execute_graphql(graph, PAGES[where] % first, **variables)
        assert result.errors and result.errors[0].message == f"first: must be from 1 to {MAX_PAGE}", result.errors
