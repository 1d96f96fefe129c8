"""The import format: one RecordSpec per kind of record, the single source of its columns and rules.

docs/import-format.md describes the same format for people; keep the two in step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from service.ingest import fields
from service.queries import Q

# The Python type of the values each parser takes from a typed source (GraphQL); the others take text.
VALUE_TYPES: dict[Callable[[Any], Any], type] = {
    fields.boolean: bool, fields.count: int, fields.amount: float, fields.iso_date: date, fields.iso_datetime: datetime,
}


@dataclass(frozen=True)
class Column:
    header: str  # the CSV header and JSON Lines key
    field: str  # the name the row carries from here on
    parse: Callable[[Any], Any]
    required: bool = True
    identity: bool = False  # part of what a deletion row must still give
    always_given: bool = False  # the upsert mutations ask for it even to delete (a person's email)
    not_after_now: bool = False  # a moment that has happened (a visit): later than now is refused

    @property
    def api_name(self) -> str:
        """The column's name in the upsert mutations: the header in camelCase (AccountIdA: accountIdA)."""
        return self.header[0].lower() + self.header[1:]

    @property
    def value_type(self) -> type:
        return VALUE_TYPES.get(self.parse, str)

    @property
    def api_required(self) -> bool:
        return self.identity or self.always_given


@dataclass(frozen=True)
class Reference:
    """A column that names another record, which must be in the same import or in the graph."""

    field: str
    header: str
    target: str  # the RecordSpec name it refers to
    source_field: str | None = None  # MDM links name the source of the account too


@dataclass(frozen=True)
class RecordSpec:
    name: str  # file stem: accounts.csv / accounts.jsonl
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # fields that identify a record; repeated in one file is an error
    references: tuple[Reference, ...] = ()
    upsert_query: Q = field(kw_only=True)  # run with the file's upsert rows
    delete_query: Q = field(kw_only=True)  # run with its IsDeleted rows
    # Run with the upsert rows after the upserts: a source key a synced copy moved (docs/import-format.md).
    keys_move_query: Q | None = field(default=None, kw_only=True)
    # Run with the upsert rows once every record of the kind is written: an account's parent (ParentId),
    # which may be a record of the same file (docs/import-format.md, "Corporate families").
    parent_query: Q | None = field(default=None, kw_only=True)

    @property
    def headers(self) -> frozenset[str]:
        return frozenset(column.header for column in self.columns)

    def api_name_of(self, header: str) -> str:
        """The upsert mutations' name of a column given by its header; anything else ("-") as it is."""
        return next((column.api_name for column in self.columns if column.header == header), header)

    def record_id(self, values: Mapping[str, Any]) -> str:
        """The record's id as its row gives it (values by header), for errors: the key's value, or the
        key's values joined by ", " (AccountId, PersonId); empty if a key value is missing or invalid."""
        try:
            keys = [fields.key(values.get(self.header_of(name))) for name in self.key]
        except ValueError:
            return ""
        return ", ".join(keys) if all(keys) else ""

    def row_id(self, row: Mapping[str, Any]) -> str:
        """The same id from a parsed row (values by field), whose key values are valid."""
        return ", ".join(str(row[name]) for name in self.key)

    def header_of(self, field_name: str) -> str:
        return next(column.header for column in self.columns if column.field == field_name)


IS_DELETED = Column("IsDeleted", "isDeleted", fields.boolean, required=False)


def _id(header: str = "Id", field: str = "sourceKey") -> Column:
    return Column(header, field, fields.key, identity=True)


def _person_ref() -> Column:
    return _id("PersonId", "personKey")


# A synced copy names the record it copies (CRM -> Marketo sync): the copy and its original are one
# record in the graph, known to both sources (docs/import-format.md, "Synced copies").
SYNCED_FROM = (
    Column("SyncedFromSource", "syncedFromSource", fields.text, required=False),
    Column("SyncedFromId", "syncedFromKey", fields.key, required=False),
)


PEOPLE = RecordSpec("people", (
    _id(),
    Column("Email", "email", fields.email, always_given=True),
    Column("FirstName", "firstName", fields.text, required=False),
    Column("LastName", "lastName", fields.text, required=False),
    Column("Title", "title", fields.text, required=False),
    Column("Unsubscribed", "unsubscribed", fields.boolean, required=False),
    Column("AdvertisingOptOut", "advertisingOptOut", fields.boolean, required=False),
    *SYNCED_FROM,
    IS_DELETED,
), key=("sourceKey",),
    upsert_query=Q.PEOPLE_UPSERT, delete_query=Q.PEOPLE_DELETE)

ACCOUNTS = RecordSpec("accounts", (
    _id(),
    Column("Name", "name", fields.text),
    Column("Industry", "industry", fields.text, required=False),
    Column("BillingCountry", "country", fields.text, required=False),
    Column("NumberOfEmployees", "employees", fields.count, required=False),
    Column("Website", "website", fields.text, required=False),
    Column("ParentId", "parentKey", fields.key, required=False),
    *SYNCED_FROM,
    IS_DELETED,
), key=("sourceKey",), references=(Reference("parentKey", "ParentId", "accounts"),),
    upsert_query=Q.ACCOUNTS_UPSERT, delete_query=Q.ACCOUNTS_DELETE, keys_move_query=Q.ACCOUNTS_KEYS_MOVE,
    parent_query=Q.ACCOUNTS_PARENT_SET)

OPPORTUNITIES = RecordSpec("opportunities", (
    _id(),
    Column("AccountId", "accountKey", fields.key),
    Column("Name", "name", fields.text),
    Column("Amount", "amount", fields.amount),
    Column("CurrencyIsoCode", "currency", fields.currency, required=False),
    Column("StageName", "stage", fields.stage),
    Column("CloseDate", "closeDate", fields.iso_date),
    *SYNCED_FROM,
    IS_DELETED,
), key=("sourceKey",), references=(Reference("accountKey", "AccountId", "accounts"),),
    upsert_query=Q.OPPORTUNITIES_UPSERT, delete_query=Q.OPPORTUNITIES_DELETE,
    keys_move_query=Q.OPPORTUNITIES_KEYS_MOVE)

CAMPAIGNS = RecordSpec("campaigns", (
    _id(),
    Column("Name", "name", fields.text),
    Column("Type", "type", fields.text, required=False),
    Column("Status", "status", fields.text, required=False),
    Column("StartDate", "startDate", fields.iso_date, required=False),
    IS_DELETED,
), key=("sourceKey",),
    upsert_query=Q.CAMPAIGNS_UPSERT, delete_query=Q.CAMPAIGNS_DELETE)

LISTS = RecordSpec("lists", (
    _id(),
    Column("Name", "name", fields.text),
    IS_DELETED,
), key=("sourceKey",),
    upsert_query=Q.LISTS_UPSERT, delete_query=Q.LISTS_DELETE)

WEB_VISITS = RecordSpec("web-visits", (
    _id(),
    Column("PersonId", "personKey", fields.key),
    Column("Url", "url", fields.url),
    Column("VisitedAt", "visitedAt", fields.iso_datetime, not_after_now=True),
    IS_DELETED,
), key=("sourceKey",), references=(Reference("personKey", "PersonId", "people"),),
    upsert_query=Q.WEB_VISITS_UPSERT, delete_query=Q.WEB_VISITS_DELETE)

ACCOUNT_PEOPLE = RecordSpec("account-people", (
    _id("AccountId", "accountKey"),
    _person_ref(),
    Column("Role", "role", fields.text, required=False),
    IS_DELETED,
), key=("accountKey", "personKey"), references=(
    Reference("accountKey", "AccountId", "accounts"), Reference("personKey", "PersonId", "people")),
    upsert_query=Q.ACCOUNT_PEOPLE_UPSERT, delete_query=Q.ACCOUNT_PEOPLE_DELETE)

OPPORTUNITY_CONTACT_ROLES = RecordSpec("opportunity-contact-roles", (
    _id("OpportunityId", "opportunityKey"),
    _person_ref(),
    Column("Role", "role", fields.text, required=False),
    Column("IsPrimary", "isPrimary", fields.boolean, required=False),
    IS_DELETED,
), key=("opportunityKey", "personKey"), references=(
    Reference("opportunityKey", "OpportunityId", "opportunities"), Reference("personKey", "PersonId", "people")),
    upsert_query=Q.OPPORTUNITY_CONTACT_ROLES_UPSERT, delete_query=Q.OPPORTUNITY_CONTACT_ROLES_DELETE)

CAMPAIGN_MEMBERS = RecordSpec("campaign-members", (
    _id("CampaignId", "campaignKey"),
    _person_ref(),
    Column("Status", "status", fields.text, required=False),
    IS_DELETED,
), key=("campaignKey", "personKey"), references=(
    Reference("campaignKey", "CampaignId", "campaigns"), Reference("personKey", "PersonId", "people")),
    upsert_query=Q.CAMPAIGN_MEMBERS_UPSERT, delete_query=Q.CAMPAIGN_MEMBERS_DELETE)

LIST_MEMBERS = RecordSpec("list-members", (
    _id("ListId", "listKey"),
    _person_ref(),
    IS_DELETED,
), key=("listKey", "personKey"), references=(
    Reference("listKey", "ListId", "lists"), Reference("personKey", "PersonId", "people")),
    upsert_query=Q.LIST_MEMBERS_UPSERT, delete_query=Q.LIST_MEMBERS_DELETE)

SAME_COMPANY = RecordSpec("same-company", (
    _id("LinkId", "mdmId"),
    Column("SourceA", "sourceA", fields.text),
    Column("AccountIdA", "keyA", fields.key),
    Column("SourceB", "sourceB", fields.text),
    Column("AccountIdB", "keyB", fields.key),
    Column("UpdatedAt", "updatedAt", fields.iso_datetime, required=False),
    IS_DELETED,
), key=("mdmId",), references=(
    Reference("keyA", "AccountIdA", "accounts", source_field="sourceA"),
    Reference("keyB", "AccountIdB", "accounts", source_field="sourceB")),
    upsert_query=Q.SAME_COMPANY_UPSERT, delete_query=Q.SAME_COMPANY_DELETE)

# MDM's corporate hierarchy: the first account's company is a subsidiary of the second's
# (docs/import-format.md, "Corporate families").
PARENTS = RecordSpec("parents", (
    _id("LinkId", "mdmId"),
    Column("SourceChild", "sourceChild", fields.text),
    Column("AccountIdChild", "keyChild", fields.key),
    Column("SourceParent", "sourceParent", fields.text),
    Column("AccountIdParent", "keyParent", fields.key),
    Column("UpdatedAt", "updatedAt", fields.iso_datetime, required=False),
    IS_DELETED,
), key=("mdmId",), references=(
    Reference("keyChild", "AccountIdChild", "accounts", source_field="sourceChild"),
    Reference("keyParent", "AccountIdParent", "accounts", source_field="sourceParent")),
    upsert_query=Q.PARENTS_UPSERT, delete_query=Q.PARENTS_DELETE)

# In write order: records before the relationships that MATCH them.
SOURCE_SPECS: tuple[RecordSpec, ...] = (
    PEOPLE, ACCOUNTS, OPPORTUNITIES, CAMPAIGNS, LISTS,
    WEB_VISITS, ACCOUNT_PEOPLE, OPPORTUNITY_CONTACT_ROLES, CAMPAIGN_MEMBERS, LIST_MEMBERS,
)
MDM_SPECS: tuple[RecordSpec, ...] = (SAME_COMPANY, PARENTS)
MDM_SOURCE = "MDM"
