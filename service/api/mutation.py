"""Upserts from other systems, a record or a small batch at a time, through the import pipeline.

Each input type mirrors one record kind of the import format (service/ingest/specs.py): its
fields are the format's columns in camelCase, and the rows go through the same parsing, reference
checks and writes as a file import. A batch with any invalid record writes nothing.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

import strawberry
from graphql import GraphQLError

from service.api import typed
from service.api.context import Context
from service.api.permissions import needs
from service.auth.keys import Scope
from service.ingest.errors import ImportRejected, RowError
from service.ingest.pipeline import ingest_tables
from service.ingest.readers import RawTable
from service.ingest.specs import (
    ACCOUNT_PEOPLE,
    ACCOUNTS,
    MDM_SOURCE,
    OPPORTUNITIES,
    PEOPLE,
    SAME_COMPANY,
    WEB_VISITS,
    RecordSpec,
)

MAX_BATCH = 1000


def _snake(header: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", header).lower()


def _camel(header: str) -> str:
    return header[0].lower() + header[1:]


@strawberry.input(description="A person as one source knows them (the people import columns).")
class PersonInput:
    id: str
    email: str
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    unsubscribed: bool | None = None
    advertising_opt_out: bool | None = None
    is_deleted: bool | None = None


@strawberry.input(description="An account of one source (the accounts import columns).")
class AccountInput:
    id: str
    name: str | None = None
    industry: str | None = None
    billing_country: str | None = None
    number_of_employees: int | None = None
    website: str | None = None
    is_deleted: bool | None = None


@strawberry.input(description="A person's association with an account of the same source.")
class AccountPersonInput:
    account_id: str
    person_id: str
    role: str | None = None
    is_deleted: bool | None = None


@strawberry.input(description="An opportunity of one source (the opportunities import columns).")
class OpportunityInput:
    id: str
    account_id: str | None = None
    name: str | None = None
    amount: float | None = None
    currency_iso_code: str | None = None
    stage_name: str | None = None
    close_date: date | None = None
    is_deleted: bool | None = None


@strawberry.input(description="A web page visit recorded by one source.")
class WebVisitInput:
    id: str
    person_id: str | None = None
    url: str | None = None
    visited_at: datetime | None = None
    is_deleted: bool | None = None


@strawberry.input(description="An MDM record: two accounts (each named by source and id) are one company.")
class SameCompanyLinkInput:
    link_id: str
    source_a: str | None = None
    account_id_a: str | None = None
    source_b: str | None = None
    account_id_b: str | None = None
    updated_at: datetime | None = None
    is_deleted: bool | None = None


@strawberry.type(description="What an upsert wrote.")
class IngestResult:
    source: str
    records: int = strawberry.field(description="Records written (or removed).")
    seconds: float
    suppressed: int = strawberry.field(
        default=0, description="Records of erased people skipped, not written (see erasePerson).")


def _raw_table(spec: RecordSpec, argument: str, records: list[Any]) -> RawTable:
    if not records:
        raise GraphQLError(f"{argument} must hold at least one record")
    if len(records) > MAX_BATCH:
        raise GraphQLError(
            f"{argument} may hold at most {MAX_BATCH} records per call; use `accountgraph ingest` for bulk")
    table = RawTable(spec, argument)
    for index, record in enumerate(records):
        values = asdict(record)
        table.records.append((index, {c.header: values[_snake(c.header)] for c in spec.columns}))
    return table


def _error_text(error: RowError) -> str:
    field = "" if error.column in ("-", "source") else f".{_camel(error.column)}"
    where = error.file if error.column == "source" else f"{error.file}[{error.line}]{field}"
    return f"{where}: {error.reason}"


async def _ingest(info: strawberry.Info[Context, None], source: str, spec: RecordSpec,
                  argument: str, records: list[Any]) -> IngestResult:
    try:
        report = await ingest_tables(info.context.graph, source, [_raw_table(spec, argument, records)])
        info.context.changed()
    except ImportRejected as rejected:
        raise GraphQLError(
            f"rejected, nothing written: {'; '.join(map(_error_text, rejected.errors[:20]))}",
            extensions={"errors": [{"record": e.line, "field": _camel(e.column), "reason": e.reason}
                                   for e in rejected.errors]},
        ) from None
    return IngestResult(source=report.source, records=report.rows, seconds=report.seconds, suppressed=report.suppressed)


@strawberry.type
class IngestMutation:
    @typed.mutation(extensions=needs(Scope.WRITE),
                    description="Upsert (or, with isDeleted, remove) people as one source knows them.")
    async def upsert_people(self, info: strawberry.Info[Context, None], source: str,
                            people: list[PersonInput]) -> IngestResult:
        return await _ingest(info, source, PEOPLE, "people", people)

    @typed.mutation(extensions=needs(Scope.WRITE), description="Upsert (or remove) accounts of one source.")
    async def upsert_accounts(self, info: strawberry.Info[Context, None], source: str,
                              accounts: list[AccountInput]) -> IngestResult:
        return await _ingest(info, source, ACCOUNTS, "accounts", accounts)

    @typed.mutation(extensions=needs(Scope.WRITE),
                    description="Associate people with accounts of one source (or remove associations).")
    async def upsert_account_people(self, info: strawberry.Info[Context, None], source: str,
                                    links: list[AccountPersonInput]) -> IngestResult:
        return await _ingest(info, source, ACCOUNT_PEOPLE, "links", links)

    @typed.mutation(extensions=needs(Scope.WRITE), description="Upsert (or remove) opportunities of one source.")
    async def upsert_opportunities(self, info: strawberry.Info[Context, None], source: str,
                                   opportunities: list[OpportunityInput]) -> IngestResult:
        return await _ingest(info, source, OPPORTUNITIES, "opportunities", opportunities)

    @typed.mutation(extensions=needs(Scope.WRITE), description="Record web visits reported by one source.")
    async def record_web_visits(self, info: strawberry.Info[Context, None], source: str,
                                visits: list[WebVisitInput]) -> IngestResult:
        return await _ingest(info, source, WEB_VISITS, "visits", visits)

    @typed.mutation(extensions=needs(Scope.WRITE),
                    description="Add, move or (with isDeleted) remove MDM same-company links; "
                                "companies regroup at once.")
    async def upsert_same_company_links(self, info: strawberry.Info[Context, None],
                                        links: list[SameCompanyLinkInput]) -> IngestResult:
        return await _ingest(info, MDM_SOURCE, SAME_COMPANY, "links", links)
