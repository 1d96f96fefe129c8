"""The opportunity figures each company holds: kept by every write, checked and repaired by verify."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.database import Graph, Neo4jConnection
from service.ingest import figures
from service.ingest.pipeline import ingest_path
from tests.helpers import run_cli, run_cypher, wipe
from tests.hypothesis_settings import FEW

pytestmark = pytest.mark.asyncio

TOWNSEND = "CRM 1/0011A00001"
ACCOUNTS = ("A", "B", "C")
STAGES = ("Closed Won", "Closed Lost", "Prospecting")


async def held(graph: Graph, company: str) -> dict[str, Any]:
    [row] = await run_cypher(graph, "MATCH (c:Company {id: $id}) RETURN c {.*} AS c", id=company)
    return {k: v for k, v in row["c"].items() if k != "id"}


async def test_the_seed_company_holds_its_figures(seeded_graph: Graph) -> None:
    assert await held(seeded_graph, TOWNSEND) == {
        "wonSum": 1_100_000.0, "wonCount": 2, "wonMax": 900_000.0,
        "lostSum": 0.0, "lostCount": 0,  # no lost deal: no maximum
        "openSum": 300_000.0, "openCount": 1, "openMax": 300_000.0,
        "anySum": 1_400_000.0, "anyCount": 3, "anyMax": 900_000.0}
    assert await figures.verify(seeded_graph) == []


async def test_verify_reports_each_drift_and_repair_recomputes(seeded_graph: Graph) -> None:
    await run_cypher(seeded_graph, "MATCH (c:Company {id: $id}) SET c.wonSum = 5.0, c.openCount = 7", id=TOWNSEND)
    drifts = await figures.verify(seeded_graph)
    assert [str(d) for d in drifts] == [f"{TOWNSEND}: openCount held 7, computed 1",
                                        f"{TOWNSEND}: wonSum held 5.0, computed 1100000.0"]
    assert (await held(seeded_graph, TOWNSEND))["wonSum"] == 5.0  # verify alone writes nothing
    assert len(await figures.verify(seeded_graph, repair=True)) == 2
    assert (await held(seeded_graph, TOWNSEND))["wonSum"] == 1_100_000.0
    assert await figures.verify(seeded_graph) == []


async def test_the_verify_command_exits_1_on_drift_and_repairs(seeded_graph: Graph,
                                                               neo4j_connection: Neo4jConnection) -> None:
    await run_cypher(seeded_graph, "MATCH (c:Company {id: $id}) SET c.wonMax = 1.0", id=TOWNSEND)
    found = run_cli(neo4j_connection, "verify")
    assert found.returncode == 1, found.stderr
    assert f"Drift: {TOWNSEND}: wonMax held 1.0, computed 900000.0" in found.stdout
    repaired = run_cli(neo4j_connection, "verify", "--repair")
    assert repaired.returncode == 0 and "Repaired the figures of 1 companies." in repaired.stdout
    clean = run_cli(neo4j_connection, "verify")
    assert clean.returncode == 0 and "every company's figures match its deals" in clean.stdout


async def test_a_graph_written_before_the_figures_gets_them_at_start_up(seeded_graph: Graph) -> None:
    await run_cypher(seeded_graph, "MATCH (c:Company) REMOVE c.wonSum, c.anyCount")
    await seeded_graph.migrate()
    assert (await held(seeded_graph, TOWNSEND))["wonSum"] == 1_100_000.0
    assert await figures.verify(seeded_graph) == []


steps = st.one_of(
    st.tuples(st.just("deal"), st.integers(1, 4), st.sampled_from(ACCOUNTS), st.integers(0, 9),
              st.sampled_from(STAGES)),
    st.tuples(st.just("delete deal"), st.integers(1, 4), st.just(""), st.just(0), st.just("")),
    st.tuples(st.just("link"), st.sampled_from(ACCOUNTS), st.sampled_from(ACCOUNTS), st.just(0), st.just("")),
    st.tuples(st.just("unlink"), st.sampled_from(ACCOUNTS), st.sampled_from(ACCOUNTS), st.just(0), st.just("")),
    st.tuples(st.just("delete account"), st.sampled_from(ACCOUNTS), st.just(""), st.just(0), st.just("")),
)


@FEW
@given(sequence=st.lists(steps, min_size=1, max_size=8))
async def test_after_any_sequence_of_writes_the_figures_are_what_the_deals_add_up_to(
        graph: Graph, tmp_path_factory: pytest.TempPathFactory, sequence: list[tuple[str, Any, Any, int, str]]) -> None:
    """Deals added, changed (amount, stage, account) and deleted; accounts linked, unlinked and
    deleted: after every step, no company holds a figure its deals do not add up to."""
    await wipe(graph)
    root = tmp_path_factory.mktemp("figures")

    async def write(name: str, text: str, mdm: bool = False) -> None:
        folder = root / f"step-{len(list(root.iterdir()))}"
        folder.mkdir()
        (folder / name).write_text(text, encoding="utf-8")
        await ingest_path(graph, folder, None if mdm else "CRM 1", mdm=mdm)

    await write("accounts.csv", "Id,Name\n" + "".join(f"{a},{a}\n" for a in ACCOUNTS))
    for kind, first, second, amount, stage in sequence:
        if kind == "deal":
            await write("accounts.csv", f"Id,Name\n{second},{second}\n")  # (again, if it was deleted)
            await write("opportunities.csv", "Id,AccountId,Name,Amount,StageName,CloseDate\n"
                                             f"O{first},{second},Deal,{amount},{stage},2026-05-01\n")
        elif kind == "delete deal":
            await write("opportunities.csv", f"Id,IsDeleted\nO{first},true\n")
        elif kind in ("link", "unlink") and first != second:
            link = "-".join(sorted((first, second)))
            if kind == "link":
                await write("accounts.csv", f"Id,Name\n{first},{first}\n{second},{second}\n")
                await write("same-company.csv", "LinkId,SourceA,AccountIdA,SourceB,AccountIdB\n"
                                                f"{link},CRM 1,{first},CRM 1,{second}\n", mdm=True)
            else:
                await write("same-company.csv", f"LinkId,IsDeleted\n{link},true\n", mdm=True)
        elif kind == "delete account":
            await write("accounts.csv", f"Id,IsDeleted\n{first},true\n")
        assert await figures.verify(graph) == [], f"after {kind} {first} {second} in {sequence}"
    companies = await run_cypher(graph, "MATCH (c:Company) RETURN c.anyCount AS n")
    assert all(company["n"] is not None for company in companies)

