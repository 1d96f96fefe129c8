"""The right to erasure: a person leaves the graph, the activation files and the logs, and no
re-import of an old export (files, mutations, POST /events) brings them back."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest.mock import ANY

import httpx
import pytest
import pytest_asyncio

from service.activation.activate import activation_file
from service.auth.keys import ApiKey, Scope
from service.database import Graph, Neo4jConnection
from service.erasure.hashing import email_hash, id_hash
from service.ingest.pipeline import ingest_path
from service.seed import seed
from service.segments.presets import audience_rule
from tests.helpers import SEED_DIR, ApiKeys, execute_graphql, graphql_data, run_cli, run_cypher
from tests.snapshot import snapshot

pytestmark = pytest.mark.asyncio

PAGE = "https://www.bodea.com/products/new-product"
P2 = "p2@townsend.com"
YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).isoformat()
ERASE = """mutation ($email: String!) { erasePerson(email: $email) {
  suppression person webVisits relationships { type count } suppressedIds destinations segmentsNamingEmail
  exportFiles exportLines exportFailures } }"""
ACTIVATE = "mutation ($s: ID!, $d: String!) { activate(segmentId: $s, destination: $d) { files } }"
# Marketo 1 besides the seed: p2 (lead 1002) on a campaign, a list and an opportunity's contact roles.
EXTRA = {
    "campaigns.csv": "Id,Name\nC1,Launch webinar\n",
    "campaign-members.csv": "CampaignId,PersonId,Status\nC1,1002,Attended\nC1,1001,Registered\n",
    "lists.csv": "Id,Name\nL1,Newsletter\n",
    "list-members.csv": "ListId,PersonId\nL1,1002\n",
    "opportunity-contact-roles.csv": "OpportunityId,PersonId,Role,IsPrimary\nmk1-opp-0001,1002,Decision Maker,true\n",
    "people.csv": "Id,Email\n1005,p5@townsend.com\n",
    "account-people.csv": "AccountId,PersonId\n3001,1005\n",
    "web-visits.csv": f"Id,PersonId,Url,VisitedAt\nm1-visit-0099,1005,{PAGE},{YESTERDAY}\n"
                      "m1-visit-0100,1002,https://www.bodea.com/pricing,2026-11-01T00:00:00Z\n",
}


async def write_export(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_text(content)
    return folder


@pytest_asyncio.fixture
async def townsend(seeded_graph: Graph, tmp_path: Path, exports: Path) -> Graph:
    """The seed, p2 in every kind of relationship, in segments (entered and left), sent to
    Marketo 1, Marketo 2 and LinkedIn; a segment whose rule names p2's email."""
    graph = seeded_graph
    await ingest_path(graph, await write_export(tmp_path / "extra", EXTRA), "Marketo 1")
    segment = (await graphql_data(graph, "mutation ($r: RuleInput!) { createSegment(name: \"Top\", rule: $r) { id } }",
                                  r=audience_rule(1_000_000, PAGE, 30)))["createSegment"]["id"]
    for name, kind, instance in (("M1", "MARKETO", "Marketo 1"), ("M2", "MARKETO", "Marketo 2"),
                                 ("LI", "LINKEDIN", None)):
        await graphql_data(graph, """mutation ($n: String!, $k: DestinationKind!, $i: String) {
            addDestination(name: $n, kind: $k, instance: $i) { name } }""", n=name, k=kind, i=instance)
        await graphql_data(graph, ACTIVATE, s=segment, d=name)
    domain = (await graphql_data(graph, """mutation { createSegment(name: "Townsend people",
        rule: {person: {field: EMAIL_DOMAIN, op: EQ, value: "townsend.com"}}) { id } }"""))["createSegment"]["id"]
    await graphql_data(graph, "mutation ($id: ID!) { evaluateSegment(id: $id) { count } }", id=domain)
    await graphql_data(graph, """mutation ($id: ID!) { updateSegment(id: $id,
        rule: {person: {field: EMAIL, op: EQ, value: "p1@townsend.com"}}) { id } }""", id=domain)
    await graphql_data(graph, "mutation ($id: ID!) { evaluateSegment(id: $id) { count } }", id=domain)  # p2 left
    await graphql_data(graph, """mutation { createSegment(name: "Just Sam",
        rule: {person: {field: EMAIL, op: EQ, value: "P2@Townsend.com"}}) { id } }""")
    return graph


async def relationships_of(graph: Graph, email: str) -> dict[str, int]:
    rows = await run_cypher(graph, "MATCH (:Person {email: $e})-[r]-() RETURN type(r) AS t, count(*) AS n", e=email)
    return {row["t"]: row["n"] for row in rows}


async def places_holding(graph: Graph, text: str) -> list[str]:
    """Every node and relationship with a property whose value holds the text."""
    rows = await run_cypher(graph, """
        CALL () { MATCH (n) RETURN labels(n)[0] AS what, properties(n) AS props
                  UNION ALL MATCH ()-[r]->() RETURN type(r) AS what, properties(r) AS props }
        WITH what, [k IN keys(props) | props[k]] AS values
        WHERE any(v IN values WHERE CASE WHEN v IS :: LIST<ANY>
                                         THEN any(x IN v WHERE toLower(toStringOrNull(x)) CONTAINS $t)
                                         ELSE toLower(toStringOrNull(v)) CONTAINS $t END)
        RETURN what""", t=text)
    return sorted(row["what"] for row in rows)


def every_file_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


async def test_erasing_a_person_removes_them_everywhere_and_says_what_went(
        townsend: Graph, exports: Path, caplog: pytest.LogCaptureFixture) -> None:
    graph = townsend
    expected = await relationships_of(graph, P2)
    assert set(expected) == {"KNOWN_IN", "ASSOCIATED_WITH", "CONTACT_FOR", "VISITED", "MEMBER_OF", "ON_LIST",
                             "IN_SEGMENT", "ENTERED", "LEFT", "SENT_TO", "SENT_IN"}  # every kind
    visits = await run_cypher(graph, "MATCH (:Person {email: $e})-[:VISITED]->(v) RETURN v.sourceKey AS id", e=P2)
    others = await run_cypher(graph, "MATCH (p:Person) WHERE p.email <> $e RETURN count(p) AS n", e=P2)
    before_files = every_file_under(exports)
    assert sum(b"p2@townsend.com" in content for content in before_files.values()) == 2  # Marketo 1 and 2

    caplog.set_level(logging.INFO)
    answer = (await graphql_data(graph, ERASE, email="  P2@Townsend.COM "))["erasePerson"]

    digest = email_hash(P2)
    assert answer["suppression"] == digest[:12]
    assert (answer["person"], answer["webVisits"], answer["suppressedIds"]) == (1, len(visits), 4)  # CRMs, Marketos
    assert {r["type"]: r["count"] for r in answer["relationships"]} == expected
    assert answer["destinations"] == ["LI", "M1", "M2"]
    assert answer["segmentsNamingEmail"] == ["Just Sam"]
    # The graph: no person, no visit, no relationship; the suppression holds hashes only.
    assert await run_cypher(graph, "MATCH (p:Person {email: $e}) RETURN p", e=P2) == []
    assert await run_cypher(graph, "MATCH (v:WebVisit) WHERE v.sourceKey IN $ids RETURN v",
                            ids=[v["id"] for v in visits]) == []
    assert await run_cypher(graph, "MATCH (p:Person) RETURN count(p) AS n") == others
    assert await places_holding(graph, P2) == ["Segment"]  # the rule of "Just Sam", reported above
    suppressions = await run_cypher(graph, """MATCH (s:Suppression) OPTIONAL MATCH (i:SuppressedId)-[:OF]->(s)
        WITH s, i ORDER BY i.hash RETURN s.hash AS hash, collect(i.hash) AS ids""")
    assert suppressions == [{"hash": digest,
                             "ids": sorted([id_hash("CRM 1", "0031A00002"), id_hash("CRM 2", "0032B00007"),
                                            id_hash("Marketo 1", "1002"), id_hash("Marketo 2", "5507")])}]
    top = await run_cypher(graph, "MATCH (s:Segment {name: 'Top'}) "
                                  "RETURN s.memberCount AS n, COUNT { (s)<-[:IN_SEGMENT]-() } AS members")
    assert top[0]["n"] == top[0]["members"]
    # The files: p2's lines went, and nothing else changed.
    after_files = every_file_under(exports)
    changed = sorted(name for name in after_files if after_files[name] != before_files[name])
    assert sorted(str(Path(f).relative_to(exports)) for f in answer["exportFiles"]) == changed
    assert sorted(Path(name).name for name in changed) == [
        "linkedin-matched-audience.csv", "marketo-marketo-1-requests.json", "marketo-marketo-1.csv",
        "marketo-marketo-2-requests.json", "marketo-marketo-2.csv"]
    assert answer["exportLines"] == 3 and answer["exportFailures"] == []
    p2_sha = hashlib.sha256(P2.encode()).hexdigest().encode()
    for name, content in after_files.items():
        assert b"p2@townsend.com" not in content and p2_sha not in content, name
        if name.endswith("marketo-marketo-1.csv"):
            assert content == b"id,email\n1005,p5@townsend.com\n"
        if name.endswith("marketo-marketo-1-requests.json"):
            assert json.loads(content) == [{"input": [{"id": 1005}]}]
        if name.endswith("marketo-marketo-2.csv"):
            assert content == b"id,email\n"
        if name.endswith("marketo-marketo-2-requests.json"):
            assert json.loads(content) == []
        if name.endswith("linkedin-matched-audience.csv"):
            assert content.count(b"\n") == 2 and hashlib.sha256(b"p5@townsend.com").hexdigest().encode() in content
    # The stored activations: their files, made from the graph, lack p2 too, as the scrubbed copies do.
    stored = await run_cypher(graph, "MATCH (a:Activation) UNWIND a.files AS name RETURN a.id AS id, name")
    assert len(stored) == len(after_files) == 5
    for row in stored:
        made = await activation_file(graph, str(row["id"]), str(row["name"]))
        assert made == after_files[f"{row['id']}/{row['name']}"], row
    # The log names the hash prefix, never the email.
    lines = [record.getMessage() for record in caplog.records if record.name.startswith("accountgraph")]
    assert any(digest[:12] in line for line in lines), lines
    assert not any("townsend.com" in line.lower() for line in lines), lines


async def test_an_old_export_imports_again_without_the_erased_person(townsend: Graph, tmp_path: Path) -> None:
    graph = townsend
    await graphql_data(graph, ERASE, email=P2)
    reports = await seed(graph, SEED_DIR)  # the whole old export: people, accounts, visits, links
    # CRMs: p2's contact, account link and contact role; Marketo 1: the lead and its visit; Marketo 2: the lead.
    assert [(r.source, r.suppressed) for r in reports] == [
        ("CRM 1", 3), ("Marketo 1", 2), ("CRM 2", 3), ("Marketo 2", 1), ("MDM", 0)]
    again = await ingest_path(graph, await write_export(tmp_path / "extra-again", EXTRA), "Marketo 1")
    assert again.suppressed == 4  # p2's campaign member, list member, contact role and visit; p5's rows are written
    assert "4 rows of erased people skipped" in str(again)
    assert await run_cypher(graph, "MATCH (p:Person {email: $e}) RETURN p", e=P2) == []
    assert await places_holding(graph, P2) == ["Segment"]
    people = await run_cypher(graph, "MATCH (p:Person) RETURN p.email AS e ORDER BY e")
    assert [row["e"] for row in people] == ["p1@townsend.com", "p3@townsend.com", "p5@townsend.com"]
    # Only the rows that name an erased id are left out: p1's own rows are there.
    assert (await relationships_of(graph, "p1@townsend.com"))["MEMBER_OF"] == 1


async def test_mutations_skip_erased_people_by_email_and_by_old_id(townsend: Graph) -> None:
    graph = townsend
    await graphql_data(graph, ERASE, email=P2)
    before = await snapshot(graph)
    people = await graphql_data(graph, """mutation { upsertPeople(source: "Marketo 3", people: [
        {id: "77", email: " p2@TOWNSEND.com", firstName: "Sam"}]) { records suppressed } }""")
    assert people["upsertPeople"] == {"records": 0, "suppressed": 1}
    visits = await graphql_data(graph, """mutation { recordWebVisits(source: "Marketo 1", visits: [
        {id: "late", personId: "1002", url: "https://www.bodea.com/", visitedAt: "2026-11-20T00:00:00Z"}]) {
        records suppressed } }""")
    assert visits["recordWebVisits"] == {"records": 0, "suppressed": 1}
    links = await graphql_data(graph, """mutation { upsertAccountPeople(source: "Marketo 2", links: [
        {accountId: "7001", personId: "5507"}, {accountId: "7001", personId: "5508", role: "Owner"}]) {
        records suppressed } }""")
    assert links["upsertAccountPeople"] == {"records": 1, "suppressed": 1}
    assert await run_cypher(graph, "MATCH (p:Person {email: $e}) RETURN p", e=P2) == []
    # An id Marketo 1 gives out again names someone else, whose rows are written.
    reused = await graphql_data(graph, """mutation { upsertPeople(source: "Marketo 1", people: [
        {id: "1002", email: "new@townsend.com"}]) { records suppressed } }""")
    assert reused["upsertPeople"] == {"records": 1, "suppressed": 0}
    visit = await graphql_data(graph, """mutation { recordWebVisits(source: "Marketo 1", visits: [
        {id: "new-1", personId: "1002", url: "https://www.bodea.com/", visitedAt: "2026-11-20T00:00:00Z"}]) {
        records suppressed } }""")
    assert visit["recordWebVisits"] == {"records": 1, "suppressed": 0}
    assert before != await snapshot(graph)


async def test_events_skip_erased_people(live_server: str, townsend: Graph, api_keys: ApiKeys) -> None:
    await graphql_data(townsend, ERASE, email=P2)
    before = await snapshot(townsend)
    body = {"source": "Marketo 1", "events": [
        {"type": "person", "Id": "1002", "Email": "p2@townsend.com"},
        {"type": "webVisit", "Id": "e-1", "PersonId": "1002", "Url": PAGE, "VisitedAt": "2026-11-25T10:00:00Z"},
        {"type": "listMember", "ListId": "L1", "PersonId": "1002"}]}
    with httpx.Client(base_url=live_server, timeout=30, headers=ApiKeys.header(api_keys.write)) as client:
        answer = client.post("/events", json=body)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["records"], answer.json()["suppressed"]) == (0, 3)
    assert await snapshot(townsend) == before


async def test_erasing_someone_not_in_the_graph_still_keeps_them_out(graph: Graph, exports: Path) -> None:
    answer = (await graphql_data(graph, ERASE, email="Later@Example.com"))["erasePerson"]
    assert (answer["person"], answer["webVisits"], answer["relationships"], answer["exportFiles"]) == (0, 0, [], [])
    result = await graphql_data(graph, """mutation { upsertPeople(source: "CRM", people: [
        {id: "1", email: "later@example.com"}, {id: "2", email: "other@example.com"}]) { records suppressed } }""")
    assert result["upsertPeople"] == {"records": 1, "suppressed": 1}
    again = (await graphql_data(graph, ERASE, email="later@example.com"))["erasePerson"]  # twice is harmless
    assert again["suppression"] == answer["suppression"]
    assert await run_cypher(graph, "MATCH (s:Suppression) RETURN count(s) AS n") == [{"n": 1}]


async def test_a_bad_email_or_a_key_without_admin_erases_nothing(seeded_graph: Graph, exports: Path) -> None:
    before = await snapshot(seeded_graph)
    bad = await execute_graphql(seeded_graph, ERASE, email="not an email")
    assert bad.errors and bad.errors[0].message == "email: not an email address"
    writer = ApiKey(id="w", name="writer", scopes=frozenset({Scope.WRITE, Scope.READ}))
    refused = await execute_graphql(seeded_graph, ERASE, key_=writer, email=P2)
    assert refused.errors and refused.errors[0].extensions == {"code": "FORBIDDEN", "missingScope": "admin",
                                                                    "requestId": ANY}
    assert await snapshot(seeded_graph) == before


async def test_the_cli_erases_and_reports(seeded_graph: Graph, neo4j_connection: Neo4jConnection,
                                          tmp_path: Path) -> None:
    exports = tmp_path / "cli-exports"
    folder = exports / "some-activation"
    folder.mkdir(parents=True)
    (folder / "marketo-marketo-1.csv").write_text("id,email\n1001,p1@townsend.com\n1002,p2@townsend.com\n")
    (folder / "marketo-marketo-1-requests.json").write_text(json.dumps([{"input": [{"id": 1001}, {"id": 1002}]}]))
    (folder / "linkedin-matched-audience.csv").write_text("email,firstname\nnot-a-hash-of-anyone,\n")
    done = run_cli(neo4j_connection, "erase", "--email", "P2@townsend.com", EXPORTS_DIR=str(exports))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Erased: suppression {email_hash(P2)[:12]}: 1 person, 1 web visits, relationships: "
                                  "ASSOCIATED_WITH 2, CONTACT_FOR 2, KNOWN_IN 4, VISITED 1; 4 source ids suppressed; "
                                  "0 undelivered webhook deliveries changed; "
                                  "exports: 1 lines removed from 2 files."), done.stdout
    assert "p2@" not in done.stdout.lower() and "p2@" not in done.stderr.lower()
    assert (folder / "marketo-marketo-1.csv").read_text() == "id,email\n1001,p1@townsend.com\n"
    assert json.loads((folder / "marketo-marketo-1-requests.json").read_text()) == [{"input": [{"id": 1001}]}]
    assert (folder / "linkedin-matched-audience.csv").read_text() == "email,firstname\nnot-a-hash-of-anyone,\n"
    assert await run_cypher(seeded_graph, "MATCH (p:Person {email: $e}) RETURN p", e=P2) == []
    bad = run_cli(neo4j_connection, "erase", "--email", "nobody", EXPORTS_DIR=str(exports))
    assert (bad.returncode, bad.stderr.strip()) == (2, "accountgraph: email: not an email address")


async def test_an_unreadable_export_file_is_reported_and_the_others_are_done(graph: Graph, exports: Path) -> None:
    folder = exports / "a"
    folder.mkdir(parents=True)
    (folder / "marketo-x.csv").write_text("id,email\n1,p2@townsend.com\n")
    (folder / "marketo-x-requests.json").write_text("[{not json")
    (folder / "linkedin-matched-audience.csv").write_text(f"email\n{hashlib.sha256(P2.encode()).hexdigest()}\n")
    answer = (await graphql_data(graph, ERASE, email=P2))["erasePerson"]
    assert answer["exportLines"] == 2
    assert [Path(f).name for f in answer["exportFiles"]] == ["marketo-x.csv", "linkedin-matched-audience.csv"]
    assert len(answer["exportFailures"]) == 1
    assert "marketo-x-requests.json: JSONDecodeError" in answer["exportFailures"][0]
    assert (folder / "linkedin-matched-audience.csv").read_text() == "email\n"
