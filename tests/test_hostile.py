"""Hostile input: malformed GraphQL, huge strings, deep nesting, Cypher injection in every string
argument of every root field, broken bytes and CSV quirks in import files, dates out of range.

Every case gets a clear error (or a correct answer), writes nothing it should not (a snapshot of
the whole graph before and after), and the service answers the next request. The corpus of files
is in tests/hostile/: `graphql/` (documents) and `imports/` (`<case>.<kind>.<csv|jsonl>`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLType,
)

from service.api.schema import schema
from service.config import get_settings
from service.database import Graph
from service.errors import AccountGraphError
from service.ingest.errors import ImportRejected
from service.ingest.pipeline import ingest_path
from tests.helpers import execute_graphql, graphql_data, messages, run_cypher
from tests.snapshot import snapshot

pytestmark = pytest.mark.asyncio

CORPUS = Path(__file__).resolve().parent / "hostile"
FOLLOW_UP = '{ person(email: "p1@townsend.com") { email } }'
MODEL_LABELS = {"Person", "Source", "Account", "Company", "Opportunity", "WebVisit", "Campaign", "MarketingList",
                "Segment", "SegmentEvaluation", "Destination", "Activation", "ApiKey", "Suppression", "SuppressedId",
                "PendingEvaluation"}


def still_answers(client: httpx.Client) -> None:
    response = client.post("/graphql", json={"query": FOLLOW_UP})
    assert response.json() == {"data": {"person": {"email": "p1@townsend.com"}}}, response.text


async def still_answers_in_process(graph: Graph) -> None:
    assert await graphql_data(graph, FOLLOW_UP) == {"person": {"email": "p1@townsend.com"}}


# ---- malformed GraphQL documents, over HTTP ------------------------------------------------------

# Each document of tests/hostile/graphql and the start of the one error it must get.
DOCUMENTS: dict[str, str] = {
    "block-string-unterminated.graphql": "Syntax Error: Unterminated string.",
    "control-character.graphql": "Syntax Error: Unexpected character: U+0007.",
    "directive-unknown.graphql": "Unknown directive '@skipAll'.",
    "directive-wrong-argument.graphql": 'Boolean cannot represent a non boolean value: "yes"',
    "duplicate-operation-names.graphql": "There can be only one operation named 'Q'.",
    "empty.graphql": "No GraphQL query found in the request",  # a 400 in plain text
    "enum-as-string.graphql": "Enum 'DestinationKind' cannot represent non-enum value: \"MARKETO\".",
    "float-overflow.graphql": "minCompanyWonAmount: must be a finite amount >= 0",
    "fragment-cycle.graphql": "Cannot spread fragment 'A' within itself via 'B'.",
    "fragment-on-wrong-type.graphql":
        "Fragment 'F' cannot be spread here as objects of type 'Segment' can never be of type 'Person'.",
    "introspection-cycle.graphql": "Maximum introspection depth exceeded",
    "invalid-enum.graphql": "Value 'SFTP' does not exist in 'DestinationKind' enum.",
    "missing-argument.graphql":
        "Argument 'Query.person(email:)' of type 'String!' is required, but it was not provided.",
    "missing-selection.graphql": "Field 'segments' of type '[Segment!]!' must have a selection of subfields.",
    "mutation-in-query.graphql": "Cannot query field 'erasePerson' on type 'Query'.",
    "nul-in-document.graphql": "",  # answered: a NUL is no email, so no such person
    "number-overflow.graphql": "Int cannot represent non 32-bit signed integer value: 99999999999999999999",
    "only-a-comment.graphql": "Syntax Error: Unexpected <EOF>.",
    "selection-on-scalar.graphql": "Field 'id' must not have a selection since type 'ID!' has no subfields.",
    "subscription-over-http.graphql":
        "subscriptions are served over WebSocket on /graphql (graphql-transport-ws), not over HTTP",
    "two-anonymous-operations.graphql": "This anonymous operation must be the only defined operation.",
    "unclosed-brace.graphql": "Syntax Error: Expected Name, found <EOF>.",
    "undefined-variable.graphql": "Variable '$email' is not defined.",
    "unicode-escape-broken.graphql": "Syntax Error: Invalid Unicode escape sequence: '\\uZZZZ'.",
    "unknown-argument.graphql": "Unknown argument 'where' on field 'Query.person'.",
    "unknown-field.graphql": "Cannot query field 'people' on type 'Query'.",
    "unterminated-string.graphql": "Syntax Error: Unterminated string.",
    "variable-of-wrong-type.graphql": "Variable '$email' of type 'Int!' used in position expecting type 'String!'.",
    "wrong-argument-type.graphql": 'Float cannot represent non numeric value: "a lot"',
}


async def test_every_document_of_the_corpus_has_its_expectation() -> None:
    assert sorted(p.name for p in (CORPUS / "graphql").iterdir()) == sorted(DOCUMENTS)


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
async def test_a_malformed_document_gets_a_clear_error(seeded_graph: Graph, client: httpx.Client, name: str) -> None:
    before = await snapshot(seeded_graph)
    document = (CORPUS / "graphql" / name).read_text()
    response = client.post("/graphql", json={"query": document})
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400 and not response.headers["content-type"].startswith("application/json"):
        assert response.text == DOCUMENTS[name], response.text
    elif DOCUMENTS[name]:
        found = messages(response)
        assert found and found[0].startswith(DOCUMENTS[name]), found
    else:
        assert "errors" not in response.json() and response.json()["data"], response.text[:300]
    assert await snapshot(seeded_graph) == before
    still_answers(client)


# ---- huge strings and deep nesting ---------------------------------------------------------------

TWO_MB = 2 * 1024 * 1024


async def test_a_2_mb_argument_over_http_is_refused_by_size(seeded_graph: Graph, client: httpx.Client) -> None:
    before = await snapshot(seeded_graph)
    huge = "a" * TWO_MB
    in_document = client.post("/graphql", json={"query": f'{{ person(email: "{huge}@x.example") {{ email }} }}'})
    in_variables = client.post("/graphql", json={"query": "query ($e: String!) { person(email: $e) { email } }",
                                                 "variables": {"e": huge}})
    events = client.post("/events", json={"source": "CRM", "events": [{"type": "person", "Id": "1", "Email": huge}]})
    assert [r.status_code for r in (in_document, in_variables, events)] == [413, 413, 413]
    assert "at most 1048576 bytes" in in_document.text
    assert await snapshot(seeded_graph) == before
    still_answers(client)


def nested_selection(levels: int) -> str:
    selection = "id"
    for level in range(levels):
        selection = f"{'company' if level % 2 == 0 else 'accounts'} {{ {selection} }}"
    return f'{{ account(source: "Marketo 1", sourceKey: "0011A00001") {{ {selection} }} }}'


@pytest.mark.parametrize(("levels", "expected"), [
    (20, "exceeds maximum operation depth of 12"),
    (3000, "Syntax Error: Document is nested too deeply. Parsing aborted."),
])
async def test_deeply_nested_selections_are_refused(seeded_graph: Graph, client: httpx.Client, levels: int,
                                                    expected: str) -> None:
    response = client.post("/graphql", json={"query": nested_selection(levels)})
    assert any(expected in message for message in messages(response)), response.text[:500]
    still_answers(client)


def nested_json(levels: int, inner: str = "1") -> str:
    return "[" * levels + inner + "]" * levels


async def test_deeply_nested_json_bodies_are_refused(seeded_graph: Graph, client: httpx.Client) -> None:
    before = await snapshot(seeded_graph)
    deep = nested_json(100_000)
    variables = ('{"query": "query ($e: String!) { person(email: $e) { email } }", "variables": {"e": ' + deep + "}}")
    graphql = client.post("/graphql", content=variables, headers={"Content-Type": "application/json"})
    assert graphql.status_code == 400, graphql.text[:300]
    events = client.post("/events", content='{"source": "CRM", "events": ' + deep + "}",
                         headers={"Content-Type": "application/json"})
    assert events.status_code == 400 and "nested too deeply" in events.json()["error"], events.text[:300]
    rule = {"person": {"field": "EMAIL", "op": "EQ", "value": "a@b.c"}}
    for _ in range(300):
        rule = {"not": rule}
    nested_rule = client.post("/graphql", json={"query": "query ($r: RuleInput!) { preview(rule: $r) { count } }",
                                                "variables": {"r": rule}})
    assert any("nest at most 12 levels" in m or "nested too deeply" in m
               for m in messages(nested_rule)), nested_rule.text[:300]
    assert await snapshot(seeded_graph) == before
    still_answers(client)


async def test_bodies_that_are_not_utf8_json_are_refused(seeded_graph: Graph, client: httpx.Client) -> None:
    before = await snapshot(seeded_graph)
    for body in (b'{"query": "{ segments { id } }\xff"}', b"\x00\x00\x00", b'{"query": 5}', b"[]", b"null"):
        graphql = client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
        assert graphql.status_code == 400, (body, graphql.status_code, graphql.text[:200])
    for body in (b'{"source": "CRM", "events": [{"type": "person", "Id": "1", "Email": "a\xff@b.c"}]}', b"\x00", b"[]",
                 b'{"source": "CRM", "events": "no"}'):
        events = client.post("/events", content=body, headers={"Content-Type": "application/json"})
        assert events.status_code == 400, (body, events.status_code, events.text[:200])
        assert "error" in events.json()
    assert await snapshot(seeded_graph) == before
    still_answers(client)


# ---- every string argument of every root field: injection, 2 MB, broken Unicode, NUL -----------------

INJECTIONS = [
    "x'}) DETACH DELETE n CREATE (:Pwned) //",
    'x"}) CREATE (:Pwned) RETURN 1 AS one //',
    "x`) CREATE (:Pwned) //",
    "$email}) MATCH (n) DETACH DELETE n CREATE (:Pwned) //",
    "*/ CREATE (:Pwned) /*",
    "x\n}) CREATE (:Pwned) //",
    "\\' CREATE (:Pwned) //",
    "o'brien\"})-[:X]->(:Pwned)//@example.com",  # an email address, as far as the format goes
]
PAYLOADS: dict[str, list[str]] = {
    "injection": INJECTIONS,
    "2 MB": ["a" * TWO_MB, "x" * TWO_MB + "@example.com"],
    "broken Unicode": ["a\ud800b", "\udfff@example.com"],
    "NUL": ["a\x00b", "a\x00@example.com"],
}
SCALARS = {"Int": 1, "Float": 1.0, "Boolean": False, "DateTime": "2026-01-01T00:00:00+00:00", "Date": "2026-01-01"}


def unwrap(graphql_type: GraphQLType) -> GraphQLType:
    return unwrap(graphql_type.of_type) if isinstance(graphql_type, GraphQLNonNull) else graphql_type


def rule_with(payload: str) -> dict[str, Any]:
    """A rule whose every string is the payload, one condition of each kind that takes strings."""
    return {"and": [
        {"person": {"field": "EMAIL", "op": "EQ", "value": payload}},
        {"person": {"field": "TITLE", "op": "IN", "values": [payload, payload]}},
        {"account": {"field": "NAME", "op": "CONTAINS", "value": payload}},
        {"opportunities": {"op": "GT", "value": 1, "stages": [payload]}},
        {"visits": {"url": payload, "match": "PATTERN"}},
        {"campaign": {"source": payload, "id": payload, "status": payload}},
        {"list": {"source": payload, "id": payload}},
        {"opportunityRole": {"op": "EQ", "value": payload, "status": "OPEN"}},
        {"accountRole": {"op": "IN", "values": [payload, payload]}},
    ]}


def value_for(graphql_type: GraphQLType, payload: str) -> Any:
    graphql_type = unwrap(graphql_type)
    if isinstance(graphql_type, GraphQLList):
        return [value_for(graphql_type.of_type, payload)]
    if isinstance(graphql_type, GraphQLEnumType):
        return next(iter(graphql_type.values))
    if isinstance(graphql_type, GraphQLInputObjectType):
        if graphql_type.name == "RuleInput":
            return rule_with(payload)
        return {name: value_for(field.type, payload) for name, field in graphql_type.fields.items()}
    assert isinstance(graphql_type, GraphQLScalarType)
    return payload if graphql_type.name in ("String", "ID") else SCALARS[graphql_type.name]


def selection_of(graphql_type: GraphQLType) -> str:
    """Every scalar field that takes no required argument (so lazy resolvers, such as a preview's
    count, run their Cypher too)."""
    graphql_type = unwrap(graphql_type)
    while isinstance(graphql_type, GraphQLList):
        graphql_type = unwrap(graphql_type.of_type)
    if not isinstance(graphql_type, GraphQLObjectType):
        return ""
    names = [name for name, field in graphql_type.fields.items()
             if isinstance(unwrap_all(field.type), (GraphQLScalarType, GraphQLEnumType))
             and not any(isinstance(argument.type, GraphQLNonNull) for argument in field.args.values())]
    return " { __typename " + " ".join(names) + " }"


def unwrap_all(graphql_type: GraphQLType) -> GraphQLType:
    graphql_type = unwrap(graphql_type)
    return unwrap_all(graphql_type.of_type) if isinstance(graphql_type, GraphQLList) else graphql_type


def root_fields() -> dict[str, tuple[str, str]]:
    """'Query.person' -> (the operation, with a variable per argument; a selection of __typename)."""
    fields: dict[str, tuple[str, str]] = {}
    for kind, root in (("query", schema._schema.query_type), ("mutation", schema._schema.mutation_type)):
        assert isinstance(root, GraphQLObjectType)
        for name, field in root.fields.items():
            declared = ", ".join(f"${arg}: {argument.type}" for arg, argument in field.args.items())
            passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
            selection = selection_of(field.type)
            operation = (f"{kind} {'(' + declared + ')' if declared else ''} "
                         f"{{ {name}{'(' + passed + ')' if passed else ''}{selection} }}")
            fields[f"{root.name}.{name}"] = (operation, name)
    return fields


ROOT_FIELDS = root_fields()


def has_string_argument(where: str) -> bool:
    root, name = where.split(".")
    field = schema._schema.type_map[root].fields[name]  # type: ignore[union-attr]

    def strings(graphql_type: GraphQLType, seen: frozenset[str] = frozenset()) -> bool:
        graphql_type = unwrap(graphql_type)
        if isinstance(graphql_type, GraphQLList):
            return strings(graphql_type.of_type, seen)
        if isinstance(graphql_type, GraphQLInputObjectType):
            return graphql_type.name not in seen and any(
                strings(f.type, seen | {graphql_type.name}) for f in graphql_type.fields.values())
        return isinstance(graphql_type, GraphQLScalarType) and graphql_type.name in ("String", "ID")

    return any(strings(argument.type) for argument in field.args.values())


STRING_FIELDS = sorted(where for where in ROOT_FIELDS if has_string_argument(where))


async def test_the_walk_reaches_the_root_fields_that_take_strings() -> None:
    assert {"Query.person", "Query.preview", "Mutation.upsertPeople", "Mutation.createSegment",
            "Mutation.addDestination", "Mutation.activate", "Mutation.erasePerson",
            "Mutation.revokeApiKey"} <= set(STRING_FIELDS)
    assert len(STRING_FIELDS) >= 20


def unexpected(errors: list[GraphQLError]) -> list[str]:
    """Errors that are not the caller's mistake said clearly (an AccountGraphError, or GraphQL's own): a crash,
    a Cypher error, a driver error, a plain ValueError."""
    return [f"{type(e.original_error).__name__}: {e.message}" for e in errors
            if not (e.original_error is None or isinstance(e.original_error, (AccountGraphError, GraphQLError)))
            or any(word in e.message for word in ("Neo.", "Traceback", "Invalid input", "CypherSyntax"))]


async def longest_value(graph: Graph) -> int:
    rows = await run_cypher(graph, """
        CALL () { MATCH (n) RETURN properties(n) AS props UNION ALL MATCH ()-[r]->() RETURN properties(r) AS props }
        UNWIND keys(props) AS key
        WITH props[key] AS v
        RETURN max(CASE WHEN v IS :: LIST<ANY> THEN reduce(m = 0, x IN v | CASE WHEN size(toStringOrNull(x)) > m
                                                                         THEN size(toStringOrNull(x)) ELSE m END)
                        ELSE size(toStringOrNull(v)) END) AS longest""")
    return rows[0]["longest"] or 0


def contains(before: list[Any], after: list[Any]) -> bool:
    """Every item of `before` is in `after` (as many times): nothing was changed or removed."""
    remaining = list(after)
    for item in before:
        if item not in remaining:
            return False
        remaining.remove(item)
    return True


@pytest.mark.parametrize("where", STRING_FIELDS)
async def test_every_string_argument_takes_hostile_text_safely(seeded_graph: Graph, where: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPORTS_DIR", str(tmp_path / "exports"))  # erasePerson and activate write there
    get_settings.cache_clear()
    graph = seeded_graph
    operation, field_name = ROOT_FIELDS[where]
    root, name = where.split(".")
    arguments = schema._schema.type_map[root].fields[name].args  # type: ignore[union-attr]
    for kind, payload in ((kind, payload) for kind, payloads in PAYLOADS.items() for payload in payloads):
        before = await snapshot(graph)
        variables = {arg: value_for(argument.type, payload) for arg, argument in arguments.items()}
        result = await execute_graphql(graph, operation, **variables)
        assert not unexpected(result.errors or []), (kind, payload[:80], unexpected(result.errors or []))
        after = await snapshot(graph)
        assert contains(before[0], after[0]) and contains(before[1], after[1]), f"{where} changed or removed data"
        labels = {label for labels, _ in after[0] for label in labels}
        assert labels <= MODEL_LABELS, labels - MODEL_LABELS
        assert await longest_value(graph) < 5000, f"{where} stored a {kind} value"
    await still_answers_in_process(graph)
    get_settings.cache_clear()


# ---- import files: bytes, CSV quirks, dates out of range --------------------------------------------

Rejected = tuple[int, str, str]  # line, column, words of the reason
# case -> the error it must get (the first of them), or the rows written when it is accepted.
IMPORTS: dict[str, Rejected | int] = {
    "before-year-1-in-utc.web-visits.csv": (2, "VisitedAt", "out of range"),
    "bom-twice.accounts.csv": (3, "Id", "byte-order mark"),
    "bom-utf16.accounts.csv": (0, "-", "not UTF-8"),
    "bom.accounts.csv": 1,
    "cypher-in-values.accounts.csv": 1,
    "deep-nesting.accounts.jsonl": (1, "-", "nested too deeply"),
    "empty-header-cell.accounts.csv": (1, "", "unknown column"),
    "feb-30.opportunities.csv": (2, "CloseDate", "not an ISO date"),
    "feb-30.web-visits.csv": (2, "VisitedAt", "not an ISO 8601 date-time"),
    "header-only.accounts.csv": 0,
    "huge-integer.accounts.csv": (2, "NumberOfEmployees", "too large"),
    "huge-number.accounts.jsonl": (1, "NumberOfEmployees", "too large"),
    "invalid-utf8.people.jsonl": (0, "-", "not UTF-8"),
    "latin-1.accounts.csv": (0, "-", "not UTF-8"),
    "lone-surrogate-escape.people.jsonl": (1, "FirstName", "not valid Unicode"),
    "long-name.accounts.csv": (2, "Name", "at most 4096 characters"),
    "mixed-line-endings.accounts.csv": 3,
    "nan.opportunities.csv": (2, "Amount", "not a finite number"),
    "nested-json.accounts.jsonl": (1, "Name", "not text"),
    "nul-escape.people.jsonl": (1, "FirstName", "NUL"),
    "nul-in-id.accounts.csv": (2, "Id", "NUL"),
    "nul-in-value.accounts.csv": (2, "Name", "NUL"),
    "overlong-utf8.accounts.csv": (0, "-", "not UTF-8"),
    "past-year-9999-in-utc.web-visits.csv": (2, "VisitedAt", "out of range"),
    "quote-in-header.accounts.csv": (1, "-", "malformed CSV header: unexpected end of data"),
    "quote-inside-value.accounts.csv": 1,
    "semicolons.accounts.csv": (1, "Id;Name", "unknown column"),
    "stray-quote-after-quoted.accounts.csv": (2, "-", "malformed CSV: ',' expected after '\"'"),
    "surrogate-utf8.accounts.csv": (0, "-", "not UTF-8"),
    "too-few-columns.accounts.csv": (3, "-", "2 cells where the header has 3 columns"),
    "too-many-columns.accounts.csv": (3, "-", "3 cells where the header has 2 columns"),
    "truncated-utf8.accounts.csv": (0, "-", "not UTF-8"),
    "unbalanced-quote.accounts.csv": (2, "-", "malformed CSV"),
    "year-0.opportunities.csv": (2, "CloseDate", "not an ISO date"),
    "year-0.web-visits.csv": (2, "VisitedAt", "not an ISO 8601 date-time"),
    "year-1.web-visits.csv": 1,
    "year-10000.opportunities.csv": (2, "CloseDate", "not an ISO date"),
    "year-10000.web-visits.csv": (2, "VisitedAt", "not an ISO 8601 date-time"),
    "year-9999.campaigns.csv": 1,
}


async def test_every_import_file_of_the_corpus_has_its_expectation() -> None:
    assert sorted(p.name for p in (CORPUS / "imports").iterdir()) == sorted(IMPORTS)


def as_export(case: str, folder: Path) -> Path:
    """The corpus file under the name an import expects (`<kind>.<csv|jsonl>`)."""
    _, kind, suffix = case.rsplit(".", 2)
    folder.mkdir()
    file = folder / f"{kind}.{suffix}"
    file.write_bytes((CORPUS / "imports" / case).read_bytes())
    return file


@pytest.mark.parametrize("case", sorted(IMPORTS))
async def test_a_hostile_import_file_is_rejected_clearly_or_read_right(seeded_graph: Graph, tmp_path: Path,
                                                                       case: str) -> None:
    file = as_export(case, tmp_path / "export")
    before = await snapshot(seeded_graph)
    expected = IMPORTS[case]
    if isinstance(expected, int):
        report = await ingest_path(seeded_graph, file, "Marketo 1")
        assert report.rows == expected
    else:
        with pytest.raises(ImportRejected) as rejected:
            await ingest_path(seeded_graph, file, "Marketo 1")
        line, column, reason = expected
        first = rejected.value.errors[0]
        assert (first.file, first.line, first.column) == (str(file), line, column), rejected.value.errors
        assert reason in first.reason, first.reason
        assert await snapshot(seeded_graph) == before
    await still_answers_in_process(seeded_graph)


async def test_values_that_look_like_cypher_are_stored_as_they_are(seeded_graph: Graph, tmp_path: Path) -> None:
    await ingest_path(seeded_graph, as_export("cypher-in-values.accounts.csv", tmp_path / "e"), "Marketo 1")
    rows = await run_cypher(seeded_graph, "MATCH (a:Account {source: 'Marketo 1', sourceKey: $k}) "
                                          "RETURN a.name AS name, a.industry AS industry",
                            k="x'}) DETACH DELETE n //")
    assert rows == [{"name": "Acme`) CREATE (:Pwned) //", "industry": "$source"}]
    assert await run_cypher(seeded_graph, "MATCH (n:Pwned) RETURN count(n) AS n") == [{"n": 0}]


async def test_odd_but_valid_files_are_read_right(seeded_graph: Graph, tmp_path: Path) -> None:
    for case, expected in (("mixed-line-endings.accounts.csv", {"X1": "Acme", "X2": "Other", "X3": "Third"}),
                           ("quote-inside-value.accounts.csv", {"X1": 'Ac"me'}),
                           ("bom.accounts.csv", {"X1": "Acme"})):
        await run_cypher(seeded_graph, "MATCH (a:Account) WHERE a.sourceKey STARTS WITH 'X' DETACH DELETE a")
        await ingest_path(seeded_graph, as_export(case, tmp_path / case), "Marketo 1")
        rows = await run_cypher(seeded_graph, "MATCH (a:Account) WHERE a.sourceKey STARTS WITH 'X' "
                                              "RETURN a.sourceKey AS id, a.name AS name")
        assert {row["id"]: row["name"] for row in rows} == expected, case


async def test_a_2_mb_cell_is_rejected_by_name(seeded_graph: Graph, tmp_path: Path) -> None:
    file = tmp_path / "accounts.csv"
    file.write_bytes(b"Id,Name\nX1," + b"A" * TWO_MB + b"\n")
    before = await snapshot(seeded_graph)
    with pytest.raises(ImportRejected) as rejected:
        await ingest_path(seeded_graph, file, "Marketo 1")
    assert [(e.line, e.column) for e in rejected.value.errors] == [(2, "-")]
    assert "malformed CSV: field larger than field limit" in rejected.value.errors[0].reason
    assert await snapshot(seeded_graph) == before


# ---- dates out of range through GraphQL -------------------------------------------------------------

DATES: list[tuple[str, dict[str, Any], str]] = [
    ("mutation ($at: DateTime!) { recordWebVisits(source: \"Marketo 1\", "
     "visits: [{id: \"v\", personId: \"1002\", url: \"/\", visitedAt: $at}]) { records } }",
     {"at": "0000-01-01T00:00:00Z"}, "Value cannot represent a DateTime"),
    ("mutation ($at: DateTime!) { recordWebVisits(source: \"Marketo 1\", "
     "visits: [{id: \"v\", personId: \"1002\", url: \"/\", visitedAt: $at}]) { records } }",
     {"at": "10000-01-01T00:00:00Z"}, "Value cannot represent a DateTime"),
    ("mutation ($at: DateTime!) { recordWebVisits(source: \"Marketo 1\", "
     "visits: [{id: \"v\", personId: \"1002\", url: \"/\", visitedAt: $at}]) { records } }",
     {"at": "2026-02-30T00:00:00Z"}, "Value cannot represent a DateTime"),
    ("mutation ($at: DateTime!) { recordWebVisits(source: \"Marketo 1\", "
     "visits: [{id: \"v\", personId: \"1002\", url: \"/\", visitedAt: $at}]) { records } }",
     {"at": "9999-12-31T23:30:00-01:00"}, "out of range"),
    ("mutation ($d: Date!) { upsertOpportunities(source: \"Marketo 1\", opportunities: [{id: \"o\", "
     "accountId: \"0011A00001\", name: \"n\", amount: 1, stageName: \"Prospecting\", closeDate: $d}]) { records } }",
     {"d": "2026-02-30"}, "Value cannot represent a Date"),
    ("mutation ($d: Date!) { upsertOpportunities(source: \"Marketo 1\", opportunities: [{id: \"o\", "
     "accountId: \"0011A00001\", name: \"n\", amount: 1, stageName: \"Prospecting\", closeDate: $d}]) { records } }",
     {"d": "0000-12-01"}, "Value cannot represent a Date"),
    ("query ($r: RuleInput!) { preview(rule: $r) { count } }",
     {"r": {"opportunities": {"op": "GT", "value": 1, "closedAfter": "2026-02-30"}}}, "Value cannot represent a Date"),
    ("query ($r: RuleInput!) { preview(rule: $r) { count } }",
     {"r": {"visits": {"url": "/", "after": "10000-01-01T00:00:00Z"}}}, "Value cannot represent a DateTime"),
]


@pytest.mark.parametrize(("operation", "variables", "expected"), DATES, ids=[str(v) for _, v, _ in DATES])
async def test_dates_out_of_range_in_graphql_get_a_clear_error(seeded_graph: Graph, operation: str,
                                                               variables: dict[str, Any], expected: str) -> None:
    before = await snapshot(seeded_graph)
    result = await execute_graphql(seeded_graph, operation, **variables)
    assert result.errors and expected in result.errors[0].message, result.errors
    assert not unexpected(result.errors)
    assert await snapshot(seeded_graph) == before
    await still_answers_in_process(seeded_graph)


async def test_extreme_but_valid_moments_are_answered(seeded_graph: Graph) -> None:
    """Year 1 (in UTC) is stored and read back through the API; a visit in year 9999 has not happened
    yet, so it is refused (tests/test_time_bounds.py), while a rule may still name that year."""
    await graphql_data(seeded_graph, """mutation { recordWebVisits(source: "Marketo 1", visits: [
        {id: "first", personId: "1001", url: "/a", visitedAt: "0001-01-01T00:00:00Z"}]) { records } }""")
    data = await graphql_data(seeded_graph, '{ person(email: "p1@townsend.com") { visits { url visitedAt } } }')
    moments = sorted(visit["visitedAt"] for visit in data["person"]["visits"] if visit["url"] in ("/a", "/b"))
    assert moments == ["0001-01-01T00:00:00+00:00"]
    last = await execute_graphql(seeded_graph, """mutation { recordWebVisits(source: "Marketo 1", visits: [
        {id: "last", personId: "1001", url: "/b", visitedAt: "9999-12-31T23:59:59Z"}]) { records } }""")
    assert last.errors and "9999-12-31T23:59:59+00:00 is in the future" in last.errors[0].message
    preview = await graphql_data(seeded_graph, """{ preview(rule: {visits: {url: "/", match: PREFIX,
        after: "0001-01-01T00:00:00Z", before: "9999-12-31T23:59:59Z"}}) { count } }""")
    assert preview["preview"]["count"] >= 1
