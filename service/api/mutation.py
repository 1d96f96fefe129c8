"""Upserts from other systems, a record or a small batch at a time, through the import pipeline.

Each input type is built from one record kind of the import format (service/ingest/specs.py): a
field per column, named by the header in camelCase. The records become rows keyed by header, as a
file's would be, and go through the same parsing, reference checks and writes as a file import;
an error names the record and the field. A batch with any invalid record writes nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from service.api import typed
from service.api.context import Context
from service.api.derived import record_input, records_of
from service.api.permissions import needs
from service.auth.keys import Scope
from service.errors import AccountGraphError, ErrorCode, InvalidArgument
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

PersonInput = record_input(PEOPLE, "PersonInput", "A person as one source knows them (the people import columns).")
AccountInput = record_input(ACCOUNTS, "AccountInput", "An account of one source (the accounts import columns).")
AccountPersonInput = record_input(ACCOUNT_PEOPLE, "AccountPersonInput",
                                  "A person's association with an account of the same source.")
OpportunityInput = record_input(OPPORTUNITIES, "OpportunityInput",
                                "An opportunity of one source (the opportunities import columns).")
WebVisitInput = record_input(WEB_VISITS, "WebVisitInput", "A web page visit recorded by one source.")
SameCompanyLinkInput = record_input(SAME_COMPANY, "SameCompanyLinkInput",
                                    "An MDM record: two accounts (each named by source and id) are one company.")


@strawberry.type(description="What an upsert wrote.")
class IngestResult:
    source: str = strawberry.field(description="The source the records were written for (`MDM` for MDM links).")
    records: int = strawberry.field(description="Records written (or removed).")
    seconds: float = strawberry.field(description="How long the write took, in seconds.")
    suppressed: int = strawberry.field(
        default=0, description="Records of erased people skipped, not written (see erasePerson).")


class UpsertRejected(AccountGraphError):
    """An upsert with invalid records, nothing written: each error names the record (index and id) and its field."""

    default_code = ErrorCode.IMPORT_REJECTED

    def __init__(self, spec: RecordSpec, rejected: ImportRejected) -> None:
        super().__init__(f"rejected, nothing written: {'; '.join(_error_text(spec, e) for e in rejected.errors[:20])}")
        self.errors = [{"record": e.line, "id": e.id, "field": spec.api_name_of(e.column), "reason": e.reason}
                       for e in rejected.errors]

    @property
    def extensions(self) -> dict[str, Any]:
        return {**super().extensions, "errors": self.errors}


def _raw_table(spec: RecordSpec, argument: str, records: list[Any]) -> RawTable:
    """The records as the rows of a file of the import format would be: values by header."""
    if not records:
        raise InvalidArgument(f"{argument} must hold at least one record")
    if len(records) > MAX_BATCH:
        raise InvalidArgument(
            f"{argument} may hold at most {MAX_BATCH} records per call; use `accountgraph ingest` for bulk")
    table = RawTable(spec, argument)
    for index, record in enumerate(records):
        table.records.append((index, {c.header: getattr(record, c.api_name) for c in spec.columns}))
    return table


def _error_text(spec: RecordSpec, error: RowError) -> str:
    field = "" if error.column in ("-", "source") else f".{spec.api_name_of(error.column)}"
    where = error.file if error.column == "source" else f"{error.file}[{error.line}]{field}"
    record = f" (id {error.id!r})" if error.id else ""
    return f"{where}{record}: {error.reason}"


async def _ingest(info: strawberry.Info[Context, None], source: str, spec: RecordSpec,
                  argument: str, records: list[Any]) -> IngestResult:
    try:
        tables = [_raw_table(spec, argument, records)]
        writes = info.context.writes  # the service's group commit (web visits of concurrent requests share a commit)
        report = await (writes.ingest(source, tables) if writes else ingest_tables(info.context.graph, source, tables))
    except ImportRejected as rejected:
        raise UpsertRejected(spec, rejected) from None
    return IngestResult(source=report.source, records=report.rows, seconds=report.seconds, suppressed=report.suppressed)


Source = Annotated[str, strawberry.argument(description=(
    "The name of the source system the records come from, e.g. `CRM 1` or `Marketo 1`."))]
BATCH = f"1 to {MAX_BATCH} records"


@strawberry.type
class IngestMutation:
    @typed.mutation(extensions=needs(Scope.WRITE),
                    description="Upsert (or, with isDeleted, remove) people as one source knows them.")
    async def upsert_people(
            self, info: strawberry.Info[Context, None], source: Source,
            people: Annotated[list[Any], records_of(PersonInput, f"The people, {BATCH}.")]) -> IngestResult:
        return await _ingest(info, source, PEOPLE, "people", people)

    @typed.mutation(extensions=needs(Scope.WRITE), description="Upsert (or remove) accounts of one source.")
    async def upsert_accounts(
            self, info: strawberry.Info[Context, None], source: Source,
            accounts: Annotated[list[Any], records_of(AccountInput, f"The accounts, {BATCH}.")]) -> IngestResult:
        return await _ingest(info, source, ACCOUNTS, "accounts", accounts)

    @typed.mutation(extensions=needs(Scope.WRITE),
                    description="Associate people with accounts of one source (or remove associations).")
    async def upsert_account_people(self, info: strawberry.Info[Context, None], source: Source,
                                    links: Annotated[list[Any], records_of(
                                        AccountPersonInput, f"The associations, {BATCH}.")]) -> IngestResult:
        return await _ingest(info, source, ACCOUNT_PEOPLE, "links", links)

    @typed.mutation(extensions=needs(Scope.WRITE), description="Upsert (or remove) opportunities of one source.")
    async def upsert_opportunities(self, info: strawberry.Info[Context, None], source: Source,
                                   opportunities: Annotated[list[Any], records_of(
                                       OpportunityInput, f"The opportunities, {BATCH}.")]) -> IngestResult:
        return await _ingest(info, source, OPPORTUNITIES, "opportunities", opportunities)

    @typed.mutation(extensions=needs(Scope.WRITE), description="Record web visits reported by one source.")
    async def record_web_visits(
            self, info: strawberry.Info[Context, None], source: Source,
            visits: Annotated[list[Any], records_of(WebVisitInput, f"The visits, {BATCH}.")]) -> IngestResult:
        return await _ingest(info, source, WEB_VISITS, "visits", visits)

    @typed.mutation(extensions=needs(Scope.WRITE),
                    description="Add, move or (with isDeleted) remove MDM same-company links; "
                                "companies regroup at once.")
    async def upsert_same_company_links(self, info: strawberry.Info[Context, None],
                                        links: Annotated[list[Any], records_of(
                                            SameCompanyLinkInput, f"The MDM links, {BATCH}.")]) -> IngestResult:
        return await _ingest(info, MDM_SOURCE, SAME_COMPANY, "links", links)
