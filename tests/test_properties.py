"""Property-based tests (hypothesis) of the rule compiler and the import parser.

- Any generated rule is either refused with a RuleError whose path leads to the part at fault in
  the rule's JSON, or compiles to Cypher that holds none of the rule's values (they travel as
  parameters) and that Neo4j accepts (EXPLAIN, on the real test database).
- (Any generated import file is read and parsed without a crash: tests/unit/test_import_file_properties.py.)
- Valid generated rows go through file, parser and graph and come back as they were sent.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.database import Graph
from service.ingest.pipeline import ingest_tables, read_path
from service.queries import Rendered, Template
from service.segments import engine
from service.segments.rules import (
    ACCOUNT_NUMBER_FIELDS,
    ACCOUNT_TEXT_FIELDS,
    AGGREGATES,
    FAMILY_SCOPES,
    NUMBER_OPS,
    OPPORTUNITY_STATUSES,
    PERSON_FIELDS,
    SCOPES,
    TEXT_OPS,
    URL_MATCHES,
    RuleError,
    parse_rule,
)
from tests.helpers import run_cypher, wipe
from tests.hypothesis_settings import FEW, RULES

pytestmark = pytest.mark.asyncio

# ---- the rule compiler ------------------------------------------------------------------------------

# Every string value of a generated rule carries this mark, which no Cypher template holds: if any
# value (or a piece of Cypher built from one) reached the query text, the mark would be there.
MARK = "\u2042"
texts = st.text(max_size=12).map(lambda text: MARK + text)
# Keys a rule's path can name: no '.', '[' or ']' (the path could not say where one ends).
keys = st.text("abcXYZ_019", max_size=6).map(lambda text: MARK + text)
junk = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**7), st.floats(), texts, st.lists(texts, max_size=2),
                 st.dictionaries(keys, st.integers(), max_size=1))


def one_of_or_junk(allowed: Any) -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(sorted(allowed)), st.sampled_from(sorted(allowed)), texts, junk)


numbers = st.one_of(st.integers(-10**6, 10**6), st.integers(-10**30, 10**30), st.floats(), junk)
days = st.one_of(st.integers(-2, 4000), junk)
dates = st.one_of(st.dates().map(date.isoformat), texts, junk)
moments = st.one_of(st.datetimes(timezones=st.none() | st.just(UTC)).map(datetime.isoformat), texts, junk)
value_lists = st.one_of(st.lists(texts, min_size=0, max_size=3), junk)

LEAVES = {
    "person": st.fixed_dictionaries({"field": one_of_or_junk(PERSON_FIELDS), "op": one_of_or_junk(TEXT_OPS)},
                                    optional={"value": texts, "values": value_lists, "extra": junk}),
    "account": st.fixed_dictionaries(
        {"field": one_of_or_junk({**ACCOUNT_TEXT_FIELDS, **ACCOUNT_NUMBER_FIELDS}),
         "op": one_of_or_junk(TEXT_OPS | NUMBER_OPS)},
        optional={"scope": one_of_or_junk(SCOPES), "value": texts, "values": value_lists, "number": numbers}),
    "opportunities": st.fixed_dictionaries(
        {"op": one_of_or_junk(NUMBER_OPS), "value": numbers},
        optional={"aggregate": one_of_or_junk(AGGREGATES), "status": one_of_or_junk(OPPORTUNITY_STATUSES),
                  "stages": value_lists, "closedAfter": dates, "closedBefore": dates, "closedWithinDays": days,
                  "scope": one_of_or_junk(FAMILY_SCOPES)}),
    "visits": st.fixed_dictionaries(
        {"url": st.one_of(texts, texts, junk)},
        optional={"match": one_of_or_junk(URL_MATCHES), "minCount": st.one_of(st.integers(-1, 2_000_000), junk),
                  "withinDays": days, "after": moments, "before": moments}),
    "campaign": st.fixed_dictionaries({"source": texts, "id": texts}, optional={"status": st.one_of(texts, junk)}),
    "list": st.fixed_dictionaries({"source": texts, "id": st.one_of(texts, junk)}),
    "opportunityRole": st.fixed_dictionaries({"op": one_of_or_junk(TEXT_OPS)},
                                             optional={"value": texts, "values": value_lists,
                                                       "status": one_of_or_junk(OPPORTUNITY_STATUSES)}),
    "accountRole": st.fixed_dictionaries({"op": one_of_or_junk(TEXT_OPS)},
                                         optional={"value": texts, "values": value_lists, "extra": junk}),
    "buyingGroup": st.fixed_dictionaries({}, optional={
        "roles": value_lists, "minRoles": st.one_of(st.integers(-1, 101), junk),
        "minEngaged": st.one_of(st.integers(-1, 10_001), junk), "withinDays": days}),
    "segment": st.fixed_dictionaries({"id": texts}),
}
leaf = st.one_of(*(condition.map(lambda value, key=key: {key: value}) for key, condition in LEAVES.items()),
                 st.dictionaries(st.sampled_from(sorted(LEAVES)) | keys, junk, max_size=2))
rules = st.recursive(leaf, lambda parts: st.one_of(
    st.lists(parts, max_size=3).map(lambda listed: {"and": listed}),
    st.lists(parts, max_size=3).map(lambda listed: {"or": listed}),
    parts.map(lambda part: {"not": part}),
    st.tuples(parts, parts).map(lambda pair: {**pair[0], **pair[1]}),  # two keys in one part
), max_leaves=8) | junk

PATH_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def located(data: Any, path: str) -> bool:
    """The path names a part of the rule's JSON: every step but the last exists (the last may be a
    key that is missing, or present but wrong). The empty path is the rule itself."""
    steps = PATH_STEP.findall(path)
    rebuilt = ""
    for key, index in steps:
        rebuilt += f"[{index}]" if not key else (f".{key}" if rebuilt else key)
    if rebuilt != path:
        return False
    node = data
    for position, (key, index) in enumerate(steps):
        last = position == len(steps) - 1
        if key:
            if not isinstance(node, dict):
                return False
            if key not in node:
                return last
            node = node[key]
        else:
            if not isinstance(node, list) or int(index) >= len(node):
                return False
            node = node[int(index)]
    return True


@RULES
@given(data=rules)
async def test_a_generated_rule_is_refused_where_it_is_wrong_or_compiles_to_parameterised_cypher(
        graph: Graph, data: Any) -> None:
    try:
        compiled = await engine.compile_for(graph, parse_rule(data))
    except RuleError as error:
        assert located(data, error.path), (error.path, data)
        assert str(error).startswith(f"{error.path or 'rule'}: ")
        return
    for template in (Template.SEGMENT_COUNT, Template.SEGMENT_MEMBERS, Template.SEGMENT_COMPANIES):
        rendered = compiled.render(template)
        assert MARK not in rendered.text, rendered.text
        explain = Rendered(template, "EXPLAIN " + rendered.text)
        await graph.run_template(explain, **compiled.parameters, first=10, after=None)


async def test_the_rule_property_can_fail() -> None:
    """The checks above catch what they are for: a value in the text, a path that leads nowhere."""
    assert not located({"and": [{"person": {}}]}, "and[3].person")
    assert not located({"visits": {"url": 5}}, "person.value")
    assert located({"visits": {"url": 5}}, "visits.url") and located({"visits": {}}, "visits.url")
    assert located([], "")


# ---- valid rows: file, parser, graph and back ------------------------------------------------------

# Text as the format allows it: anything but NUL, a byte-order mark and lone surrogates.
free_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufeff"), max_size=30)
ids = free_text.filter(lambda text: text.strip() != "")
local_parts = st.text(st.characters(whitelist_categories=("Lu", "Ll", "Nd"), whitelist_characters="._%+-'"), min_size=1,
                      max_size=12)
labels = st.text(st.characters(whitelist_categories=("Lu", "Ll", "Nd"), whitelist_characters="-"), min_size=1,
                 max_size=10)
emails = st.builds(lambda local, domain, tld, pad: f"{pad}{local}@{domain}.{tld}{pad}", local_parts, labels, labels,
                   st.sampled_from(["", " "]))
flags = st.sampled_from(["", "true", "false", "TRUE", "0", "1", "yes", "No", "y", "N"])
zones = st.sampled_from([None, UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))])
# Visit times are kept to the millisecond, and are not in the future (docs/import-format.md).
visit_times = st.builds(lambda moment, ms: moment.replace(microsecond=ms * 1000),
                        st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2025, 12, 31), timezones=zones),
                        st.integers(0, 999))
urls = st.builds(lambda start, rest: start + rest.strip(), st.sampled_from(["https://", "http://", "/"]), free_text)


def flag(text: str) -> bool:
    return text.strip().lower() in ("true", "1", "yes", "y")


def strip_or_none(text: str) -> str | None:
    return text.strip() or None


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([header, *rows])
    return buffer.getvalue().encode("utf-8")


@st.composite
def exports(draw: st.DrawFn) -> tuple[list[list[str]], list[list[str]]]:
    """A people file and a web-visits file of the same source; ids and emails unique."""
    people = draw(st.lists(st.tuples(ids, emails, free_text, free_text, free_text, flags, flags),
                           min_size=1, max_size=6,
                           unique_by=(lambda p: p[0].strip(), lambda p: p[1].strip().lower())))
    visits = draw(st.lists(st.tuples(ids, st.sampled_from([p[0] for p in people]), urls, visit_times), max_size=6,
                           unique_by=lambda v: v[0].strip()))
    return ([list(p) for p in people], [[v[0], v[1], v[2], v[3].isoformat()] for v in visits])


@FEW
@given(export=exports())
async def test_valid_rows_come_back_from_the_graph_as_they_were_sent(
        graph: Graph, tmp_path_factory: pytest.TempPathFactory,
        export: tuple[list[list[str]], list[list[str]]]) -> None:
    people, visits = export
    folder = tmp_path_factory.mktemp("export")
    (folder / "people.csv").write_bytes(csv_bytes(["Id", "Email", "FirstName", "LastName", "Title", "Unsubscribed",
                                                   "AdvertisingOptOut"], people))
    (folder / "web-visits.csv").write_bytes(csv_bytes(["Id", "PersonId", "Url", "VisitedAt"], visits))
    await wipe(graph)
    report = await ingest_tables(graph, "Props", read_path(folder))
    assert report.rows == len(people) + len(visits)

    stored = await run_cypher(graph, """
        MATCH (p:Person)-[k:KNOWN_IN]->(:Source {name: 'Props'})
        RETURN k.sourceKey AS id, p.email AS email, p.firstName AS first, p.lastName AS last, p.title AS title,
               k.unsubscribed AS unsubscribed, k.advertisingOptOut AS optOut""")
    assert sorted(stored, key=lambda r: r["id"]) == sorted((
        {"id": i.strip(), "email": e.strip().lower(), "first": strip_or_none(f), "last": strip_or_none(ln),
         "title": strip_or_none(t), "unsubscribed": flag(u), "optOut": flag(a)} for i, e, f, ln, t, u, a in people),
        key=lambda r: r["id"])
    email_of = {i.strip(): e.strip().lower() for i, e, *_ in people}
    stored_visits = await run_cypher(graph, """
        MATCH (p:Person)-[:VISITED]->(v:WebVisit {source: 'Props'})
        RETURN v.sourceKey AS id, p.email AS email, v.url AS url, v.visitedAt AS at""")
    assert sorted((r["id"], r["email"], r["url"], r["at"].to_native()) for r in stored_visits) == sorted(
        (i.strip(), email_of[p.strip()], u.strip(), _aware(datetime.fromisoformat(at))) for i, p, u, at in visits)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
