"""Activation: the Townsend segment sent to Marketo 1, Marketo 2, LinkedIn and a real local webhook."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from service.activation import formats
from service.activation.activate import (
    ActivationError,
    DestinationSettings,
    activate,
    activation_file,
    add_destination,
)
from service.activation.webhook import DeliveryFailed
from service.config import get_settings
from service.database import Graph, Neo4jConnection
from service.ingest.pipeline import ingest_path
from service.limits import RetryPolicy
from service.segments.presets import audience_rule
from tests.helpers import ApiKeys, ServerThread, graphql_data, run_cypher
from tests.receiver import SECRET, Receiver

pytestmark = pytest.mark.asyncio

PAGE = "https://www.bodea.com/products/new-product"
FAST = RetryPolicy(attempts=4, first_delay=0.01)


@pytest_asyncio.fixture
async def townsend(seeded_graph: Graph, tmp_path: Path) -> tuple[Graph, str]:
    """The seed plus two more Townsend visitors in Marketo 1: p4 unsubscribed, p5 opted out of ads.
    Returns the graph and the id of the saved Townsend segment."""
    folder = tmp_path / "m1"
    folder.mkdir()
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    (folder / "people.csv").write_text("Id,Email,Unsubscribed,AdvertisingOptOut\n"
                                       "1004,p4@townsend.com,true,\n1005,p5@townsend.com,,true\n")
    (folder / "account-people.csv").write_text("AccountId,PersonId\n3001,1004\n3001,1005\n")
    (folder / "web-visits.csv").write_text(f"Id,PersonId,Url,VisitedAt\n"
                                           f"x4,1004,{PAGE},{yesterday}\nx5,1005,{PAGE},{yesterday}\n")
    await ingest_path(seeded_graph, folder, "Marketo 1")
    data = await graphql_data(seeded_graph, """mutation ($rule: RuleInput!) {
        createSegment(name: "Townsend top customers", rule: $rule) { id } }""", rule=audience_rule(1_000_000, PAGE, 30))
    return seeded_graph, data["createSegment"]["id"]


ACTIVATE = """mutation ($segment: ID!, $destination: String!) {
  activate(segmentId: $segment, destination: $destination) {
    id sent withoutConsent unknownToDestination entered left files downloads } }"""


async def file_of(graph: Graph, activation: dict[str, Any], name: str) -> bytes:
    """A file of a stored activation, as the download makes it; the copy under EXPORTS_DIR is the same."""
    assert f"/activations/{activation['id']}/files/{name}" in activation["downloads"]
    content = await activation_file(graph, activation["id"], name)
    assert content is not None
    assert (get_settings().exports_dir / activation["id"] / name).read_bytes() == content
    return content


async def test_townsend_goes_to_both_marketo_lists_and_linkedin(townsend: tuple[Graph, str]) -> None:
    graph, segment = townsend
    for name, kind, instance in (("Marketo 1 list", "MARKETO", "Marketo 1"), ("Marketo 2 list", "MARKETO", "Marketo 2"),
                                 ("LinkedIn", "LINKEDIN", None)):
        await graphql_data(graph, """mutation ($name: String!, $kind: DestinationKind!, $instance: String) {
            addDestination(name: $name, kind: $kind, instance: $instance) { name } }""", name=name, kind=kind,
            instance=instance)

    m1 = (await graphql_data(graph, ACTIVATE, segment=segment, destination="Marketo 1 list"))["activate"]
    assert (m1["sent"], m1["withoutConsent"], m1["unknownToDestination"], m1["entered"], m1["left"]) == (2, 1, 0, 2, 0)
    assert m1["files"] == ["marketo-marketo-1.csv", "marketo-marketo-1-requests.json"]
    assert await file_of(graph, m1, "marketo-marketo-1.csv") == (
        b"id,email\n1002,p2@townsend.com\n1005,p5@townsend.com\n")
    assert await file_of(graph, m1, "marketo-marketo-1-requests.json") == (
        b'[\n  {\n    "input": [\n      {\n        "id": 1002\n      },\n'
        b'      {\n        "id": 1005\n      }\n    ]\n  }\n]\n')

    m2 = (await graphql_data(graph, ACTIVATE, segment=segment, destination="Marketo 2 list"))["activate"]
    assert (m2["sent"], m2["withoutConsent"], m2["unknownToDestination"]) == (1, 0, 2)
    assert await file_of(graph, m2, m2["files"][0]) == b"id,email\n5507,p2@townsend.com\n"

    linkedin = (await graphql_data(graph, ACTIVATE, segment=segment, destination="LinkedIn"))["activate"]
    assert (linkedin["sent"], linkedin["withoutConsent"]) == (2, 1)
    content = await file_of(graph, linkedin, "linkedin-matched-audience.csv")
    hashes = [hashlib.sha256(b"p2@townsend.com").hexdigest(), hashlib.sha256(b"p4@townsend.com").hexdigest()]
    assert content == ("email,firstname,lastname,jobtitle,employeecompany,country,googleaid\n"
                       + "".join(f"{h},,,,,,\n" for h in hashes)).encode()
    assert b"@" not in content

    history = await graphql_data(graph,
                                 """query ($id: ID!) { segment(id: $id) { activations { destination sent } } }""",
                                 id=segment)
    assert sorted((a["destination"], a["sent"]) for a in history["segment"]["activations"]) == [
        ("LinkedIn", 2), ("Marketo 1 list", 2), ("Marketo 2 list", 1)]
    again = (await graphql_data(graph, ACTIVATE, segment=segment, destination="Marketo 1 list"))["activate"]
    assert (again["sent"], again["entered"], again["left"]) == (2, 0, 0)


async def test_a_company_list_for_linkedin_account_targeting(townsend: tuple[Graph, str]) -> None:
    """The companies of the segment's members (Townsend, once), in the columns of LinkedIn's company list
    template; no people are sent, so no consent applies and nothing moves SENT_TO."""
    graph, segment = townsend
    await graphql_data(graph, 'mutation { addDestination(name: "Accounts", kind: LINKEDIN_COMPANIES) { name } }')
    activation = (await graphql_data(graph, ACTIVATE, segment=segment, destination="Accounts"))["activate"]
    assert (activation["sent"], activation["withoutConsent"], activation["entered"], activation["left"],
            activation["files"]) == (1, 0, 0, 0, ["linkedin-company-list.csv"])
    assert await file_of(graph, activation, "linkedin-company-list.csv") == (
        b"companyname,companywebsite,companyemaildomain,linkedincompanypageurl,stocksymbol,industry,city,state,"
        b"companycountry,zipcode\n"
        b"Townsend,https://www.townsend.com,townsend.com,,,Automotive,,,United States,\n")
    assert await run_cypher(graph, "MATCH (:Person)-[s:SENT_TO|SENT_IN]->() RETURN count(s) AS n") == [{"n": 0}]
    assert [formats.domain_of(w) for w in ("HTTP://WWW.Example.com:8080/about", "example.org", None)] == [
        "example.com", "example.org", ""]


async def test_an_activation_file_is_downloaded_over_http_with_an_admin_key(
        townsend: tuple[Graph, str], neo4j_connection: Neo4jConnection, api_keys: ApiKeys) -> None:
    graph, segment = townsend
    await graphql_data(graph, 'mutation { addDestination(name: "M1", kind: MARKETO, instance: "Marketo 1") { name } }')
    activation = (await graphql_data(graph, ACTIVATE, segment=segment, destination="M1"))["activate"]
    [csv_path, _] = activation["downloads"]
    with ServerThread(neo4j_connection) as server:
        answers = {key: httpx.get(server.url + csv_path, headers=ApiKeys.header(key) if key else {})
                   for key in (api_keys.admin, api_keys.read, None)}
        missing = httpx.get(server.url + f"/activations/{activation['id']}/files/other.csv",
                            headers=ApiKeys.header(api_keys.admin))
    admin, read, anonymous = answers.values()
    assert admin.status_code == 200 and admin.content == b"id,email\n1002,p2@townsend.com\n1005,p5@townsend.com\n"
    assert admin.headers["content-type"] == "text/csv; charset=utf-8"
    assert admin.headers["content-disposition"] == 'attachment; filename="marketo-marketo-1.csv"'
    assert (read.status_code, anonymous.status_code, missing.status_code) == (403, 401, 404)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(failures=2)
    yield server
    server.close()


async def test_webhook_retries_signs_and_sends_only_changes(townsend: tuple[Graph, str], receiver: Receiver,
                                                            tmp_path: Path) -> None:
    graph, segment = townsend
    await add_destination(graph, DestinationSettings("Hook", "WEBHOOK", url=receiver.url, secret=SECRET))
    first = await activate(graph, segment, "Hook", tmp_path, FAST)
    assert len(receiver.requests) == 3  # two 503s, then accepted: the same batch three times
    [batch] = receiver.accepted()
    assert [m["email"] for m in batch["entered"]] == ["p2@townsend.com", "p5@townsend.com"]  # p4 unsubscribed
    assert batch["entered"][0]["ids"] == [
        {"source": "CRM 1", "id": "0031A00002"}, {"source": "CRM 2", "id": "0032B00007"},
        {"source": "Marketo 1", "id": "1002"}, {"source": "Marketo 2", "id": "5507"}]
    assert (batch["left"], batch["segment"], batch["mode"]) == ([], "Townsend top customers", "DELTA")
    assert (first["sent"], first["withoutConsent"], first["batches"]) == (2, 1, [batch["batchId"]])

    unchanged = await activate(graph, segment, "Hook", tmp_path, FAST)
    assert (unchanged["sent"], len(receiver.requests)) == (0, 3)

    removal = tmp_path / "web-visits.csv"
    removal.write_text("Id,IsDeleted\nm1-visit-0001,true\n")
    await ingest_path(graph, removal, "Marketo 1")
    await activate(graph, segment, "Hook", tmp_path, FAST)
    assert [(b["entered"], b["left"]) for b in receiver.accepted()][-1] == ([], [{"email": "p2@townsend.com"}])


async def test_a_receiver_that_stays_down_records_nothing_and_a_later_send_catches_up(
    townsend: tuple[Graph, str], tmp_path: Path,
) -> None:
    graph, segment = townsend
    down = Receiver(failures=100)
    try:
        await add_destination(graph, DestinationSettings("Hook", "WEBHOOK", url=down.url, secret=SECRET))
        with pytest.raises(DeliveryFailed, match="HTTP 503"):
            await activate(graph, segment, "Hook", tmp_path, FAST)
        assert len(down.requests) == FAST.attempts
        assert await run_cypher(graph, "MATCH ()-[s:SENT_TO]->() RETURN count(s) AS n") == [{"n": 0}]
        assert await run_cypher(graph, "MATCH (a:Activation) RETURN count(a) AS n") == [{"n": 0}]
        down.failures = 0
        retried = await activate(graph, segment, "Hook", tmp_path, FAST)
        assert retried["sent"] == 2
        ids = {json.loads(body)["batchId"] for _, body in down.requests}
        assert len(ids) == 1  # the resend after the failure carried the same batch id
    finally:
        down.close()


@pytest.mark.parametrize(("settings", "message"), [
    (DestinationSettings("M", "MARKETO"), "names its instance"),
    (DestinationSettings("W", "WEBHOOK", url="ftp://x", secret=SECRET), r"http\(s\) url"),
    (DestinationSettings("W", "WEBHOOK", url="http://127.0.0.1:9/", secret="short"), "at least 16"),
    (DestinationSettings("X", "FAX"), "kind must be one of"),
])
async def test_bad_destinations_are_refused(graph: Graph, settings: DestinationSettings, message: str) -> None:
    with pytest.raises(ActivationError, match=message):
        await add_destination(graph, settings)


async def test_the_secret_never_shows(townsend: tuple[Graph, str], receiver: Receiver) -> None:
    graph, _ = townsend
    await add_destination(graph, DestinationSettings("Hook", "WEBHOOK", url=receiver.url, secret=SECRET))
    listed = await graphql_data(graph, "{ destinations { name kind url mode } }")
    assert listed["destinations"] == [{"name": "Hook", "kind": "WEBHOOK", "url": receiver.url, "mode": "DELTA"}]
    assert SECRET not in json.dumps(listed)
    fields = await graphql_data(graph, '{ __type(name: "Destination") { fields { name } } }')
    assert "secret" not in [f["name"] for f in fields["__type"]["fields"]]


async def test_segments_sharing_a_destination_keep_their_own_deltas(townsend: tuple[Graph, str],
                                                                    tmp_path: Path) -> None:
    graph, townsend_id = townsend
    await add_destination(graph, DestinationSettings("M1", "MARKETO", instance="Marketo 1"))
    pricing = await graph_data_segment(graph, "Pricing visitors", {"visits": {"url": "https://www.bodea.com/pricing"}})
    first = await activate(graph, townsend_id, "M1", tmp_path)
    second = await activate(graph, pricing, "M1", tmp_path)
    assert (first["entered"], second["entered"], second["left"]) == (2, 1, 0)
    again = await activate(graph, townsend_id, "M1", tmp_path)
    assert (again["entered"], again["left"]) == (0, 0)
    await graphql_data(graph, "mutation ($id: ID!) { deleteSegment(id: $id) }", id=pricing)
    assert await run_cypher(graph,
                            "MATCH (a:Activation)-[:OF]->(s:Segment) RETURN count(a) AS linked") == [{"linked": 2}]
    assert await run_cypher(graph, "MATCH (a:Activation) RETURN count(a) AS all") == [{"all": 2}]
    assert await run_cypher(graph, "MATCH ()-[s:SENT_TO]->() RETURN count(s) AS sent") == [{"sent": 2}]


async def graph_data_segment(graph: Graph, name: str, rule: dict[str, Any]) -> str:
    data = await graphql_data(graph, "mutation ($name: String!, $rule: RuleInput!) { "
                                     "createSegment(name: $name, rule: $rule) { id } }",
                              name=name, rule=rule)
    return data["createSegment"]["id"]


async def test_an_account_audience_sends_its_companies_and_their_consenting_people(
        townsend: tuple[Graph, str]) -> None:
    """Townsend (won 1,100,000) is the one company over a million. Its company list is the list above; to
    Marketo 1 go the people of its companies Marketo 1 knows, with consent: p1, p2 and p5 (p4 unsubscribed;
    p3 is in CRM 2 only), where the person segment above sent only its visitors."""
    graph, _ = townsend
    audience = (await graphql_data(graph, """mutation { createSegment(name: "Big accounts", subject: COMPANY,
        rule: {opportunities: {op: GT, value: 1000000}}) { id } }"""))["createSegment"]["id"]
    await graphql_data(graph, 'mutation { addDestination(name: "Accounts", kind: LINKEDIN_COMPANIES) { name } }')
    await graphql_data(graph, 'mutation { addDestination(name: "M1", kind: MARKETO, instance: "Marketo 1") { name } }')
    companies = (await graphql_data(graph, ACTIVATE, segment=audience, destination="Accounts"))["activate"]
    assert (companies["sent"], companies["withoutConsent"]) == (1, 0)
    assert (await file_of(graph, companies, "linkedin-company-list.csv")).splitlines()[1] == (
        b"Townsend,https://www.townsend.com,townsend.com,,,Automotive,,,United States,")
    people = (await graphql_data(graph, ACTIVATE, segment=audience, destination="M1"))["activate"]
    assert (people["sent"], people["withoutConsent"], people["unknownToDestination"], people["entered"]) == (3, 1, 1, 3)
    assert await file_of(graph, people, "marketo-marketo-1.csv") == (
        b"id,email\n1001,p1@townsend.com\n1002,p2@townsend.com\n1005,p5@townsend.com\n")
