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

from benchmarks.goals import OPERATIONS, first_request, goals, goals_table, maintained_totals, ms  # noqa: E402
from service.config import PROJECT_ROOT  # noqa: E402

RESULTS = PROJECT_ROOT / "docs" / "benchmarks"
ORDER = ("S", "M", "L")
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
             "naive / warm | first request after service start s | first request after Neo4j restart s |",
             "|---" * 17 + "|"]
    for r in results:
        ingest, audience, naive = r["ingest"], r["audience"], r["naive"]
        warm = audience["warm"]["p50_s"]
        lines.append(
            f"| {r['scale']} | {r.get('commit', '-')} | {r['people']:,} | {ingest['rows']:,} | "
            f"{_s(ingest['seconds'])} | {ingest['rows_per_second']:,} | "
            f"{ingest['elements_per_second']:,} | {audience['members']:,} | {_s(audience['cold_s'])} | {_s(warm)} | "
            f"{_s(audience['warm']['p95_s'])} | {_s(audience['count_warm']['p50_s'])} | "
            f"{_s(audience['explained_members_warm']['p50_s'])} | "
            f"{_s(naive['p50_s'])} ({naive['queries']:,}) | {_ratio(naive['p50_s'], warm)} | "
            f"{_s(first_request(r, 'after_service_start_s'))} | {_s(first_request(r, 'after_neo4j_restart_s'))} |")
    return lines


def postgres_table(results: list[dict[str, Any]]) -> list[str]:
    lines = ["| scale | accountgraph count / evaluation warm p50 ms | PostgreSQL CTE cold s | CTE warm p50 ms | "
             "CTE / our count | CTE load s | PostgreSQL totals cold s | totals warm p50 ms | totals / our count | "
             "totals load + build s | slowest write with its triggers ms |",
             "|---" * 11 + "|"]
    for r in results:
        pg, totals, audience = r["postgres"], maintained_totals(r), r["audience"]
        count = audience["count_warm"]["p50_s"]
        totals_warm = totals.get("warm", {}).get("p50_s")
        writes = [step["write_ms"] for step in totals.get("trigger_check", {}).get("steps", [])]
        totals_ratio = "-" if totals_warm is None else _ratio(totals_warm, count)
        lines.append(
            f"| {r['scale']} | {ms(count)} / {ms(audience['warm']['p50_s'])} | {_s(pg['cold_s'])} | "
            f"{ms(pg['warm']['p50_s'])} | {_ratio(pg['warm']['p50_s'], count)} | "
            f"{_s(pg['load']['seconds']['total'])} | {_s(totals.get('cold_s'))} | {ms(totals_warm)} | "
            f"{totals_ratio} | {_s(totals.get('load_then_build_s'))} | {max(writes) if writes else '-'} |")
    return lines


def trigger_table(r: dict[str, Any]) -> list[str]:
    """The triggers' self-check of one run: each write, the companies it changed, its time."""
    check = maintained_totals(r).get("trigger_check")
    if not check:
        return [f"(no trigger self-check in results-{r['scale']}.json)"]
    lines = ["| write | companies changed | ms, triggers included |", "|---|---|---|"]
    lines += [f"| {step['write']} | {step['companies_changed']:,} | {step['write_ms']} |" for step in check["steps"]]
    return lines


def graphql_table(results: list[dict[str, Any]]) -> list[str]:
    lines = ["| scale | operation | server | p50 ms | p95 ms | p99 ms | requests/s | requests | errors | "
             "1 client: p50 ms | 1 client: p99 ms | 1 client: requests |",
             "|---" * 12 + "|"]
    for r in results:
        alone = r["graphql"].get("one_client", {}).get("operations", {})
        for operation, label in OPERATIONS.items():
            for server, name in SERVERS.items():
                f = r["graphql"]["operations"][operation][server]
                one = alone.get(operation, {}).get(server, {})
                one_requests = f"{one['requests']:,}" if one else "-"
                if one.get("errors"):
                    one_requests += f" ({one['errors']} errors)"
                lines.append(f"| {r['scale']} | {label} | {name} | {f['p50_ms']} | {f['p95_ms']} | {f['p99_ms']} | "
                             f"{f['requests_per_second']} | {f['requests']:,} | {f['errors']} | "
                             f"{one.get('p50_ms', '-')} | {one.get('p99_ms', '-')} | {one_requests} |")
    return lines


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
        "audience count warm p50": [r["audience"]["count_warm"]["p50_s"] for r in results],
        "naive N+1": [r["naive"]["p50_s"] for r in results],
        "PostgreSQL recursive CTE warm p50": [r["postgres"]["warm"]["p50_s"] for r in results],
        "PostgreSQL maintained totals warm p50": [maintained_totals(r).get("warm", {}).get("p50_s") for r in results],
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


def markdown(results: list[dict[str, Any]], realtime: dict[str, Any] | None) -> str:
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
        "## Goals (issue 13)",
        "",
        "Computed from the figures below (every scale run, L for the goals at L) and, for the live goals, from "
        "[realtime.json](realtime.json) (`make bench-realtime`). *Not measured*: the run or the key is absent. "
        "*Ahead* compares warm p50 with both PostgreSQL variants; requests/s are at 10 clients.",
        "",
        *goals_table(goals(results, realtime)),
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
        "without DataLoaders runs it (`benchmarks/naive.py`). First request after service start / after a Neo4j "
        "restart: the first GraphQL request once `/readyz` says ready. "
        "The answers of the product, the naive approach and both PostgreSQL variants (below) were checked equal "
        "in every run.",
        "",
        *scale_table(results),
        "",
        "## PostgreSQL, two variants",
        "",
        "The same rule in SQL on the same export (`benchmarks/postgres.py`), synced copies resolved to one record "
        "each at load as the graph's import does. *CTE*: each candidate account's company unified and its "
        "closed-won total summed at query time by a recursive CTE over the MDM links. *Totals*: the same "
        "precomputation as the graph's company figures: `account_company` (each account's company) and "
        "`company_totals` (sum, count, max per status) kept by statement-level triggers on the opportunity, "
        "account and MDM-link record tables in the transaction of every write; the query reads them. "
        "Load: COPY, indexes, records, links, ANALYZE (what the CTE reads); the totals are built after it "
        "(load, then build: *load + build*), and their triggers are then checked by a self-check: every kind of "
        "write (below), each followed by a comparison with a computation from scratch, in a transaction rolled "
        "back; the run fails on any drift. Cold = the first query after a PostgreSQL restart (the OS file "
        "cache is not dropped). Ratios are PostgreSQL's warm p50 over the product's count warm p50.",
        "",
        *postgres_table(results),
        "",
        f"The triggers' self-check at scale {largest['scale']}:",
        "",
        *trigger_table(largest),
        "",
        "![Time and memory by scale](scaling.png)",
        "",
        "## GraphQL over HTTP",
        "",
        "10 concurrent clients, each sending its next request when the last is answered, for a fixed time per "
        "operation (after a warm-up), then 1 client for the same time (latency without queueing: *1 client*), "
        "against the product's service and against a Neo4j GraphQL Library server "
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
        "- [realtime.md](realtime.md): live audience latency under a stream of events (`make bench-realtime`).",
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
    realtime_path = RESULTS / "realtime.json"
    realtime = json.loads(realtime_path.read_text()) if realtime_path.exists() else None
    (RESULTS / "README.md").write_text(markdown(results, realtime))
    print(f"written {(RESULTS / 'README.md').relative_to(PROJECT_ROOT)} and plots")


if __name__ == "__main__":
    main()
