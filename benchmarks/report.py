"""docs/benchmarks/README.md and its plots, from the results-<scale>.json files of benchmarks/suite.py.

    python -m benchmarks.report
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

from service.config import PROJECT_ROOT  # noqa: E402

RESULTS = PROJECT_ROOT / "docs" / "benchmarks"
ORDER = ("S", "M", "L")
OPERATIONS = {"person": "person lookup", "members_first_100": "first 100 members of a saved segment",
              "audience_count": "audience count"}
SERVERS = {"accountgraph": "accountgraph", "neo4j_graphql": "@neo4j/graphql"}


def load_results() -> list[dict[str, Any]]:
    found = [RESULTS / f"results-{name}.json" for name in ORDER]
    return [json.loads(path.read_text()) for path in found if path.exists()]


def _s(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 10 else f"{value:,.1f}"


def _ratio(slow: float, fast: float) -> str:
    return f"{slow / fast:,.1f}x" if fast else "-"


def scale_table(results: list[dict[str, Any]]) -> list[str]:
    lines = ["| scale | commit | people | rows imported | ingest s | rows/s | nodes+rels/s | members | cold s | "
             "warm p50 s | warm p95 s | count warm p50 s | explained members warm p50 s | naive s (queries) | "
             "naive / warm | PostgreSQL cold s | PostgreSQL warm p50 s | "
             "PostgreSQL / warm | PostgreSQL load s |",
             "|---" * 19 + "|"]
    for r in results:
        ingest, audience, naive, pg = r["ingest"], r["audience"], r["naive"], r["postgres"]
        warm = audience["warm"]["p50_s"]
        lines.append(
            f"| {r['scale']} | {r.get('commit', '-')} | {r['people']:,} | {ingest['rows']:,} | "
            f"{_s(ingest['seconds'])} | {ingest['rows_per_second']:,} | "
            f"{ingest['elements_per_second']:,} | {audience['members']:,} | {_s(audience['cold_s'])} | {_s(warm)} | "
            f"{_s(audience['warm']['p95_s'])} | {_s(audience['count_warm']['p50_s'])} | "
            f"{_s(audience['explained_members_warm']['p50_s'])} | "
            f"{_s(naive['p50_s'])} ({naive['queries']:,}) | {_ratio(naive['p50_s'], warm)} | {_s(pg['cold_s'])} | "
            f"{_s(pg['warm']['p50_s'])} | {_ratio(pg['warm']['p50_s'], warm)} | {_s(pg['load']['seconds']['total'])} |")
    return lines


def graphql_table(results: list[dict[str, Any]]) -> list[str]:
    lines = ["| scale | operation | server | p50 ms | p95 ms | p99 ms | requests/s | requests | errors |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        for operation, label in OPERATIONS.items():
            for server, name in SERVERS.items():
                f = r["graphql"]["operations"][operation][server]
                lines.append(f"| {r['scale']} | {label} | {name} | {f['p50_ms']} | {f['p95_ms']} | {f['p99_ms']} | "
                             f"{f['requests_per_second']} | {f['requests']:,} | {f['errors']} |")
    return lines


def goals(r: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(goal, measured, met) for the issue's goals, at the scale of `r`."""
    audience, ops = r["audience"], r["graphql"]["operations"]
    warm = audience["warm"]["p50_s"]
    naive_ratio = r["naive"]["p50_s"] / warm
    pg_ratio = r["postgres"]["warm"]["p50_s"] / warm

    def op(name: str, server: str, key: str) -> float:
        return ops[name][server][key]

    def no_worse(name: str) -> tuple[str, str, bool]:
        ours, theirs = op(name, "accountgraph", "p99_ms"), op(name, "neo4j_graphql", "p99_ms")
        ours_rps, theirs_rps = (op(name, "accountgraph", "requests_per_second"),
                                op(name, "neo4j_graphql", "requests_per_second"))
        return (f"{OPERATIONS[name]}: no worse than @neo4j/graphql (p99, requests/s)",
                f"p99 {ours} vs {theirs} ms, {ours_rps} vs {theirs_rps} req/s",
                ours <= theirs and ours_rps >= theirs_rps)

    return [
        ("ingest >= 25,000 nodes+relationships/s", f"{r['ingest']['elements_per_second']:,}/s",
         r["ingest"]["elements_per_second"] >= 25_000),
        ("audience warm p50 <= 2 s", f"{warm:.3f} s", warm <= 2),
        ("audience cold <= 10 s", f"{audience['cold_s']:.3f} s", audience["cold_s"] <= 10),
        (">= 50x faster than naive", f"{naive_ratio:,.1f}x", naive_ratio >= 50),
        ("at least on par with PostgreSQL (warm p50)",
         f"{pg_ratio:,.2f}x (PostgreSQL {r['postgres']['warm']['p50_s']:.3f} s)",
         pg_ratio >= 1),
        ("person lookup p99 <= 20 ms", f"{op('person', 'accountgraph', 'p99_ms')} ms",
         op("person", "accountgraph", "p99_ms") <= 20),
        ("first 100 members p99 <= 150 ms", f"{op('members_first_100', 'accountgraph', 'p99_ms')} ms",
         op("members_first_100", "accountgraph", "p99_ms") <= 150),
        *(no_worse(name) for name in OPERATIONS),
    ]


def plan_table(r: dict[str, Any]) -> list[str]:
    """The evaluation's PROFILE (the count query: the rule's anchor and predicate) as Neo4j ran it."""
    profile = r["audience"]["profile_of_count"]
    lines = [f"Total {profile['db_hits']:,} db hits at scale {r['scale']}.", "",
             "| operator | rows | db hits | details |", "|---|---|---|---|"]
    for step in profile["operators"]:
        details = step["details"].replace("|", "\\|")
        details = details if len(details) <= 110 else details[:107] + "..."
        lines.append(f"| {step['operator'].split('@')[0]} | {step['rows']:,} | {step['db_hits']:,} | `{details}` |")
    return lines


def plot_scaling(results: list[dict[str, Any]], path: Path) -> None:
    people = [r["people"] for r in results]
    figure, (times, memory) = plt.subplots(1, 2, figsize=(12, 4.8))
    series = {
        "ingest (whole export)": [r["ingest"]["seconds"] for r in results],
        "audience cold": [r["audience"]["cold_s"] for r in results],
        "audience warm p50": [r["audience"]["warm"]["p50_s"] for r in results],
        "naive N+1": [r["naive"]["p50_s"] for r in results],
        "PostgreSQL warm p50": [r["postgres"]["warm"]["p50_s"] for r in results],
        "PostgreSQL load": [r["postgres"]["load"]["seconds"]["total"] for r in results],
    }
    for label, values in series.items():
        times.plot(people, values, marker="o", label=label)
    times.set(xscale="log", yscale="log", xlabel="people", ylabel="seconds", title="Time by scale")
    times.grid(True, which="both", alpha=0.3)
    times.legend(fontsize=8)
    sizes = {
        "Neo4j data folder (store and transaction logs)": [r["neo4j_store_mib"] for r in results],
        "Neo4j peak RSS": [r["neo4j_peak_rss_mib"] for r in results],
        "Python peak RSS (import)": [r["python_peak_rss_mib"] for r in results],
    }
    for label, values in sizes.items():
        memory.plot(people, values, marker="o", label=label)
    memory.set(xscale="log", yscale="log", xlabel="people", ylabel="MiB", title="Memory and disk by scale")
    memory.grid(True, which="both", alpha=0.3)
    memory.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_graphql(r: dict[str, Any], path: Path) -> None:
    figure, axes = plt.subplots(1, len(OPERATIONS), figsize=(13, 4.2))
    for axis, (operation, label) in zip(axes, OPERATIONS.items(), strict=True):
        for offset, (server, name) in enumerate(SERVERS.items()):
            f = r["graphql"]["operations"][operation][server]
            values = [f["p50_ms"], f["p95_ms"], f["p99_ms"]]
            axis.bar([i + offset * 0.4 for i in range(3)], values, width=0.4,
                     label=f"{name} ({f['requests_per_second']} req/s)")
        axis.set_xticks([i + 0.2 for i in range(3)], ["p50", "p95", "p99"])
        axis.set(title=label, ylabel="ms")
        axis.legend(fontsize=8)
    figure.suptitle(f"GraphQL over HTTP, 10 clients, scale {r['scale']} ({r['people']:,} people)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def markdown(results: list[dict[str, Any]]) -> str:
    largest = results[-1]
    machine = largest["machine"]
    lines = [
        "# Benchmarks",
        "",
        "`make bench` runs the three scales (S, M, L); `make bench SCALE=S` one of them (S is a quick check, "
        "under 3 minutes). The code is `benchmarks/suite.py`; this page is written by `benchmarks/report.py` "
        "from `results-<scale>.json`, which hold every figure, the query profile and the settings.",
        "",
        f"Machine: {machine['cpus']} cores, {machine['memory_gib']} GiB; Python {machine['python']}; "
        f"Neo4j {machine['neo4j']} Community (heap {machine['neo4j_heap']}, page cache {machine['neo4j_pagecache']}); "
        "PostgreSQL from Debian's packages (see `benchmarks/postgres.py` for its settings). "
        "Everything (servers, client, import) runs on this one machine.",
        "",
        "The rule: company closed-won total over all MDM-linked accounts > "
        f"{largest['rule']['minCompanyWonAmount']:,.0f} "
        f"and a visit to `{largest['rule']['visitedPage']}` in the last {largest['rule']['withinDays']} days "
        "(the Townsend audience of the use case). "
        "Data: `benchmarks/generate.py` (4 sources, MDM chains, ~5 visits a person; since issue 12 each Marketo "
        "instance also holds synced copies of 30% of its CRM's accounts with their deals, counted once by all three).",
        "",
        "## Goals at the largest scale run" + f" ({largest['scale']}, {largest['people']:,} people)",
        "",
        "| goal | measured | met |",
        "|---|---|---|",
        *(f"| {goal} | {measured} | {'yes' if met else '**no**'} |" for goal, measured, met in goals(largest)),
        "",
        "Why the missed goals were missed, what the query profile showed and what was tried: "
        "[analysis.md](analysis.md).",
        "",
        "## Ingest and audience evaluation",
        "",
        "Audience times (cold, warm) are the product's evaluation of a saved segment over the whole population "
        "(`engine.evaluate`: the members computed, stored as the segment's membership, entered and left recorded), "
        "in one Cypher query; *count* is the count query alone, *explained members* every member with the "
        "explanation of each condition (`engine.all_members`). Cold = the first run after a Neo4j restart "
        "(the OS file cache is not dropped). Naive = one query per object as a resolver-per-field GraphQL API "
        "without DataLoaders runs it (`benchmarks/naive.py`); PostgreSQL = the same rule in SQL with a recursive CTE "
        "for the companies at query time, synced copies resolved to one record each at load, as the graph's "
        "import does (`benchmarks/postgres.py`). "
        "The three answers were checked equal in every run.",
        "",
        *scale_table(results),
        "",
        "![Time and memory by scale](scaling.png)",
        "",
        "## GraphQL over HTTP",
        "",
        "10 concurrent clients, each sending its next request when the last is answered, for a fixed time per "
        "operation (after a warm-up), against the product's service and against a Neo4j GraphQL Library server "
        "(`benchmarks/neo4j_graphql/`, the audience count as an `@cypher` field) over the same Neo4j. "
        "The answers of the two servers were compared (people, the 100 members, the count) and were the same.",
        "",
        *graphql_table(results),
        "",
        f"![GraphQL latency at scale {largest['scale']}](graphql-{largest['scale']}.png)",
        "",
        "## Query plans and indexes",
        "",
        "Every hot query starts from an index and expands from there; none scans a label:",
        "",
        "- the evaluation (count, members, segment evaluation) is anchored on the range index "
        "`web_visit_url_time` (`WebVisit(url, visitedAt)`) for the visit condition, then walks each candidate's "
        "accounts, company and the company's opportunities (below);",
        "- the person lookup seeks the unique constraint `person_email` and brings the person's accounts in the "
        "same query (one round trip, primed into the request's DataLoader);",
        "- the member page seeks the unique `segment_id`, expands the stored `IN_SEGMENT` membership and keeps "
        "the first 100 by email (a top-k sort), in one record;",
        "- the import's writes seek the `(source, sourceKey)` unique constraints and the `KNOWN_IN(sourceKey)` "
        "relationship index (the `Source` node is a supernode: the index avoids expanding it).",
        "",
        f"PROFILE of the evaluation at scale {results[-1]['scale']}:",
        "",
        *plan_table(results[-1]),
        "",
        "## Other benchmarks",
        "",
        "- [realtime.md](realtime.md): live audiences under a stream of visit events, through `POST /events` and "
        "the GraphQL mutation, 20 clients, rates to 1,500/s: throughput, latency to the subscriber, nothing lost "
        "(`make bench-realtime`).",
        "- `ingest-<people>.json`: the import alone, per source and per query (`make bench-ingest`).",
        "- [http-path.md](http-path.md): the HTTP path alone (event loop, JSON, key cache), commit against commit.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    results = load_results()
    if not results:
        raise SystemExit("no results-<scale>.json in docs/benchmarks: run python -m benchmarks.suite first")
    plot_scaling(results, RESULTS / "scaling.png")
    for r in results:
        plot_graphql(r, RESULTS / f"graphql-{r['scale']}.png")
    (RESULTS / "README.md").write_text(markdown(results))
    print(f"written {(RESULTS / 'README.md').relative_to(PROJECT_ROOT)} and plots")


if __name__ == "__main__":
    main()
