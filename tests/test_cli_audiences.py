"""The Townsend campaign from the command line: save the segment, add destinations, activate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.database import Graph, Neo4jConnection
from service.segments.presets import audience_rule
from tests.helpers import run_cli

PAGE = "https://www.bodea.com/products/new-product"


@pytest.mark.asyncio
async def test_save_preview_evaluate_and_activate(seeded_graph: Graph, neo4j_connection: Neo4jConnection,
                                                  tmp_path: Path) -> None:
    rule = tmp_path / "townsend.json"
    rule.write_text(json.dumps(audience_rule(1_000_000, PAGE, 30)))
    exports = {"EXPORTS_DIR": str(tmp_path / "exports")}

    def cli(*arguments: str) -> str:
        done = run_cli(neo4j_connection, *arguments, **exports)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "1 people; first 1:\n  p2@townsend.com" in cli("segment", "preview", "--rule", str(rule))
    assert "Saved segment 'Townsend top customers'" in cli("segment", "save", "--name", "Townsend top customers",
                                                           "--rule", str(rule))
    assert "1 members, 1 entered, 0 left" in cli("segment", "evaluate", "Townsend top customers")
    cli("destination", "add", "--name", "Marketo 1", "--kind", "MARKETO", "--instance", "Marketo 1")
    activated = cli("activate", "--segment", "Townsend top customers", "--destination", "Marketo 1")
    assert "1 sent, 0 without consent, 0 unknown there, 1 entered, 0 left" in activated
    [csv_path] = [line.strip() for line in activated.splitlines() if line.strip().endswith(".csv")]
    assert Path(csv_path).read_text() == "id,email\n1002,p2@townsend.com\n"

    bad = run_cli(neo4j_connection, "activate", "--segment", "No such segment", "--destination", "Marketo 1")
    assert bad.returncode == 2 and "no saved segment with id or name 'No such segment'" in bad.stderr
    rule.write_text('{"visits": {"url": "x", "withinDays": 0}}')
    bad = run_cli(neo4j_connection, "segment", "preview", "--rule", str(rule))
    assert bad.returncode == 2 and "visits.withinDays: must be a whole number" in bad.stderr


@pytest.mark.asyncio
async def test_an_account_audience_from_the_command_line(seeded_graph: Graph, neo4j_connection: Neo4jConnection,
                                                         tmp_path: Path) -> None:
    rule = tmp_path / "big.json"
    rule.write_text(json.dumps({"opportunities": {"op": "GT", "value": 1_000_000}}))

    def cli(*arguments: str) -> str:
        done = run_cli(neo4j_connection, *arguments)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "1 companies; first 1:\n  CRM 1/0011A00001" in cli("segment", "preview", "--rule", str(rule),
                                                              "--subject", "COMPANY")
    assert "Saved account audience 'Big accounts'" in cli("segment", "save", "--name", "Big accounts",
                                                          "--rule", str(rule), "--subject", "COMPANY")
    assert "1 members, 1 entered, 0 left" in cli("segment", "evaluate", "Big accounts")
    bad = run_cli(neo4j_connection, "segment", "preview", "--rule", str(rule), "--subject", "PERSON")
    assert bad.returncode == 0  # opportunities is a condition on a person too (their companies')
    rule.write_text('{"people": {"minCount": 2}}')
    bad = run_cli(neo4j_connection, "segment", "preview", "--rule", str(rule))
    assert bad.returncode == 2 and "people: is not a condition on a person" in bad.stderr
