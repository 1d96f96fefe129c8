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
    # What the column means and its format, as the upsert mutations' input fields describe it.
    description: str = ""

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


IS_DELETED = Column("IsDeleted", "isDeleted", fields.boolean, required=False, description=(
    "True removes the record instead of writing it (then only the identity fields are needed); "
    "false or none writes it."))


def _id(header: str = "Id", field: str = "sourceKey",
        description: str = "The record's id in this source, compared exactly (case-sensitive).") -> Column:
    return Column(header, field, fields.key, identity=True,
                  description=f"{description} At most {fields.MAX_KEY} characters.")


def _person_ref() -> Column:
    return _id("PersonId", "personKey", "The id of the person in this source.")


def _text(header: str, field: str, description: str, required: bool = False) -> Column:
    """A text column, its description saying so."""
    return Column(header, field, fields.text, required=required,
                  description=f"{description} Text, at most {fields.MAX_TEXT:,} characters.")


# A synced copy names the record it copies (CRM -> Marketo sync): the copy and its original are one
# record in the graph, known to both sources (docs/import-format.md, "Synced copies").
SYNCED_FROM = (
    Column("SyncedFromSource", "syncedFromSource", fields.text, required=False, description=(
        "For a synced copy: the name of the source of the record it copies, e.g. `CRM 1` (with syncedFromId)."
        " The copy and its original are one record.")),
    Column("SyncedFromId", "syncedFromKey", fields.key, required=False, description=(
        "For a synced copy: the id of the record it copies in syncedFromSource (with syncedFromSource).")),
)


PEOPLE = RecordSpec("people", (
    _id(),
    Column("Email", "email", fields.email, always_given=True, description=(
        "The person's email address (at most 320 characters); stored trimmed and lower-cased. Required even "
        "to delete.")),
    _text("FirstName", "firstName", "First name."),
    _text("LastName", "lastName", "Last name."),
    _text("Title", "title", "Job title."),
    Column("Unsubscribed", "unsubscribed", fields.boolean, required=False, description=(
        "This source's email consent flag: true when the person unsubscribed here (none is false).")),
    Column("AdvertisingOptOut", "advertisingOptOut", fields.boolean, required=False, description=(
        "True when the person opted out of ad targeting (LinkedIn) in this source (none is false).")),
    *SYNCED_FROM,
    IS_DELETED,
), key=("sourceKey",),
    upsert_query=Q.PEOPLE_UPSERT, delete_query=Q.PEOPLE_DELETE)

ACCOUNTS = RecordSpec("accounts", (
    _id(),
    _text("Name", "name", "The account's name.", required=True),
    _text("Industry", "industry", "The account's industry."),
    _text("BillingCountry", "country", "The account's billing country."),
    Column("NumberOfEmployees", "employees", fields.count, required=False, description=(
        "The account's number of employees (a whole number >= 0).")),
    _text("Website", "website", "The account's website."),
    Column("ParentId", "parentKey", fields.key, required=False, description=(
        "The id of its parent account in this source: the account's company is then a subsidiary of the "
        "parent's; none removes the parent this source gave before.")),
    *SYNCED_FROM,
    IS_DELETED,
), key=("sourceKey",), references=(Reference("parentKey", "ParentId", "accounts"),),
    upsert_query=Q.ACCOUNTS_UPSERT, delete_query=Q.ACCOUNTS_DELETE, keys_move_query=Q.ACCOUNTS_KEYS_MOVE,
    parent_query=Q.ACCOUNTS_PARENT_SET)

OPPORTUNITIES = RecordSpec("opportunities", (
    _id(),
    Column("AccountId", "accountKey", fields.key, description=(
        "The id of its account in this source; a changed id moves the deal to that account.")),
    _text("Name", "name", "The deal's name.", required=True),
    Column("Amount", "amount", fields.amount, description=(
        "The deal's amount in its currency (CurrencyIsoCode): a finite number >= 0; never converted.")),
    Column("CurrencyIsoCode", "currency", fields.currency, required=False, description=(
        "The ISO 4217 code of the amount's currency, three letters (e.g. USD); upper-cased.")),
    Column("StageName", "stage", fields.stage, description=(
        "One of Salesforce's standard stages (Prospecting ... Closed Won, Closed Lost); `Closed Won` makes it won, "
        "`Closed Won` and `Closed Lost` closed.")),
    Column("CloseDate", "closeDate", fields.iso_date, description="The close date (ISO 8601 date, YYYY-MM-DD)."),
    *SYNCED_FROM,
    IS_DELETED,
), key=("sourceKey",), references=(Reference("accountKey", "AccountId", "accounts"),),
    upsert_query=Q.OPPORTUNITIES_UPSERT, delete_query=Q.OPPORTUNITIES_DELETE,
    keys_move_query=Q.OPPORTUNITIES_KEYS_MOVE)

CAMPAIGNS = RecordSpec("campaigns", (
    _id(),
    _text("Name", "name", "The campaign's name.", required=True),
    _text("Type", "type", "The campaign's type (e.g. Webinar)."),
    _text("Status", "status", "The campaign's status (e.g. Planned, Completed)."),
    Column("StartDate", "startDate", fields.iso_date, required=False, description=(
        "The campaign's start date (ISO 8601 date, YYYY-MM-DD).")),
    IS_DELETED,
), key=("sourceKey",),
    upsert_query=Q.CAMPAIGNS_UPSERT, delete_query=Q.CAMPAIGNS_DELETE)

LISTS = RecordSpec("lists", (
    _id(),
    _text("Name", "name", "The list's name.", required=True),
    IS_DELETED,
), key=("sourceKey",),
    upsert_query=Q.LISTS_UPSERT, delete_query=Q.LISTS_DELETE)

WEB_VISITS = RecordSpec("web-visits", (
    _id(),
    Column("PersonId", "personKey", fields.key, description="The id of the visitor, a person of this source."),
    Column("Url", "url", fields.url, description=(
        "The page's URL, starting with http://, https:// or /; stored as given (visits rules compare it exactly).")),
    Column("VisitedAt", "visitedAt", fields.iso_datetime, not_after_now=True, description=(
        "When the page was visited (ISO 8601 date-time; no zone is UTC); not later than now.")),
    IS_DELETED,
), key=("sourceKey",), references=(Reference("personKey", "PersonId", "people"),),
    upsert_query=Q.WEB_VISITS_UPSERT, delete_query=Q.WEB_VISITS_DELETE)

ACCOUNT_PEOPLE = RecordSpec("account-people", (
    _id("AccountId", "accountKey", "The id of the account in this source."),
    _person_ref(),
    _text("Role", "role", "The person's role at the account (e.g. Decision Maker)."),
    IS_DELETED,
), key=("accountKey", "personKey"), references=(
    Reference("accountKey", "AccountId", "accounts"), Reference("personKey", "PersonId", "people")),
    upsert_query=Q.ACCOUNT_PEOPLE_UPSERT, delete_query=Q.ACCOUNT_PEOPLE_DELETE)

OPPORTUNITY_CONTACT_ROLES = RecordSpec("opportunity-contact-roles", (
    _id("OpportunityId", "opportunityKey", "The id of the opportunity in this source."),
    _person_ref(),
    _text("Role", "role", "The person's contact role on the deal (e.g. Decision Maker)."),
    Column("IsPrimary", "isPrimary", fields.boolean, required=False, description=(
        "True when the person is the deal's primary contact.")),
    IS_DELETED,
), key=("opportunityKey", "personKey"), references=(
    Reference("opportunityKey", "OpportunityId", "opportunities"), Reference("personKey", "PersonId", "people")),
    upsert_query=Q.OPPORTUNITY_CONTACT_ROLES_UPSERT, delete_query=Q.OPPORTUNITY_CONTACT_ROLES_DELETE)

CAMPAIGN_MEMBERS = RecordSpec("campaign-members", (
    _id("CampaignId", "campaignKey", "The id of the campaign in this source."),
    _person_ref(),
    _text("Status", "status", "The member's status in the campaign (e.g. Sent, Responded, Attended)."),
    IS_DELETED,
), key=("campaignKey", "personKey"), references=(
    Reference("campaignKey", "CampaignId", "campaigns"), Reference("personKey", "PersonId", "people")),
    upsert_query=Q.CAMPAIGN_MEMBERS_UPSERT, delete_query=Q.CAMPAIGN_MEMBERS_DELETE)

LIST_MEMBERS = RecordSpec("list-members", (
    _id("ListId", "listKey", "The id of the list in this source."),
    _person_ref(),
    IS_DELETED,
), key=("listKey", "personKey"), references=(
    Reference("listKey", "ListId", "lists"), Reference("personKey", "PersonId", "people")),
    upsert_query=Q.LIST_MEMBERS_UPSERT, delete_query=Q.LIST_MEMBERS_DELETE)

SAME_COMPANY = RecordSpec("same-company", (
    _id("LinkId", "mdmId", "The link's id in MDM."),
    _text("SourceA", "sourceA", "The source of the first account, e.g. `CRM 1`.", required=True),
    Column("AccountIdA", "keyA", fields.key, description="The first account's id in sourceA."),
    _text("SourceB", "sourceB", "The source of the second account, e.g. `CRM 2`.", required=True),
    Column("AccountIdB", "keyB", fields.key, description="The second account's id in sourceB."),
    Column("UpdatedAt", "updatedAt", fields.iso_datetime, required=False, description=(
        "When MDM last changed the link (ISO 8601 date-time; no zone is UTC); kept as lineage.")),
    IS_DELETED,
), key=("mdmId",), references=(
    Reference("keyA", "AccountIdA", "accounts", source_field="sourceA"),
    Reference("keyB", "AccountIdB", "accounts", source_field="sourceB")),
    upsert_query=Q.SAME_COMPANY_UPSERT, delete_query=Q.SAME_COMPANY_DELETE)

# MDM's corporate hierarchy: the first account's company is a subsidiary of the second's
# (docs/import-format.md, "Corporate families").
PARENTS = RecordSpec("parents", (
    _id("LinkId", "mdmId", "The link's id in MDM."),
    _text("SourceChild", "sourceChild", "The source of the subsidiary's account.", required=True),
    Column("AccountIdChild", "keyChild", fields.key, description="The subsidiary's account id in sourceChild."),
    _text("SourceParent", "sourceParent", "The source of the parent's account.", required=True),
    Column("AccountIdParent", "keyParent", fields.key, description="The parent's account id in sourceParent."),
    Column("UpdatedAt", "updatedAt", fields.iso_datetime, required=False, description=(
        "When MDM last changed the link (ISO 8601 date-time; no zone is UTC); kept as lineage.")),
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
