"""Link suggestions on a generated set whose hidden links are known: precision and recall.

`python -m benchmarks.suggestions [--companies 200] [--seed 15]` generates the set, loads it into a
throwaway local Neo4j through the product's import, asks for the link suggestions and prints, for
each score threshold, how many pairs of companies were suggested, how many of them are truly one
company (precision) and how many of the truly-one pairs were found (recall).

The set: `companies` true companies, each recorded as 1 to 3 accounts in different CRMs, with the
variations sources have: the legal suffix and capitals of the name (`Velorix`, `VELORIX INC.`,
`Velorix, LLC`), the form of the website (`https://www.velorix.com`, `velorix.com/contact`, none), and
contacts at the company's email domain or at a free-mail one. MDM links some of each company's
accounts (30% of the links); the rest are the hidden links. Noise: accounts named with one of a
few generic names shared by different companies, a name changed on one account (then only the
website or the people say it), websites on a social network, contractors of one company with an
email at another's domain, and accounts with no evidence at all.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import tempfile
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from pydantic import SecretStr

from benchmarks.ingest import PASSWORD, throwaway_neo4j
from service.database import Graph, Neo4jConnection
from service.ingest.pipeline import ingest_path
from service.queries import Mode
from service.stewardship.suggestions import suggestions

SOURCES = ("CRM 1", "CRM 2", "CRM 3")
FIRST = ("Vel", "Nor", "Tri", "Quan", "Ast", "Bel", "Cor", "Dyn", "Eon", "Fal", "Gal", "Hex", "Ion", "Jun", "Kel",
         "Lum", "Mer", "Nov", "Orb", "Pax", "Rho", "Sil", "Tor", "Ulm", "Vex", "Wyn", "Xan", "Yor", "Zan", "Cal")
MIDDLE = ("", "a", "e", "i", "o", "u", "ar", "en", "is", "or")
LAST = ("tek", "ora", "dex", "ium", "ex", "ova", "ar", "on", "is", "yx", "ix", "ant", "ell", "ico", "umi")
TLDS = ("com", "com", "com", "io", "de", "co.uk", "net")
SUFFIXES = ("", "", " Inc", " Inc.", ", LLC", " Ltd", " Ltd.", " GmbH", " Corp", " Corp.", " Co.", " Limited")
GENERIC = ("Global Solutions", "Premier Services", "Summit Group", "First National", "United Consulting",
           "Digital Partners")
FREE_MAIL = ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com")
THRESHOLDS = (0.5, 0.6, 0.8)
AccountKey = tuple[str, str]


@dataclass
class GeneratedSet:
    """What was written, and the truth: each account's true company."""

    truth: dict[AccountKey, int] = field(default_factory=dict)
    mdm_links: int = 0
    hidden_pairs: int = 0  # filled in by measure: pairs of graph companies that are one true company


@dataclass(frozen=True)
class Figures:
    threshold: float
    suggested: int
    correct: int
    hidden: int

    @property
    def precision(self) -> float:
        return self.correct / self.suggested if self.suggested else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.hidden if self.hidden else 1.0

    def __str__(self) -> str:
        return (f"score >= {self.threshold:.1f}: {self.suggested} suggested, {self.correct} correct of {self.hidden} "
                f"hidden: precision {self.precision:.3f}, recall {self.recall:.3f}")


def _brands(rng: random.Random, count: int) -> list[str]:
    brands: list[str] = []
    while len(brands) < count:
        brand = rng.choice(FIRST) + rng.choice(MIDDLE) + rng.choice(LAST)
        if brand not in brands:
            brands.append(brand)
    return brands


def _website(rng: random.Random, domain: str, brand: str) -> str:
    form = rng.random()
    if form < 0.3:
        return ""
    if form < 0.35:
        return f"https://www.linkedin.com/company/{brand.lower()}"
    return rng.choice((f"https://www.{domain}", domain, f"http://{domain}/contact", f"WWW.{domain.upper()}",
                       f"https://{domain}/"))


def generate(folder: Path, companies: int = 200, seed: int = 15) -> GeneratedSet:
    """Write one export folder per CRM and MDM's same-company.csv under `folder`; return the truth."""
    rng = random.Random(seed)
    brands = _brands(rng, companies)
    generated = GeneratedSet()
    tables: dict[str, dict[str, list[list[str]]]] = {
        s: {"accounts": [], "people": [], "account-people": []} for s in SOURCES}
    mdm: list[list[str]] = []
    domains = [f"{b.lower()}.{rng.choice(TLDS)}" for b in brands]
    person = 0
    for index, brand in enumerate(brands):
        sources = rng.sample(SOURCES, rng.choice((1, 2, 2, 3)))
        renamed = rng.random() < 0.1  # one account of the company under another name
        keys: list[AccountKey] = []
        for position, source in enumerate(sources):
            key = f"{source[-1]}{index:04d}"
            name = brand + rng.choice(SUFFIXES)
            if rng.random() < 0.2:
                name = name.upper()
            if renamed and position == len(sources) - 1 and position > 0:
                name = f"{rng.choice(FIRST)}{rng.choice(LAST)} Holdings"
            if rng.random() < 0.06:
                name = rng.choice(GENERIC)  # the account recorded under a generic name
            tables[source]["accounts"].append([key, name, _website(rng, domains[index], brand)])
            for _ in range(rng.choice((0, 1, 1, 2, 3))):
                person += 1
                if rng.random() < 0.7:
                    domain = domains[index]
                elif rng.random() < 0.1:
                    domain = domains[rng.randrange(companies)]  # a contractor, at another company's domain
                else:
                    domain = rng.choice(FREE_MAIL)
                email = f"person{person}@{domain}"
                tables[source]["people"].append([f"P{person}", email])
                tables[source]["account-people"].append([key, f"P{person}"])
            keys.append((source, key))
            generated.truth[(source, key)] = index
        for a, b in zip(keys, keys[1:], strict=False):
            if rng.random() < 0.3:
                mdm.append([f"M{len(mdm) + 1}", a[0], a[1], b[0], b[1]])
    headers = {"accounts": ["Id", "Name", "Website"], "people": ["Id", "Email"],
               "account-people": ["AccountId", "PersonId"]}
    for source, kinds in tables.items():
        out = folder / source.replace(" ", "-").lower()
        out.mkdir(parents=True, exist_ok=True)
        for kind, rows in kinds.items():
            _write(out / f"{kind}.csv", headers[kind], rows)
    _write(folder / "mdm" / "same-company.csv", ["LinkId", "SourceA", "AccountIdA", "SourceB", "AccountIdB"], mdm)
    generated.mdm_links = len(mdm)
    return generated


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


async def load(graph: Graph, folder: Path) -> None:
    """The generated exports through the product's import: each CRM, then MDM."""
    for source in SOURCES:
        await ingest_path(graph, folder / source.replace(" ", "-").lower(), source)
    await ingest_path(graph, folder / "mdm", mdm=True)


async def measure(graph: Graph, generated: GeneratedSet, thresholds: tuple[float, ...] = THRESHOLDS) -> list[Figures]:
    """Precision and recall of the suggestions at each threshold, by pairs of graph companies: a pair is
    hidden (to be found) when its two companies hold accounts of one true company."""
    rows = await graph.run_adhoc("MATCH (a:Account)-[:PART_OF]->(c:Company) RETURN c.id AS company, "
                                 "a.source AS source, a.sourceKey AS sourceKey", Mode.READ)
    true_of: dict[str, int] = {}
    for row in rows:
        true_of[row["company"]] = generated.truth[(row["source"], row["sourceKey"])]  # MDM links only true pairs
    by_truth: dict[int, list[str]] = {}
    for company, truth in true_of.items():
        by_truth.setdefault(truth, []).append(company)
    hidden = {frozenset(pair) for group in by_truth.values() for pair in combinations(group, 2)}
    generated.hidden_pairs = len(hidden)
    figures = []
    for threshold in thresholds:
        found = await suggestions(graph, 500, threshold)
        pairs = {frozenset(c["id"] for c in s.companies) for s in found}
        figures.append(Figures(threshold, len(pairs), len(pairs & hidden), len(hidden)))
    return figures


async def _run(uri: str, companies: int, seed: int) -> None:
    graph = Graph(Neo4jConnection(uri, "neo4j", SecretStr(PASSWORD), "neo4j"))
    try:
        await graph.migrate()
        with tempfile.TemporaryDirectory(prefix="accountgraph-suggestions-") as folder:
            generated = generate(Path(folder), companies, seed)
            await load(graph, Path(folder))
        figures = await measure(graph, generated)
        print(f"{companies} companies, {len(generated.truth)} accounts, {generated.mdm_links} MDM links, "
              f"{generated.hidden_pairs} hidden pairs of companies (seed {seed})")
        for figure in figures:
            print(figure)
    finally:
        await graph.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.suggestions", description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--seed", type=int, default=15)
    arguments = parser.parse_args()
    with throwaway_neo4j(heap="1g", pagecache="256m") as server:
        asyncio.run(_run(server.uri, arguments.companies, arguments.seed))


if __name__ == "__main__":
    main()
