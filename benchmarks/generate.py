"""Synthetic multi-source exports in the import format (service/ingest/specs.py), for tests and benchmarks.

Not part of the product: `python -m benchmarks.generate --people N OUT` from a checkout (the word
lists it draws names, titles, products and pages from are in generate_vocabulary.json next to it).

`generate(out, people=N)` writes what four source instances and MDM would export for about N
people: `marketo-1/`, `marketo-2/`, `crm-1/`, `crm-2/` (one CSV file per record kind) and
`mdm/same-company.csv`, plus a `manifest.toml` like the seed's, so the tree can be imported folder
by folder with `accountgraph ingest` or loaded with `accountgraph seed --dir`.

The shape, at N people: about N/10 accounts, grouped into companies of 1-4 accounts, each account
of a company in a different source; MDM links chain a company's accounts (A-B, B-C), so only
transitivity joins A and C. About 3 opportunities per account in every stage, log-normal amounts.
Each person works for one company, is a contact of 1-2 of its accounts and is a record of every
source holding one of them, under that source's own id and sometimes with the email written
differently (" Jane.Doe@Example.com"). About 5 web visits per person over the year before `as_of`,
all in Marketo sources. Campaigns, lists and contact roles at modest volume. Nothing is deleted.

Synced copies, as in the use case: each Marketo instance syncs from the CRM of its line of business
(Marketo 1 from CRM 1, Marketo 2 from CRM 2). SYNCED_ACCOUNT_SHARE of each CRM's accounts are also
exported by its Marketo instance as copies: Marketo's own Id, `SyncedFromSource` = the CRM's name,
`SyncedFromId` = the CRM account's Id, the same values. Every opportunity of a copied account is
copied too (Marketo's own Id, `AccountId` = the Marketo copy's Id, `SyncedFrom*` naming the CRM
opportunity); STALE_COPY_SHARE of them are stale: another Amount, or a stage that disagrees on the
win (open where the CRM says Closed Won, Closed Won where it does not). The CRM, the system of
record, wins. The contacts of a copied account are synced with it: their
Marketo record is a contact of the copy, and a Marketo record of a person the CRM knows names the
CRM contact in `SyncedFrom*`. A copy and its original are one record: counted once, the CRM's
values for amount, stage and close date. MDM links join the original accounts only.

Deterministic: one `random.Random(seed)` drives everything and the files are written in a fixed
order, so the same arguments give byte-identical files. Records of people are streamed to the files
as they are made; only companies, accounts and opportunity keys are held in memory.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import accumulate, chain, count
from pathlib import Path
from typing import IO, Any

from service.ingest import specs

DEFAULT_AS_OF = date(2026, 11, 1)
NEW_PRODUCT_PAGE = "https://www.bodea.com/products/new-product"
MDM_FOLDER = "mdm"
MANIFEST = "manifest.toml"

# Volumes: tuned so that at N people there are ~N/10 accounts, ~0.3 N opportunities, ~5 N visits.
PEOPLE_PER_ACCOUNT = 10
COMPANY_SIZES = (1, 2, 3, 4)
COMPANY_SIZE_WEIGHTS = (40, 30, 20, 10)
MAX_OPPORTUNITIES_PER_ACCOUNT = 6  # uniform 0..6: 3 on average
SECOND_ACCOUNT_SHARE = 0.35  # people of a multi-account company who are contacts of two of its accounts
MEAN_VISITS = 5.0
MAX_VISITS = 80
VISIT_HORIZON_DAYS = 365
AUDIENCE_WINDOW_DAYS = 30
BOUNDARY_MARGIN = timedelta(hours=1)
EMAIL_VARIANT_SHARE = 0.2
CAMPAIGN_MEMBER_SHARE = 0.2
LIST_MEMBER_SHARE = 0.15
CONTACT_ROLE_SHARE = 0.3
PRIMARY_CONTACT_SHARE = 0.6
PEOPLE_PER_CAMPAIGN = 2_500
PEOPLE_PER_LIST = 5_000


@dataclass(frozen=True)
class SourceSystem:
    name: str
    folder: str
    code: str  # makes this source's ids its own, like a Salesforce org's key prefix suffix
    marketo: bool
    synced_from: str | None = None  # the CRM a Marketo instance syncs accounts, deals and contacts from

    def record_kinds(self) -> tuple[specs.RecordSpec, ...]:
        """CRMs export neither web visits nor static lists."""
        skipped = () if self.marketo else (specs.WEB_VISITS, specs.LISTS, specs.LIST_MEMBERS)
        return tuple(spec for spec in specs.SOURCE_SPECS if spec not in skipped)


SOURCES: tuple[SourceSystem, ...] = (
    SourceSystem("Marketo 1", "marketo-1", "1A", marketo=True, synced_from="CRM 1"),
    SourceSystem("Marketo 2", "marketo-2", "2B", marketo=True, synced_from="CRM 2"),
    SourceSystem("CRM 1", "crm-1", "3C", marketo=False),
    SourceSystem("CRM 2", "crm-2", "4D", marketo=False),
)
MARKETO_SOURCES: tuple[int, ...] = tuple(i for i, source in enumerate(SOURCES) if source.marketo)
# CRM -> the Marketo instance that syncs from it (source indexes).
SYNCED_INTO: dict[int, int] = {
    next(i for i, crm in enumerate(SOURCES) if crm.name == marketo.synced_from): m
    for m, marketo in enumerate(SOURCES) if marketo.synced_from}
SYNCED_ACCOUNT_SHARE = 0.3  # of a synced CRM's accounts, exported by its Marketo instance as copies too
STALE_COPY_SHARE = 0.15  # of the copied opportunities, whose copy has another Amount, or disagrees on the win

# The columns written per record kind, in this order (IsDeleted is never written: nothing is deleted).
SYNCED = ("SyncedFromSource", "SyncedFromId")  # empty but in a synced copy
NOT_SYNCED = ("", "")
HEADERS: dict[str, tuple[str, ...]] = {
    "people": ("Id", "Email", "FirstName", "LastName", "Title", "Unsubscribed", *SYNCED),
    "accounts": ("Id", "Name", "Industry", "BillingCountry", "NumberOfEmployees", "Website", *SYNCED),
    "opportunities": ("Id", "AccountId", "Name", "Amount", "CurrencyIsoCode", "StageName", "CloseDate", *SYNCED),
    "campaigns": ("Id", "Name", "Type", "Status", "StartDate"),
    "lists": ("Id", "Name"),
    "web-visits": ("Id", "PersonId", "Url", "VisitedAt"),
    "account-people": ("AccountId", "PersonId", "Role"),
    "opportunity-contact-roles": ("OpportunityId", "PersonId", "Role", "IsPrimary"),
    "campaign-members": ("CampaignId", "PersonId", "Status"),
    "list-members": ("ListId", "PersonId"),
    "same-company": ("LinkId", "SourceA", "AccountIdA", "SourceB", "AccountIdB", "UpdatedAt"),
}


def _check_headers() -> None:
    """Fail on import, not at ingest, if the import format moves away from these columns (of the kinds
    written: no corporate hierarchy, `parents`, is generated)."""
    for spec in (*specs.SOURCE_SPECS, *specs.MDM_SPECS):
        if spec.name not in HEADERS:
            continue
        unknown = set(HEADERS[spec.name]) - spec.headers
        if unknown:
            raise RuntimeError(f"benchmarks.generate writes {sorted(unknown)} that {spec.name} no longer has")


_check_headers()

# ---- vocabulary -------------------------------------------------------------------------------

VOCABULARY_FILE = Path(__file__).with_name("generate_vocabulary.json")


def _load_vocabulary() -> dict[str, Any]:
    with VOCABULARY_FILE.open(encoding="utf-8") as handle:
        vocabulary: dict[str, Any] = json.load(handle)
    return vocabulary


_WORDS = _load_vocabulary()
FIRST_NAMES: tuple[str, ...] = tuple(_WORDS["first_names"])
LAST_NAMES: tuple[str, ...] = tuple(_WORDS["last_names"])
TITLES: tuple[str, ...] = tuple(_WORDS["titles"])
PREFIXES: tuple[str, ...] = tuple(_WORDS["company_name_prefixes"])
CORES: tuple[str, ...] = tuple(_WORDS["company_name_cores"])
INDUSTRIES: dict[str, tuple[str, ...]] = {industry: tuple(words) for industry, words in _WORDS["industries"].items()}
COUNTRIES: tuple[tuple[str, str, int], ...] = tuple(  # (BillingCountry, top-level domain, weight)
    (country, tld, weight) for country, tld, weight in _WORDS["countries"])
LEGAL_FORMS: tuple[str, ...] = tuple(_WORDS["legal_forms"])
ACCOUNT_ROLES: tuple[str, ...] = tuple(_WORDS["account_roles"])
CONTACT_ROLES: tuple[str, ...] = tuple(_WORDS["contact_roles"])
PRODUCTS: tuple[str, ...] = tuple(_WORDS["products"])
CLOSED_WON, CLOSED_LOST = "Closed Won", "Closed Lost"
OPEN_STAGES = (
    "Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
    "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review",
)
STAGES = (CLOSED_WON, CLOSED_LOST, *OPEN_STAGES)
STAGE_CUMULATIVE = tuple(accumulate((30.0, 25.0, *(45 / len(OPEN_STAGES),) * len(OPEN_STAGES))))  # 30% won
AMOUNT_MEDIAN = 40_000.0
AMOUNT_SIGMA = 1.1
SITE = "https://www.bodea.com"
PAGES: tuple[tuple[str, int], ...] = tuple(  # (url, weight): the new product page gets ~8% of the visits
    (f"{SITE}{path}", weight) for path, weight in _WORDS["pages"])
PAGE_URLS = tuple(url for url, _ in PAGES)
PAGE_CUMULATIVE = tuple(accumulate(weight for _, weight in PAGES))
CAMPAIGN_TYPES: tuple[str, ...] = tuple(_WORDS["campaign_types"])
CAMPAIGN_STATUSES: tuple[str, ...] = tuple(_WORDS["campaign_statuses"])
MEMBER_STATUSES: tuple[str, ...] = tuple(_WORDS["member_statuses"])
LIST_THEMES: tuple[str, ...] = tuple(_WORDS["list_themes"])
if NEW_PRODUCT_PAGE not in PAGE_URLS:
    raise RuntimeError(f"{VOCABULARY_FILE.name} has no page {NEW_PRODUCT_PAGE}: the audience rule looks for it")


# ---- the model held in memory -----------------------------------------------------------------


@dataclass(slots=True)
class Company:
    name: str
    domain: str
    industry: str
    country: str
    employees: int
    accounts: list[int] = field(default_factory=list)  # indexes into the account list
    locals_used: set[str] = field(default_factory=set)  # email local parts given out at the domain


@dataclass(slots=True)
class Account:
    company: int
    source: int  # index into SOURCES
    key: str
    opportunities: list[int] = field(default_factory=list)  # indexes into the opportunity key list
    copy_key: str | None = None  # the Id of its synced copy in the Marketo instance SYNCED_INTO, if any


@dataclass(slots=True)
class Person:
    first: str
    last: str
    title: str
    email: str  # the canonical form: trimmed, lower case
    keys: dict[int, str] = field(default_factory=dict)  # source index -> the person's id there


@dataclass(frozen=True)
class GenerationSummary:
    """What one generation wrote: rows per file (path relative to `out`, header not counted)."""

    out: Path
    as_of: date
    seed: int
    people: int
    companies: int
    accounts: int  # records: a synced copy and its original are one
    rows: dict[str, int]
    copies: dict[str, int]  # synced copies written, per record kind ("accounts", "opportunities", "people")

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def rows_of(self, record_kind: str) -> int:
        """Rows of one record kind (e.g. "people") over all folders."""
        return sum(n for path, n in self.rows.items() if Path(path).stem == record_kind)

    def __str__(self) -> str:
        width = max(len(path) for path in self.rows)
        lines = [f"Generated {self.out} (seed {self.seed}, as of {self.as_of}): {self.people:,} people, "
                 f"{self.companies:,} companies, {self.accounts:,} accounts; synced copies: "
                 + ", ".join(f"{n:,} {kind}" for kind, n in self.copies.items())]
        lines += [f"  {path:<{width}}  {n:>12,}" for path, n in self.rows.items()]
        lines.append(f"  {'total rows':<{width}}  {self.total_rows:>12,}")
        return "\n".join(lines)


# ---- files ------------------------------------------------------------------------------------


class _Sink:
    """One CSV file being written, with its row count."""

    __slots__ = ("handle", "writer", "rows")

    def __init__(self, path: Path, headers: tuple[str, ...]) -> None:
        self.handle: IO[str] = path.open("w", newline="", encoding="utf-8", buffering=1 << 20)
        self.writer = csv.writer(self.handle, lineterminator="\n")
        self.writer.writerow(headers)
        self.rows = 0

    def write(self, row: tuple[Any, ...]) -> None:
        self.writer.writerow(row)
        self.rows += 1


class _Export:
    """Every file of the export tree, open at once so rows can be streamed to any of them."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.sinks: dict[str, _Sink] = {}  # "marketo-1/people.csv" -> sink
        self.copies: dict[str, int] = {"accounts": 0, "opportunities": 0, "people": 0}
        for source in SOURCES:
            for spec in source.record_kinds():
                self._open(source.folder, spec.name)
        for spec in specs.MDM_SPECS:
            if spec.name in HEADERS:  # no corporate hierarchy (parents) is generated
                self._open(MDM_FOLDER, spec.name)

    def _open(self, folder: str, name: str) -> None:
        (self.out / folder).mkdir(parents=True, exist_ok=True)
        self.sinks[f"{folder}/{name}.csv"] = _Sink(self.out / folder / f"{name}.csv", HEADERS[name])

    def sink(self, source: int, name: str) -> _Sink:
        return self.sinks[f"{SOURCES[source].folder}/{name}.csv"]

    def copy(self, source: int, name: str, row: tuple[Any, ...]) -> None:
        """A synced copy's row (its last two cells name the original), counted as a copy."""
        self.sink(source, name).write(row)
        self.copies[name] += 1

    def mdm(self) -> _Sink:
        return self.sinks[f"{MDM_FOLDER}/same-company.csv"]

    def close(self) -> None:
        for sink in self.sinks.values():
            sink.handle.close()

    def rows(self) -> dict[str, int]:
        return {path: sink.rows for path, sink in self.sinks.items()}


@contextmanager
def _export(out: Path) -> Iterator[_Export]:
    export = _Export(out)
    try:
        yield export
    finally:
        export.close()


def write_manifest(out: Path, people: int, seed: int, as_of: date) -> None:
    """The manifest names the sources and the day the data is relative to, as the seed's does."""
    command = f"python -m benchmarks.generate --people {people} --seed {seed} --as-of {as_of.isoformat()}"
    lines = [
        f"# Synthetic export: `{command}`",
        "# (benchmarks/generate.py). Web visits lie in the year before `as_of`; `accountgraph ingest` stores",
        "# them as given, `accountgraph seed --dir` shifts them so that they keep their age.",
        f"as_of = {as_of.isoformat()}",
    ]
    for source in SOURCES:
        lines += ["", "[[sources]]", f'folder = "{source.folder}"', f'name = "{source.name}"']
    lines += ["", "[mdm]", f'folder = "{MDM_FOLDER}"', ""]
    (out / MANIFEST).write_text("\n".join(lines), encoding="utf-8")


# ---- ids --------------------------------------------------------------------------------------


class _Ids:
    """Per-source counters for the ids each source gives its records, in the style of that source."""

    def __init__(self) -> None:
        self.next: dict[tuple[int, str], int] = {}

    def _take(self, source: int, kind: str) -> int:
        number = self.next.get((source, kind), 1)
        self.next[(source, kind)] = number + 1
        return number

    def account(self, source: int) -> str:
        return f"001{SOURCES[source].code}{self._take(source, 'account'):010d}"

    def opportunity(self, source: int) -> str:
        return f"006{SOURCES[source].code}{self._take(source, 'opportunity'):010d}"

    def campaign(self, source: int) -> str:
        return f"701{SOURCES[source].code}{self._take(source, 'campaign'):07d}"

    def list(self, source: int) -> str:
        return str(1000 + self._take(source, "list"))

    def person(self, source: int) -> str:
        """Marketo lead ids are numbers; CRM contact ids are Salesforce-style keys."""
        number = self._take(source, "person")
        if SOURCES[source].marketo:
            return str((source + 1) * 10_000_000 + number)
        return f"003{SOURCES[source].code}{number:010d}"

    def visit(self, source: int) -> str:
        return f"m{source + 1}-visit-{self._take(source, 'visit'):09d}"


# ---- companies, accounts, opportunities -------------------------------------------------------


def _company_name(rng: random.Random, taken: set[str]) -> tuple[str, str]:
    """A unique (name, industry); after a few collisions a number makes it unique."""
    for _ in range(8):
        industry = rng.choice(tuple(INDUSTRIES))
        name = f"{rng.choice(PREFIXES)}{rng.choice(CORES)} {rng.choice(INDUSTRIES[industry])}"
        if name not in taken:
            break
    else:
        name = f"{name} {len(taken) + 1}"
    taken.add(name)
    return name, industry


def _domain(name: str, tld: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum()) + "." + tld


def _make_company(rng: random.Random, taken: set[str]) -> Company:
    name, industry = _company_name(rng, taken)
    country, tld, _ = rng.choices(COUNTRIES, weights=[w for _, _, w in COUNTRIES])[0]
    employees = int(rng.lognormvariate(math.log(400), 1.4)) + 5
    return Company(name, _domain(name, tld), industry, country, employees)


def _make_companies(rng: random.Random, total_accounts: int, ids: _Ids) -> tuple[list[Company], list[Account]]:
    """Companies of 1-4 accounts, each account in a different source, until there are total_accounts."""
    companies: list[Company] = []
    accounts: list[Account] = []
    taken: set[str] = set()
    while len(accounts) < total_accounts:
        size = min(rng.choices(COMPANY_SIZES, weights=COMPANY_SIZE_WEIGHTS)[0], total_accounts - len(accounts))
        company = _make_company(rng, taken)
        for source in rng.sample(range(len(SOURCES)), size):
            company.accounts.append(len(accounts))
            accounts.append(Account(len(companies), source, ids.account(source)))
        companies.append(company)
    return companies, accounts


def _account_name(rng: random.Random, company: Company) -> str:
    """Each source spells the company its own way, as in the seed (Townsend / Townsend Inc.)."""
    style = rng.randrange(6)
    if style == 0:
        return company.name.upper()
    if style in (1, 2):
        form = rng.choice(LEGAL_FORMS)
        return f"{company.name}{form}" if form.startswith(",") else f"{company.name} {form}"
    return company.name


def _website(rng: random.Random, company: Company) -> str:
    return rng.choice((f"https://www.{company.domain}", f"www.{company.domain}", company.domain, ""))


def _write_accounts(rng: random.Random, export: _Export, companies: list[Company], accounts: list[Account],
                    ids: _Ids) -> None:
    """Every account in its source; SYNCED_ACCOUNT_SHARE of a synced CRM's also as a copy in its Marketo."""
    for account in accounts:
        company = companies[account.company]
        values = (_account_name(rng, company), company.industry, company.country, company.employees,
                  _website(rng, company))
        export.sink(account.source, "accounts").write((account.key, *values, *NOT_SYNCED))
        marketo = SYNCED_INTO.get(account.source)
        if marketo is not None and rng.random() < SYNCED_ACCOUNT_SHARE:
            account.copy_key = ids.account(marketo)
            export.copy(marketo, "accounts", (account.copy_key, *values, SOURCES[account.source].name, account.key))


def _amount(rng: random.Random) -> int:
    """Log-normal deal sizes in whole tens of dollars (whole numbers sum exactly as floats)."""
    return max(500, int(round(rng.lognormvariate(math.log(AMOUNT_MEDIAN), AMOUNT_SIGMA), -1)))


def _close_date(rng: random.Random, stage: str, as_of: date) -> date:
    if stage in (CLOSED_WON, CLOSED_LOST):
        return as_of - timedelta(days=rng.randint(1, VISIT_HORIZON_DAYS))
    return as_of + timedelta(days=rng.randint(1, 270))


def _write_opportunities(rng: random.Random, export: _Export, companies: list[Company], accounts: list[Account],
                         ids: _Ids, as_of: date) -> list[str]:
    """0-6 opportunities per account in the account's source, and a copy of each in the Marketo
    instance that holds a copy of the account; returns the originals' ids, in writing order."""
    keys: list[str] = []
    for account in accounts:
        sink = export.sink(account.source, "opportunities")
        short = companies[account.company].name
        for _ in range(rng.randint(0, MAX_OPPORTUNITIES_PER_ACCOUNT)):
            stage = rng.choices(STAGES, cum_weights=STAGE_CUMULATIVE)[0]
            key = ids.opportunity(account.source)
            name, amount, close = f"{short}: {rng.choice(PRODUCTS)}", _amount(rng), _close_date(rng, stage, as_of)
            sink.write((key, account.key, name, amount, "USD", stage, close.isoformat(), *NOT_SYNCED))
            if account.copy_key is not None:
                marketo = SYNCED_INTO[account.source]
                if rng.random() < STALE_COPY_SHARE:  # the copy still has what the CRM said before
                    if rng.random() < 0.5:
                        amount = _amount(rng)
                    else:  # a win the copy has not seen yet, or one the CRM has taken back
                        stage = OPEN_STAGES[-1] if stage == CLOSED_WON else CLOSED_WON
                        close = _close_date(rng, stage, as_of)
                export.copy(marketo, "opportunities", (
                    ids.opportunity(marketo), account.copy_key, name, amount, "USD", stage, close.isoformat(),
                    SOURCES[account.source].name, key))
            account.opportunities.append(len(keys))
            keys.append(key)
    return keys


def _write_same_company_links(rng: random.Random, export: _Export, companies: list[Company],
                              accounts: list[Account], as_of: date) -> None:
    """A chain per company (A-B, B-C, C-D), each link in a random direction: never a star."""
    sink = export.mdm()
    number = 0
    for company in companies:
        for left, right in zip(company.accounts, company.accounts[1:], strict=False):
            a, b = (accounts[left], accounts[right]) if rng.random() < 0.5 else (accounts[right], accounts[left])
            number += 1
            updated = datetime.combine(as_of, time()) - timedelta(seconds=rng.randrange(VISIT_HORIZON_DAYS * 86_400))
            sink.write((f"MDM-{number:08d}", SOURCES[a.source].name, a.key, SOURCES[b.source].name, b.key,
                        updated.isoformat() + "Z"))


def _write_campaigns_and_lists(rng: random.Random, export: _Export, people: int, ids: _Ids,
                               as_of: date) -> tuple[list[list[str]], list[list[str]]]:
    """Campaigns in every source, static lists in Marketo sources; returns their ids per source."""
    campaigns: list[list[str]] = [[] for _ in SOURCES]
    lists: list[list[str]] = [[] for _ in SOURCES]
    for source, system in enumerate(SOURCES):
        for _ in range(max(4, people // PEOPLE_PER_CAMPAIGN)):
            key = ids.campaign(source)
            kind = rng.choice(CAMPAIGN_TYPES)
            start = as_of - timedelta(days=rng.randint(-60, VISIT_HORIZON_DAYS))
            export.sink(source, "campaigns").write((
                key, f"{start:%Y-%m} {kind}: {rng.choice(PRODUCTS)}", kind, rng.choice(CAMPAIGN_STATUSES),
                start.isoformat()))
            campaigns[source].append(key)
        if system.marketo:
            for _ in range(max(3, people // PEOPLE_PER_LIST)):
                key = ids.list(source)
                export.sink(source, "lists").write((key, f"{rng.choice(LIST_THEMES)} {key}"))
                lists[source].append(key)
    return campaigns, lists


# ---- people -----------------------------------------------------------------------------------


def _email_local(company: Company, first: str, last: str) -> str:
    """first.last, or a variant of it not yet given out at the company's domain: emails are unique."""
    base = f"{first}.{last}".lower()
    candidates = chain((base, f"{first[0]}{last}".lower(), f"{first}{last[0]}".lower()),
                       (f"{base}{number}" for number in count(2)))
    local = next(candidate for candidate in candidates if candidate not in company.locals_used)
    company.locals_used.add(local)
    return local


def _email_as_written(rng: random.Random, email: str) -> str:
    """Sources keep what was typed: sometimes capitals and stray spaces (" Jane.Doe@Example.com")."""
    if rng.random() >= EMAIL_VARIANT_SHARE:
        return email
    local, domain = email.split("@")
    style = rng.randrange(4)
    if style == 0:
        return f" {'.'.join(part.capitalize() for part in local.split('.'))}@{domain.capitalize()}"
    if style == 1:
        return email.upper()
    if style == 2:
        return f"{email} "
    return f"{local.capitalize()}@{domain}"


def _visit_times(rng: random.Random, count: int, reference: datetime) -> list[datetime]:
    """Uniform over the year before `reference`, never on the day 30 days before it (± an hour).

    The audience query cuts at "now - 30 days"; when `reference` is today's midnight (UTC), that
    cut-off falls somewhere in the excluded stretch whatever time of day the query runs, so a
    check computed from the files cannot disagree with the graph about a visit at the boundary.
    """
    gap_start = reference - timedelta(days=AUDIENCE_WINDOW_DAYS) - BOUNDARY_MARGIN
    gap_end = reference - timedelta(days=AUDIENCE_WINDOW_DAYS - 1) + BOUNDARY_MARGIN
    times: list[datetime] = []
    while len(times) < count:
        moment = reference - timedelta(seconds=rng.randrange(1, VISIT_HORIZON_DAYS * 86_400))
        if not gap_start <= moment < gap_end:
            times.append(moment)
    times.sort()
    return times


def _page(rng: random.Random) -> str:
    return rng.choices(PAGE_URLS, cum_weights=PAGE_CUMULATIVE)[0]


class _PeopleWriter:
    """Makes people one at a time and streams every row about them to the files of their sources."""

    def __init__(self, rng: random.Random, export: _Export, ids: _Ids, companies: list[Company],
                 accounts: list[Account], opportunities: list[str], campaigns: list[list[str]],
                 lists: list[list[str]], as_of: date) -> None:
        self.rng, self.export, self.ids = rng, export, ids
        self.companies, self.accounts = companies, accounts
        self.opportunities = opportunities
        self.primary_given = bytearray(len(opportunities))  # one primary contact per opportunity at most
        self.campaigns, self.lists = campaigns, lists
        self.reference = datetime.combine(as_of, time())

    def write(self) -> None:
        rng = self.rng
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        home = rng.randrange(len(self.accounts))  # bigger companies (more accounts) get more people
        company = self.companies[self.accounts[home].company]
        person = Person(first, last, rng.choice(TITLES),
                        f"{_email_local(company, first, last)}@{company.domain}")
        for account in self._accounts_of(home, company):
            self._write_contact(person, account)
        self._write_visits(person)

    def _accounts_of(self, home: int, company: Company) -> list[int]:
        chosen = [home]
        if len(company.accounts) > 1 and self.rng.random() < SECOND_ACCOUNT_SHARE:
            chosen.append(self.rng.choice([a for a in company.accounts if a != home]))
        return chosen

    def _add_to_source(self, person: Person, source: int) -> str:
        """The person's record in the source (its own id, the email as that source has it); in a
        Marketo instance, a synced copy of their contact in its CRM if that CRM knows them."""
        rng = self.rng
        key = self.ids.person(source)
        person.keys[source] = key
        unsubscribed = ("true" if rng.random() < 0.03 else "false") if SOURCES[source].marketo else ""
        row = (key, _email_as_written(rng, person.email), person.first, person.last, person.title, unsubscribed)
        crm = next((c for c, m in SYNCED_INTO.items() if m == source and c in person.keys), None)
        if crm is None:
            self.export.sink(source, "people").write((*row, *NOT_SYNCED))
        else:
            self.export.copy(source, "people", (*row, SOURCES[crm].name, person.keys[crm]))
        if rng.random() < CAMPAIGN_MEMBER_SHARE:
            self.export.sink(source, "campaign-members").write((
                rng.choice(self.campaigns[source]), key, rng.choice(MEMBER_STATUSES)))
        if SOURCES[source].marketo and rng.random() < LIST_MEMBER_SHARE:
            self.export.sink(source, "list-members").write((rng.choice(self.lists[source]), key))
        return key

    def _write_contact(self, person: Person, index: int) -> None:
        """The person as a contact of one account: in its source, maybe on one of its opportunities;
        and of the account's synced copy, if it has one."""
        rng = self.rng
        account = self.accounts[index]
        key = person.keys.get(account.source) or self._add_to_source(person, account.source)
        role = rng.choice(ACCOUNT_ROLES)
        self.export.sink(account.source, "account-people").write((account.key, key, role))
        if account.copy_key is not None:
            marketo = SYNCED_INTO[account.source]
            copy = person.keys.get(marketo) or self._add_to_source(person, marketo)
            self.export.sink(marketo, "account-people").write((account.copy_key, copy, role))
        if account.opportunities and rng.random() < CONTACT_ROLE_SHARE:
            opportunity = rng.choice(account.opportunities)
            primary = not self.primary_given[opportunity] and rng.random() < PRIMARY_CONTACT_SHARE
            if primary:
                self.primary_given[opportunity] = 1
            self.export.sink(account.source, "opportunity-contact-roles").write((
                self.opportunities[opportunity], key, rng.choice(CONTACT_ROLES), "true" if primary else "false"))

    def _write_visits(self, person: Person) -> None:
        """Visits go to Marketo sources that know the person; one that does not yet gets a record."""
        rng = self.rng
        count = min(int(rng.expovariate(1 / (MEAN_VISITS + 0.5))), MAX_VISITS)
        if not count:
            return
        known = [source for source in MARKETO_SOURCES if source in person.keys]
        if not known:
            source = rng.choice(MARKETO_SOURCES)
            self._add_to_source(person, source)
            known = [source]
        for moment in _visit_times(rng, count, self.reference):
            source = known[0] if len(known) == 1 else rng.choice(known)
            self.export.sink(source, "web-visits").write((
                self.ids.visit(source), person.keys[source], _page(rng), moment.isoformat() + "Z"))


# ---- entry point ------------------------------------------------------------------------------


def generate(out: Path, people: int, seed: int = 42, as_of: date = DEFAULT_AS_OF) -> GenerationSummary:
    """Write a synthetic export tree for `people` people into `out` (created; files overwritten)."""
    if people < 1:
        raise ValueError("people must be at least 1")
    rng = random.Random(seed)
    ids = _Ids()
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)
    companies, accounts = _make_companies(rng, max(1, round(people / PEOPLE_PER_ACCOUNT)), ids)
    with _export(out) as export:
        _write_accounts(rng, export, companies, accounts, ids)
        opportunities = _write_opportunities(rng, export, companies, accounts, ids, as_of)
        _write_same_company_links(rng, export, companies, accounts, as_of)
        campaigns, lists = _write_campaigns_and_lists(rng, export, people, ids, as_of)
        writer = _PeopleWriter(rng, export, ids, companies, accounts, opportunities, campaigns, lists, as_of)
        for _ in range(people):
            writer.write()
    write_manifest(out, people, seed, as_of)  # last: its presence means the tree is complete
    return GenerationSummary(out, as_of, seed, people, len(companies), len(accounts), export.rows(), export.copies)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generate",
                                     description="Write a synthetic multi-source export (deterministic).")
    parser.add_argument("--people", type=int, required=True, help="how many people (accounts: a tenth)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF,
                        help="the day visits and close dates are relative to (YYYY-MM-DD)")
    parser.add_argument("out", type=Path)
    arguments = parser.parse_args(argv)
    print(generate(arguments.out, arguments.people, arguments.seed, arguments.as_of))


if __name__ == "__main__":
    main()
