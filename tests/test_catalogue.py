"""The query catalogue: every file under cypher/ loads with its header, has a constant, is used by
the service, and plans against the real schema in the mode it declares; a broken file is refused."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from neo4j import Query, RoutingControl
from neo4j.exceptions import ClientError

from service.config import PROJECT_ROOT
from service.database import Graph, QueryModeError, Transaction
from service.queries import (
    CYPHER_DIR,
    CatalogueError,
    CypherFile,
    Mode,
    Q,
    Rendered,
    Template,
    catalogue,
    load_catalogue,
    query_file,
)
from service.segments import engine, store
from service.segments.presets import audience_rule
from service.segments.rules import Subject, parse_rule

SERVICE = PROJECT_ROOT / "service"
PAGE = "https://www.bodea.com/products/new-product"
# Neo4j's query types (ResultSummary.query_type): r read only, w write only, rw read and write, s schema.
WRITING_TYPES = {"w", "rw"}
PLANNING_TIMEOUT_SECONDS = 600


# Conditions on a corporate family (scopes FAMILY and ULTIMATE), on a person or a company.
FAMILY_CONDITIONS: list[dict[str, Any]] = [
    {"opportunities": {"scope": "FAMILY", "aggregate": "COUNT", "status": "OPEN", "op": "GTE", "value": 1}},
    {"opportunities": {"scope": "ULTIMATE", "stages": ["Closed Won"], "op": "GT", "value": 1000}},
    {"account": {"scope": "FAMILY", "field": "NAME", "op": "EQ", "value": "Townsend Holdings"}},
    {"account": {"scope": "ULTIMATE", "field": "EMPLOYEES", "op": "GT", "number": 1000}},
]


def every_rule(saved_segment_id: str, families: bool = True) -> dict[str, Any]:
    """One rule with every kind of condition, combinator and option the compiler treats apart.

    families: with FAMILY_CONDITIONS (without, inside an account audience's rule: their variable-length
    patterns nested there make a rule Neo4j takes longer to plan than a transaction may last).
    """
    return {"or": [*(FAMILY_CONDITIONS if families else []),
        {"and": [{"person": {"field": "EMAIL_DOMAIN", "op": "EQ", "value": "townsend.com"}},
                 {"not": {"account": {"scope": "ACCOUNT", "field": "EMPLOYEES", "op": "GT", "number": 100}}}]},
        {"account": {"field": "INDUSTRY", "op": "IN", "values": ["Banking", "Retail"]}},
        {"opportunities": {"aggregate": "COUNT", "status": "OPEN", "stages": ["Prospecting"], "op": "GTE", "value": 2}},
        {"opportunities": {"aggregate": "MAX", "status": "WON", "closedWithinDays": 90, "op": "GT", "value": 1000}},
        {"visits": {"url": "https://www.bodea.com/*", "match": "PATTERN", "minCount": 2, "withinDays": 7}},
        {"campaign": {"source": "Marketo 1", "id": "C1", "status": "Responded"}},
        {"list": {"source": "Marketo 1", "id": "L1"}},
        {"opportunityRole": {"op": "EQ", "value": "Decision Maker", "status": "OPEN"}},
        {"accountRole": {"op": "IN", "values": ["Decision Maker", "Economic Buyer"]}},
        {"buyingGroup": {"roles": ["Champion"], "minRoles": 3, "minEngaged": 2, "withinDays": 14}},
        {"segment": {"id": saved_segment_id}},
    ]}


def every_company_rule(person_segment_id: str) -> dict[str, Any]:
    """An account audience's rule with every kind of condition on a company, a person rule inside it."""
    return {"and": [
        {"opportunities": {"status": "WON", "op": "GT", "value": 1000}},  # the anchor, on the held figure
        {"or": [
            {"account": {"field": "INDUSTRY", "op": "IN", "values": ["Banking", "Retail"]}},
            {"opportunities": {"aggregate": "COUNT", "status": "OPEN", "stages": ["Prospecting"], "op": "GTE",
                               "value": 2}},
            *FAMILY_CONDITIONS,
            {"buyingGroup": {"roles": ["Champion"], "minRoles": 3, "minEngaged": 2, "withinDays": 14}},
            {"people": {"minCount": 2, "where": every_rule(person_segment_id, families=False)}},
            {"not": {"people": {}}},
            {"segment": {"id": person_segment_id}},
        ]},
    ]}


TEMPLATE_PARAMETERS: dict[Template, dict[str, Any]] = {
    Template.SEGMENT_COUNT: {},
    Template.SEGMENT_MEMBERS: {"first": 10, "after": None},
    Template.SEGMENT_COMPANIES: {"first": 10},
    Template.SEGMENT_EVALUATE: {"segmentId": "no-such-segment"},
    Template.SEGMENT_EVALUATE_PEOPLE: {"segmentId": "no-such-segment", "emails": ["p1@townsend.com"]},
    Template.SEGMENT_EXPLAIN: {"emails": ["p1@townsend.com"]},
}
# An account audience's rule renders into the twins of the templates that have one, on companies.
COMPANY_TEMPLATE_PARAMETERS: dict[Template, dict[str, Any]] = {
    Template.SEGMENT_COUNT: {},
    Template.SEGMENT_MEMBERS: {"first": 10, "after": None},
    Template.SEGMENT_EVALUATE: {"segmentId": "no-such-segment"},
    Template.SEGMENT_EVALUATE_PEOPLE: {"segmentId": "no-such-segment", "companyIds": ["CRM 1/0011A00001"]},
    Template.SEGMENT_EXPLAIN: {"companyIds": ["CRM 1/0011A00001"]},
}


async def planned_type(graph: Graph, text: str, parameters: dict[str, Any] | None = None) -> str:
    """EXPLAIN the text (planned against the schema, run never) and return Neo4j's query type.

    With a timeout of its own: the rules of every kind below plan in seconds on a quiet machine but may
    take over the server's transaction timeout on a loaded one, and this checks plans, not speed."""
    query = Query("EXPLAIN " + text, timeout=PLANNING_TIMEOUT_SECONDS)
    _, summary, _ = await graph.driver.execute_query(query, parameters or {}, database_=graph.database,
                                                     routing_=RoutingControl.WRITE)
    return str(summary.query_type)


def mode_problem(file: CypherFile, query_type: str) -> str | None:
    if (query_type in WRITING_TYPES) != (file.mode is Mode.WRITE):
        return f"{file.name}: declares mode {file.mode} but Neo4j plans it as query type {query_type!r}"
    return None


# ---- the files and the constants -------------------------------------------------------------------


def test_every_file_loads_and_every_file_and_constant_match() -> None:
    files = load_catalogue()
    on_disk = {path.relative_to(CYPHER_DIR).with_suffix("").as_posix() for path in CYPHER_DIR.rglob("*.cypher")}
    assert set(files) == on_disk == {*Q, *Template}
    assert all(file.description.strip() for file in files.values())
    assert all(t.value.startswith("segments/templates/") for t in Template)
    assert {f.name for f in files.values() if f.mode is Mode.SCHEMA} == {Q.SCHEMA}


def test_the_folders_are_the_concerns_and_names_put_the_subject_first() -> None:
    folders = {name.rsplit("/", 1)[0] for name in catalogue() if "/" in name}
    assert folders == {"ingest", "segments", "segments/templates", "auth", "activation", "erasure", "api", "realtime",
                       "outbox", "migrations", "stewardship", "metrics"}
    verb_first = re.compile(r"(upsert|delete|known|erase|suppress|mark|claim|last|regroup)_")
    verbs_first = [name for name in catalogue() if verb_first.match(name.rsplit("/", 1)[-1])]
    assert verbs_first == []


def test_every_constant_is_used_by_the_service() -> None:
    """So every file is used: a constant is referenced in service/ (not counting its declaration)."""
    code = "\n".join(path.read_text() for path in SERVICE.rglob("*.py") if path != SERVICE / "queries.py")
    unused = [constant for constant in (*Q, *Template)
              if not re.search(rf"\b{type(constant).__name__}\.{constant.name}\b", code)]
    assert unused == []


def test_no_query_is_named_by_text_and_no_ad_hoc_cypher_runs_in_the_service() -> None:
    found = []
    calls = re.compile(r"\bcypher\(|graph\.(read|write|read_text|write_text)\(|run_adhoc\(|\bqueries\(\)")
    for path in sorted(SERVICE.rglob("*.py")):
        if path == SERVICE / "database.py":
            continue
        found += [f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}"
                  for number, line in enumerate(path.read_text().splitlines(), 1) if calls.search(line)]
    assert found == []


@pytest.mark.parametrize(("change", "reason"), [
    (lambda root: (root / "ingest" / "accounts_upsert.cypher").write_text("MATCH (n) RETURN n\n"),
     "cypher/ingest/accounts_upsert.cypher must start with the header lines"),
    (lambda root: _replace(root / "auth" / "api_key_used.cypher", "name: auth/api_key_used", "name: api_key_used"),
     "declares '// name: api_key_used'; its path makes it 'auth/api_key_used'"),
    (lambda root: _replace(root / "auth" / "api_key_used.cypher", "// mode: write", "// mode: sometimes"),
     "cypher/auth/api_key_used.cypher must start with the header lines"),
    (lambda root: (root / "auth" / "api_key_touch.cypher").write_text(
        "// name: auth/api_key_touch\n// A query nobody declared.\n// mode: read\nRETURN 1\n"),
     "cypher/auth/api_key_touch.cypher has no constant in service/queries.py"),
    (lambda root: (root / "api" / "people_by_email.cypher").unlink(),
     "<Q.PEOPLE_BY_EMAIL: 'api/people_by_email'> has no file cypher/api/people_by_email.cypher"),
    (lambda root: (root / "segments" / "templates" / "segment_count.cypher").rename(root / "segment_count.cypher"),
     "declares '// name: segments/templates/segment_count'; its path makes it 'segment_count'"),
])
def test_a_broken_catalogue_is_refused_with_the_reason(tmp_path: Path, change: Any, reason: str) -> None:
    root = tmp_path / "cypher"
    shutil.copytree(CYPHER_DIR, root)
    load_catalogue(root)  # intact, it loads
    change(root)
    with pytest.raises(CatalogueError) as refused:
        load_catalogue(root)
    assert reason in str(refused.value)


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


# ---- against the real schema -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_every_query_plans_against_the_schema_in_its_declared_mode(graph: Graph) -> None:
    problems = []
    for query in Q:
        file = query_file(query)
        if file.mode is Mode.SCHEMA:
            continue  # applied by Graph.migrate before every test session; EXPLAIN does not take it
        try:
            problems.append(mode_problem(file, await planned_type(graph, file.text)))
        except ClientError as error:
            problems.append(f"{file.name}: {error.code}: {error.message}")
    assert [problem for problem in problems if problem] == []


@pytest.mark.asyncio
async def test_every_template_plans_against_the_schema_for_every_kind_of_rule(graph: Graph) -> None:
    base = {"person": {"field": "EMAIL", "op": "EQ", "value": "p1@townsend.com"}}
    saved = await store.create(graph, "Base", "", base)
    audience = await store.create(graph, "Accounts", "", every_company_rule(saved["id"]), Subject.COMPANY)
    rules = [(Subject.PERSON, audience_rule(1_000_000, PAGE, 30)), (Subject.PERSON, every_rule(saved["id"])),
             (Subject.PERSON, {"person": {"field": "EMAIL", "op": "IN", "values": ["p1@townsend.com"]}}),
             # The audience's rule holds every_rule (in `people`): one more copy beside it would only slow planning.
             (Subject.PERSON, {"and": [{"segment": {"id": audience["id"]}}, base]}),
             (Subject.COMPANY, every_company_rule(saved["id"])),
             (Subject.COMPANY, {"segment": {"id": audience["id"]}})]
    problems = []
    rendered_templates = set()
    for subject, rule in rules:
        compiled = await engine.compile_for(graph, parse_rule(rule, subject), None, subject)
        parameters = COMPANY_TEMPLATE_PARAMETERS if subject == Subject.COMPANY else TEMPLATE_PARAMETERS
        for template, extra in parameters.items():
            rendered = compiled.render(template)
            rendered_templates.add(rendered.template)
            assert "/*" not in rendered.text.replace("/*ANCHOR*/", ""), "every slot is filled"
            try:
                query_type = await planned_type(graph, rendered.text, {**compiled.parameters, **extra})
                problems.append(mode_problem(query_file(template), query_type))
            except ClientError as error:
                problems.append(f"{template.value} with {rule}: {error.code}: {error.message}")
    assert [problem for problem in problems if problem] == []
    assert rendered_templates == set(Template)


@pytest.mark.asyncio
async def test_the_checks_above_fail_on_a_broken_or_misdeclared_file(graph: Graph) -> None:
    upsert = query_file(Q.ACCOUNTS_UPSERT)
    with pytest.raises(ClientError):
        await planned_type(graph, upsert.text.replace("MERGE", "MERGED", 1))
    misdeclared = CypherFile(upsert.name, upsert.description, Mode.READ, False, upsert.text)
    assert mode_problem(misdeclared, await planned_type(graph, upsert.text)) is not None
    reader = query_file(Q.SEGMENTS_ALL)
    assert mode_problem(CypherFile(reader.name, "", Mode.WRITE, False, reader.text), "r") is not None


# ---- routing by the file ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_write_declared_as_a_read_is_refused_with_a_clear_error(graph: Graph) -> None:
    misdeclared = CypherFile("ingest/accounts_upsert", "a write", Mode.READ, False, "CREATE (:Misdeclared)")
    with pytest.raises(QueryModeError, match=r"cypher/ingest/accounts_upsert.cypher writes but declares "
                                             r"'// mode: read'; declare '// mode: write'"):
        await graph._execute(misdeclared, misdeclared.text, {})
    with pytest.raises(QueryModeError, match="is the schema"):
        await graph.run(Q.SCHEMA)


@pytest.mark.asyncio
async def test_a_read_runs_in_a_write_transaction_and_rendered_templates_route_by_the_template(graph: Graph) -> None:
    async def work(tx: Transaction) -> list[dict[str, Any]]:
        return await tx.run(Q.SEGMENTS_ALL)

    assert await graph.write_work(work) == []
    compiled = await engine.compile_for(graph, parse_rule({"person": {"field": "EMAIL", "op": "EQ", "value": "x@y.z"}}))
    assert await graph.run_template(compiled.render(Template.SEGMENT_COUNT), **compiled.parameters) == [{"count": 0}]
    assert isinstance(compiled.render(Template.SEGMENT_COUNT), Rendered)


@pytest.mark.asyncio
async def test_the_people_marked_callbacks_run_after_a_marking_commit_only(graph: Graph) -> None:
    calls: list[str] = []
    unregister = graph.on_people_marked(lambda: calls.append("marked"))
    try:
        await graph.run(Q.SEGMENTS_ALL)
        assert calls == []
        await graph.run(Q.PEOPLE_MARK_FOR_EVALUATION, emails=[], accounts=[])
        assert calls == ["marked"]

        async def marking(tx: Transaction) -> None:
            await tx.run(Q.PEOPLE_MARK_FOR_EVALUATION, emails=[], accounts=[])
            assert calls == ["marked"], "not before the commit"

        async def failing(tx: Transaction) -> None:
            await tx.run(Q.PEOPLE_MARK_FOR_EVALUATION, emails=[], accounts=[])
            raise RuntimeError("rolled back")

        await graph.write_work(marking)
        assert calls == ["marked", "marked"]
        with pytest.raises(RuntimeError):
            await graph.write_work(failing)
        assert calls == ["marked", "marked"], "a rolled-back transaction marked nobody"
    finally:
        unregister()
    await graph.run(Q.PEOPLE_MARK_FOR_EVALUATION, emails=[], accounts=[])
    assert calls == ["marked", "marked"]
