"""The goals of issue 13, met or not, computed from the figures of benchmarks/suite.py (results-<scale>.json)
and of benchmarks/realtime.py (realtime.json); a goal whose figure is absent is "not measured". Used by
benchmarks/report.py for the goals table of docs/benchmarks/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OPERATIONS = {"person": "person lookup", "members_first_100": "first 100 members of a saved segment",
              "audience_count": "audience count"}


def ms(seconds: float | None) -> str:
    """Seconds as milliseconds for a table ("-" when absent)."""
    return "-" if seconds is None else f"{seconds * 1000:,.1f}"


FIRST_REQUEST_PHASES = {"after_service_start_s": "service_start", "after_neo4j_restart_s": "neo4j_restart"}


def first_request(r: dict[str, Any], key: str) -> float | None:
    """A first-request figure of a results file (`after_service_start_s`, `after_neo4j_restart_s`), if
    any: the slower of the first audience count and the first person lookup once `/readyz` said ready,
    with the warm-up on (benchmarks/first_request.py)."""
    phase = r.get("first_request", {}).get("warm_up", {}).get(FIRST_REQUEST_PHASES[key])
    return None if phase is None else max(float(phase["audience_count_s"]), float(phase["person_lookup_s"]))


def maintained_totals(r: dict[str, Any]) -> dict[str, Any]:
    """The maintained-totals variant's figures ({} in results from before it existed)."""
    totals: dict[str, Any] = r["postgres"].get("maintained_totals", {})
    return totals


NOT_MEASURED = "not measured"
# Keys of docs/benchmarks/realtime.json (`make bench-realtime`): the highest rate sustained, events/s
# (p95 from the response to the subscriber within the target and nothing lost, as realtime.md defines it).
LIVE_KEYS = {"sustained_events_post": ("live: >= 1,000 visit events/s sustained through POST /events", 1_000),
             "sustained_graphql": ("live: >= 500 visit events/s sustained through the GraphQL mutation", 500)}


@dataclass(frozen=True)
class Goal:
    goal: str
    scale: str
    measured: str
    met: bool | None  # None: not measured

    @property
    def verdict(self) -> str:
        return NOT_MEASURED if self.met is None else "yes" if self.met else "**no**"


def _at_most(goal: str, scale: str, seconds: float | None, limit: float) -> Goal:
    if seconds is None:
        return Goal(goal, scale, NOT_MEASURED, None)
    return Goal(goal, scale, f"{ms(seconds)} ms" if limit < 1 else f"{seconds:.3f} s", seconds <= limit)


def _ahead(goal: str, r: dict[str, Any], ours: float) -> Goal:
    """Ours warm p50 below both PostgreSQL variants' warm p50."""
    cte = r["postgres"]["warm"]["p50_s"]
    totals = maintained_totals(r).get("warm", {}).get("p50_s")
    measured = f"{ms(ours)} ms; CTE {ms(cte)} ms, totals " + (NOT_MEASURED if totals is None else f"{ms(totals)} ms")
    return Goal(goal, r["scale"], measured, None if totals is None else ours < cte and ours < totals)


def _times_ahead(goal: str, r: dict[str, Any], ours: float, factor: float) -> Goal:
    cte = r["postgres"]["warm"]["p50_s"]
    return Goal(goal, r["scale"], f"{cte / ours:,.2f}x (CTE {ms(cte)} ms, ours {ms(ours)} ms)", cte >= factor * ours)


def _graphql_ahead(r: dict[str, Any]) -> Goal:
    ops = r["graphql"]["operations"]
    pairs = {name: (ops[name]["accountgraph"]["requests_per_second"], ops[name]["neo4j_graphql"]["requests_per_second"])
             for name in OPERATIONS}
    measured = "; ".join(f"{OPERATIONS[name]} {ours} vs {theirs}" for name, (ours, theirs) in pairs.items())
    return Goal("GraphQL over HTTP (10 clients): more requests/s than @neo4j/graphql on every operation",
                r["scale"], measured, all(ours > theirs for ours, theirs in pairs.values()))


def _person_alone(r: dict[str, Any]) -> Goal:
    person = r["graphql"].get("one_client", {}).get("operations", {}).get("person", {})
    p99 = person.get("accountgraph", {}).get("p99_ms")
    goal = "person lookup at 1 client: p99 <= 20 ms"
    return Goal(goal, r["scale"], NOT_MEASURED, None) if p99 is None else Goal(goal, r["scale"], f"{p99} ms", p99 <= 20)


def _live_rate(value: Any) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict):
        rate = value.get("events_per_second", value.get("rate"))
        return None if rate is None else float(rate)
    return None


def goals(results: list[dict[str, Any]], realtime: dict[str, Any] | None) -> list[Goal]:
    """The goals of issue 13 from the figures: those of every scale for each scale run, those at L when L
    was run (else not measured), and the live ones from realtime.json."""
    found: list[Goal] = []
    for r in results:
        audience = r["audience"]
        found += [
            _ahead("audience count warm p50 ahead of both PostgreSQL variants", r, audience["count_warm"]["p50_s"]),
            _ahead("segment evaluation warm p50 ahead of both PostgreSQL variants", r, audience["warm"]["p50_s"]),
            _graphql_ahead(r),
            _person_alone(r),
        ]
    large = next((r for r in results if r["scale"] == "L"), None)
    if large is None:
        found += [Goal(goal, "L", NOT_MEASURED + " (L not run)", None) for goal in (
            "count and evaluation warm p50 at least 3x ahead of the recursive CTE", "count warm p50 <= 150 ms",
            "evaluation warm p50 <= 400 ms", "first request after service start <= 1 s",
            "first request after a Neo4j restart <= 3 s", "ingest >= 40,000 nodes+relationships/s")]
    else:
        audience = large["audience"]
        rate = large["ingest"]["elements_per_second"]
        found += [
            _times_ahead("audience count warm p50 at least 3x ahead of the recursive CTE", large,
                         audience["count_warm"]["p50_s"], 3),
            _times_ahead("segment evaluation warm p50 at least 3x ahead of the recursive CTE", large,
                         audience["warm"]["p50_s"], 3),
            _at_most("audience count warm p50 <= 150 ms", "L", audience["count_warm"]["p50_s"], 0.150),
            _at_most("segment evaluation warm p50 <= 400 ms (membership stored, entered and left recorded)", "L",
                     audience["warm"]["p50_s"], 0.400),
            _at_most("first request after service start <= 1 s", "L",
                     first_request(large, "after_service_start_s"), 1),
            _at_most("first request after a Neo4j restart <= 3 s", "L",
                     first_request(large, "after_neo4j_restart_s"), 3),
            Goal("ingest >= 40,000 nodes+relationships/s", "L", f"{rate:,}/s", rate >= 40_000),
        ]
    for key, (goal, target) in LIVE_KEYS.items():
        rate = _live_rate((realtime or {}).get(key))
        found.append(Goal(goal, f"{realtime['people']:,} people" if realtime and "people" in realtime else "-",
                          NOT_MEASURED if rate is None else f"{rate:,.0f}/s", None if rate is None else rate >= target))
    return found


def goals_table(found: list[Goal]) -> list[str]:
    return ["| goal | scale | measured | met |", "|---|---|---|---|",
            *(f"| {g.goal} | {g.scale} | {g.measured} | {g.verdict} |" for g in found)]
