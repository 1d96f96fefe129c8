"""The synthetic generator: deterministic, counted right, with synced copies (CRM -> Marketo), and
ingested into a graph whose audience answer matches one computed independently from the generated
CSV files alone, each copy and its original counted once with the system of record's values."""

from __future__ import annotations

import csv
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from benchmarks.generate import MANIFEST, NEW_PRODUCT_PAGE, GenerationSummary, generate
from service.database import Graph
from service.ingest.pipeline import ingest_path
from tests.helpers import AccountKey, Companies, graphql_data, run_cypher

PEOPLE = 10_000
SEED = 20_261_101
WITHIN_DAYS = 30
COMPANY_TOTALS = """
MATCH (c:Company)
CALL (c) {
  OPTIONAL MATCH (c)<-[:PART_OF]-(:Account)-[:HAS_OPPORTUNITY]->(o:Opportunity) WHERE o.isWon
  WITH DISTINCT o
  RETURN coalesce(sum(o.amount), 0.0) AS won
}
RETURN c.id AS id, won"""
AUDIENCE = """
query ($min: Float!, $page: String!, $days: Int!) {
  audience(minCompanyWonAmount: $min, visitedPage: $page, withinDays: $days) {
    count
    people { email companyWonTotal }
  }
}"""


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    """10k people as of today (UTC): ingest keeps timestamps as given, so "last 30 days" is real time."""
    out = tmp_path_factory.mktemp("generated")
    return out, generate(out, PEOPLE, seed=SEED, as_of=datetime.now(UTC).date())


def csv_rows_raw(path: Path) -> list[dict[str, str]]:
    """The cells as written (the sources' stray spaces and capitals kept)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def csv_rows(path: Path) -> list[dict[str, str]]:
    """The cells trimmed, as the import reads them."""
    return [{k: v.strip() for k, v in row.items()} for row in csv_rows_raw(path)]


def identity(source: str, row: dict[str, str]) -> AccountKey:
    """A record's identity: its original's (source, Id) for a synced copy, else its own."""
    return (row["SyncedFromSource"], row["SyncedFromId"]) if row["SyncedFromSource"] else (source, row["Id"])


@dataclass
class FromFiles:
    """Everything the audience needs, read from the export with the csv module only."""

    companies: Companies = field(default_factory=Companies)
    won: dict[AccountKey, float] = field(default_factory=lambda: defaultdict(float))  # account record -> won
    accounts_of: dict[str, set[AccountKey]] = field(default_factory=lambda: defaultdict(set))  # -> account records
    page_visits: dict[str, list[datetime]] = field(default_factory=lambda: defaultdict(list))  # email -> times

    def company_totals(self) -> dict[AccountKey, float]:
        totals: dict[AccountKey, float] = defaultdict(float)
        for account, amount in self.won.items():
            totals[self.companies.find(account)] += amount
        return totals

    def totals_by_company_id(self) -> dict[str, float]:
        """Every company's closed-won total, by the id the graph gives it (its smallest 'source/Id')."""
        names: dict[AccountKey, list[str]] = defaultdict(list)
        for account in self.companies.parent:
            names[self.companies.find(account)].append(f"{account[0]}/{account[1]}")
        totals = self.company_totals()
        return {min(ids): totals.get(root, 0.0) for root, ids in names.items()}

    def visitors(self, cutoff: datetime) -> set[str]:
        return {email for email, times in self.page_visits.items() if any(t >= cutoff for t in times)}

    def audience(self, minimum: float, cutoff: datetime) -> dict[str, float]:
        """email -> company closed-won total, as the product's rule defines it."""
        totals = self.company_totals()
        answer: dict[str, float] = {}
        for email in self.visitors(cutoff):
            passing = [totals[self.companies.find(a)] for a in self.accounts_of[email]
                       if totals[self.companies.find(a)] > minimum]
            if passing:
                answer[email] = max(passing)
        return answer


def read_export(root: Path, page: str) -> FromFiles:
    """A copy and its original are one record (identity()); an opportunity's stage, amount and account
    are its system of record's (the identity's source) when that source exported it, else a copy's."""
    manifest = tomllib.loads((root / MANIFEST).read_text())
    data = FromFiles()
    account_record: dict[AccountKey, AccountKey] = {}  # (source, Id) of every account row -> its record
    opportunity_rows: dict[AccountKey, list[tuple[str, dict[str, str]]]] = defaultdict(list)  # record -> rows
    for source in manifest["sources"]:
        name, folder = source["name"], root / source["folder"]
        email_of = {row["Id"]: row["Email"].lower() for row in csv_rows(folder / "people.csv")}
        for row in csv_rows(folder / "accounts.csv"):
            account_record[(name, row["Id"])] = identity(name, row)
            data.companies.add(identity(name, row))
        for row in csv_rows(folder / "opportunities.csv"):
            opportunity_rows[identity(name, row)].append((name, row))
        for row in csv_rows(folder / "account-people.csv"):
            data.accounts_of[email_of[row["PersonId"]]].add(account_record[(name, row["AccountId"])])
        if (folder / "web-visits.csv").exists():
            for row in csv_rows(folder / "web-visits.csv"):
                if row["Url"] == page:
                    data.page_visits[email_of[row["PersonId"]]].append(datetime.fromisoformat(row["VisitedAt"]))
    for record, rows in opportunity_rows.items():  # each opportunity record once
        name, row = next(((n, r) for n, r in rows if (n, r["Id"]) == record), min(rows, key=lambda nr: nr[0]))
        if row["StageName"] == "Closed Won":
            data.won[account_record[(name, row["AccountId"])]] += float(row["Amount"])
    for row in csv_rows(root / manifest["mdm"]["folder"] / "same-company.csv"):
        data.companies.union(account_record[(row["SourceA"], row["AccountIdA"])],
                             account_record[(row["SourceB"], row["AccountIdB"])])
    return data


def threshold_between(totals: list[float]) -> float:
    """Halfway between the two distinct totals around the median: no total sits on the threshold."""
    distinct = sorted(set(totals))
    middle = max(1, len(distinct) // 2)
    return (distinct[middle - 1] + distinct[middle]) / 2


def emails_of_all_people(root: Path) -> set[str]:
    return {row["Email"].lower() for people in root.glob("*/people.csv") for row in csv_rows(people)}


async def ingest_export(graph: Graph, root: Path) -> dict[str, int]:
    """Every source folder, then MDM, through the product's import; rows per folder."""
    manifest = tomllib.loads((root / MANIFEST).read_text())
    rows = {}
    for source in manifest["sources"]:
        rows[source["folder"]] = (await ingest_path(graph, root / source["folder"], source["name"])).rows
    rows[manifest["mdm"]["folder"]] = (await ingest_path(graph, root / manifest["mdm"]["folder"], mdm=True)).rows
    return rows


def tree(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def test_the_same_arguments_give_byte_identical_files(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", 3_000, seed=7, as_of=date(2026, 11, 1))
    second = generate(tmp_path / "b", 3_000, seed=7, as_of=date(2026, 11, 1))
    other = generate(tmp_path / "c", 3_000, seed=8, as_of=date(2026, 11, 1))
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    assert first.rows == second.rows
    assert tree(tmp_path / "a") != tree(tmp_path / "c")
    assert other.rows != first.rows


def test_the_summary_counts_the_rows_of_every_file(export: tuple[Path, GenerationSummary]) -> None:
    root, summary = export
    files = {str(path.relative_to(root)) for path in root.rglob("*.csv")}
    assert files == set(summary.rows)
    for path, rows in summary.rows.items():
        assert len(csv_rows(root / path)) == rows, path
    assert summary.accounts == PEOPLE // 10
    assert summary.rows_of("accounts") == summary.accounts + summary.copies["accounts"]
    originals = summary.rows_of("opportunities") - summary.copies["opportunities"]
    assert 0.25 * PEOPLE < originals < 0.35 * PEOPLE
    assert 4 * PEOPLE < summary.rows_of("web-visits") < 6 * PEOPLE
    assert len(emails_of_all_people(root)) == PEOPLE


def test_the_shape_is_what_the_audience_needs(export: tuple[Path, GenerationSummary]) -> None:
    root, _ = export
    stages = {row["StageName"] for opportunities in root.glob("*/opportunities.csv") for row in csv_rows(opportunities)}
    assert {"Closed Won", "Closed Lost", "Prospecting", "Negotiation/Review"} <= stages
    links = csv_rows(root / "mdm" / "same-company.csv")
    ends = Counter([(row["SourceA"], row["AccountIdA"]) for row in links]
                   + [(row["SourceB"], row["AccountIdB"]) for row in links])
    assert max(ends.values()) == 2, "chains (A-B, B-C), never stars; some of three or more accounts"
    written = [row["Email"] for people in root.glob("*/people.csv") for row in csv_rows_raw(people)]
    assert any(email != email.strip().lower() for email in written), "some sources write emails their own way"
    assert not list(root.glob("crm-*/web-visits.csv")), "web visits are in the Marketo sources only"


def test_a_share_of_each_crm_is_synced_into_its_marketo_instance(export: tuple[Path, GenerationSummary]) -> None:
    root, summary = export
    for marketo, crm in (("marketo-1", "crm-1"), ("marketo-2", "crm-2")):
        crm_name = "CRM " + crm[-1]
        originals = {kind: {row["Id"]: row for row in csv_rows(root / crm / f"{kind}.csv")}
                     for kind in ("accounts", "opportunities", "people")}
        copies = {kind: [row for row in csv_rows(root / marketo / f"{kind}.csv") if row["SyncedFromSource"]]
                  for kind in ("accounts", "opportunities", "people")}
        assert all(row["SyncedFromSource"] == crm_name for rows in copies.values() for row in rows), marketo
        assert all(row["SyncedFromId"] in originals[kind] for kind, rows in copies.items() for row in rows)
        assert all(not row["SyncedFromSource"] for kind in originals for row in originals[kind].values())
        copied_accounts = {row["SyncedFromId"]: row["Id"] for row in copies["accounts"]}
        assert 0.2 < len(copied_accounts) / len(originals["accounts"]) < 0.4
        for row in copies["accounts"]:
            assert {k: v for k, v in row.items() if k not in ("Id", "SyncedFromSource", "SyncedFromId")} == {
                k: v for k, v in originals["accounts"][row["SyncedFromId"]].items()
                if k not in ("Id", "SyncedFromSource", "SyncedFromId")}
        # every deal of a copied account is copied, on the Marketo copy of its account
        expected = {(row["Id"], copied_accounts[row["AccountId"]]) for row in originals["opportunities"].values()
                    if row["AccountId"] in copied_accounts}
        assert {(row["SyncedFromId"], row["AccountId"]) for row in copies["opportunities"]} == expected
        stale = [row for row in copies["opportunities"]
                 if (row["Amount"], row["StageName"]) != (originals["opportunities"][row["SyncedFromId"]]["Amount"],
                                                          originals["opportunities"][row["SyncedFromId"]]["StageName"])]
        assert 0.05 < len(stale) / len(copies["opportunities"]) < 0.3, "some copies are stale"
        assert any(originals["opportunities"][row["SyncedFromId"]]["StageName"] != row["StageName"] == "Closed Won"
                   for row in stale), "a copy won that its CRM did not: counting the copy would be wrong"
        email = {row["Id"]: row["Email"].lower() for row in csv_rows(root / marketo / "people.csv")}
        assert all(email[row["Id"]] == originals["people"][row["SyncedFromId"]]["Email"].lower()
                   for row in copies["people"])
    links = csv_rows(root / "mdm" / "same-company.csv")
    copy_ids = {row["Id"] for path in root.glob("marketo-*/accounts.csv") for row in csv_rows(path)
                if row["SyncedFromSource"]}
    assert not copy_ids & {row[end] for row in links for end in ("AccountIdA", "AccountIdB")}, "MDM links originals"
    assert summary.copies["accounts"] == len(copy_ids)


@pytest.mark.asyncio
async def test_the_graph_answers_the_audience_computed_from_the_files(
        graph: Graph, export: tuple[Path, GenerationSummary]) -> None:
    root, summary = export
    rows = await ingest_export(graph, root)
    for folder, count in rows.items():
        assert count == sum(n for path, n in summary.rows.items() if path.startswith(f"{folder}/")), folder

    files = read_export(root, NEW_PRODUCT_PAGE)
    [counts] = await run_cypher(graph, """
        RETURN COUNT { (:Person) } AS people, COUNT { (:Account) } AS accounts, COUNT { (:Company) } AS companies""")
    assert counts == {"people": PEOPLE, "accounts": summary.accounts, "companies": len(files.companies.roots())}
    # every company's total: each copy counted once with its CRM's amount and stage (some copies are stale)
    graph_totals = {row["id"]: row["won"] for row in await run_cypher(graph, COMPANY_TOTALS)}
    assert graph_totals == pytest.approx(files.totals_by_company_id(), abs=0.01)

    totals = files.company_totals()
    visitors = files.visitors(datetime.now(UTC) - timedelta(days=WITHIN_DAYS))
    minimum = threshold_between([totals[files.companies.find(a)]
                                 for email in visitors for a in files.accounts_of[email]])

    before = datetime.now(UTC)
    answer = (await graphql_data(graph, AUDIENCE, min=minimum, page=NEW_PRODUCT_PAGE, days=WITHIN_DAYS))["audience"]
    after = datetime.now(UTC)
    expected = files.audience(minimum, before - timedelta(days=WITHIN_DAYS))
    assert expected == files.audience(minimum, after - timedelta(days=WITHIN_DAYS)), "a visit at the cut-off"

    assert 0 < len(expected) < len(visitors)
    assert answer["count"] == len(expected)
    assert sorted(row["email"] for row in answer["people"]) == sorted(expected)
    for row in answer["people"]:
        assert row["companyWonTotal"] == pytest.approx(expected[row["email"]], abs=0.01), row["email"]
