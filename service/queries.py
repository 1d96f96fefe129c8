"""The query catalogue: every Cypher query of the service, one file each under cypher/, read and
checked once at start-up.

A file's path under cypher/ (without `.cypher`) is its name, and each name is a member of `Q` (a
query run as written) or `Template` (the segment compiler's templates, segments/templates/, run
once a compiled rule is filled in). Code names a query only through these constants, so a typo
is a type error and no name is built at run time. Each file starts with a header:

    // name: ingest/accounts_upsert
    // One line saying what it does.
    // mode: write            (read, write, or schema: how the database layer routes it)
    // marks: people          (optional: it may mark people for re-evaluation by the live loop)

The loader refuses a missing or mismatched header, a file without a constant and a constant
without a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

from service.config import PROJECT_ROOT

CYPHER_DIR = PROJECT_ROOT / "cypher"
TEMPLATES_DIR = "segments/templates"
STATEMENT_END = re.compile(r";[ \t]*$", re.MULTILINE)
HEADER = re.compile(
    r"\A// name: (?P<name>[a-z_/]+)\n"
    r"// (?P<description>(?!mode:|marks:).+)\n"
    r"// mode: (?P<mode>read|write|schema)\n"
    r"(?:// marks: (?P<marks>people)\n)?"
)
HEADER_EXAMPLE = "'// name: <path under cypher/, no .cypher>', '// <one line of purpose>', '// mode: read|write|schema'"


class Q(StrEnum):
    """The queries run as written, by file name."""

    # ingest/
    ACCOUNT_PEOPLE_DELETE = "ingest/account_people_delete"
    ACCOUNT_PEOPLE_UPSERT = "ingest/account_people_upsert"
    ACCOUNTS_DELETE = "ingest/accounts_delete"
    ACCOUNTS_KNOWN = "ingest/accounts_known"
    ACCOUNTS_COMPANIES = "ingest/accounts_companies"
    ACCOUNTS_KEYS_MOVE = "ingest/accounts_keys_move"
    ACCOUNTS_PARENT_SET = "ingest/accounts_parent_set"
    ACCOUNTS_UPSERT = "ingest/accounts_upsert"
    CAMPAIGN_MEMBERS_DELETE = "ingest/campaign_members_delete"
    CAMPAIGN_MEMBERS_UPSERT = "ingest/campaign_members_upsert"
    CAMPAIGNS_DELETE = "ingest/campaigns_delete"
    CAMPAIGNS_KNOWN = "ingest/campaigns_known"
    CAMPAIGNS_UPSERT = "ingest/campaigns_upsert"
    COMPANIES_ALL = "ingest/companies_all"
    COMPANIES_REGROUP = "ingest/companies_regroup"
    COMPANIES_ROLLUP = "ingest/companies_rollup"
    FAMILIES_DERIVE = "ingest/families_derive"
    LIST_MEMBERS_DELETE = "ingest/list_members_delete"
    LIST_MEMBERS_UPSERT = "ingest/list_members_upsert"
    LISTS_DELETE = "ingest/lists_delete"
    LISTS_KNOWN = "ingest/lists_known"
    LISTS_UPSERT = "ingest/lists_upsert"
    OPPORTUNITIES_DELETE = "ingest/opportunities_delete"
    OPPORTUNITIES_KNOWN = "ingest/opportunities_known"
    OPPORTUNITIES_KEYS_MOVE = "ingest/opportunities_keys_move"
    OPPORTUNITIES_UPSERT = "ingest/opportunities_upsert"
    OPPORTUNITY_CONTACT_ROLES_DELETE = "ingest/opportunity_contact_roles_delete"
    OPPORTUNITY_CONTACT_ROLES_UPSERT = "ingest/opportunity_contact_roles_upsert"
    PARENTS_ALL = "ingest/parents_all"
    PARENTS_CYCLES = "ingest/parents_cycles"
    PARENTS_DELETE = "ingest/parents_delete"
    PARENTS_UPSERT = "ingest/parents_upsert"
    PEOPLE_DELETE = "ingest/people_delete"
    PEOPLE_KNOWN = "ingest/people_known"
    PEOPLE_MARK_FOR_EVALUATION = "ingest/people_mark_for_evaluation"
    PEOPLE_UPSERT = "ingest/people_upsert"
    SAME_COMPANY_DELETE = "ingest/same_company_delete"
    SAME_COMPANY_UPSERT = "ingest/same_company_upsert"
    SEGMENTS_EXIST = "ingest/segments_exist"
    SUPPRESSIONS_BY_HASH = "ingest/suppressions_by_hash"
    SUPPRESSIONS_EXIST = "ingest/suppressions_exist"
    WEB_VISITS_DELETE = "ingest/web_visits_delete"
    WEB_VISITS_UPSERT = "ingest/web_visits_upsert"
    # segments/
    ENTRIES_EXPLAIN = "segments/entries_explain"
    SEGMENT_COMPANY_MEMBERSHIP_AT = "segments/segment_company_membership_at"
    SEGMENT_CREATE = "segments/segment_create"
    SEGMENT_DELETE = "segments/segment_delete"
    AUDIENCE_MEMBER_PAGE = "segments/audience_member_page"
    SEGMENT_MEMBER_PAGE = "segments/segment_member_page"
    SEGMENT_MEMBERSHIP_AT = "segments/segment_membership_at"
    SEGMENT_UPDATE = "segments/segment_update"
    SEGMENT_USERS = "segments/segment_users"
    SEGMENTS_ALL = "segments/segments_all"
    SEGMENTS_BY_ID = "segments/segments_by_id"
    SEGMENTS_BY_NAME = "segments/segments_by_name"
    # auth/
    API_KEY_BY_ID = "auth/api_key_by_id"
    API_KEY_CREATE = "auth/api_key_create"
    API_KEY_REVOKE = "auth/api_key_revoke"
    API_KEY_USED = "auth/api_key_used"
    API_KEYS_ALL = "auth/api_keys_all"
    # activation/
    ACTIVATION_AUDIENCE = "activation/activation_audience"
    ACTIVATION_COMPANIES = "activation/activation_companies"
    ACTIVATION_MEMBERS = "activation/activation_members"
    ACTIVATION_RECORD = "activation/activation_record"
    DESTINATION_BY_NAME = "activation/destination_by_name"
    DESTINATION_CREATE = "activation/destination_create"
    # erasure/
    PERSON_ERASE = "erasure/person_erase"
    PERSON_IDS_AND_DESTINATIONS = "erasure/person_ids_and_destinations"
    PERSON_DELIVERIES_SCRUB = "erasure/person_deliveries_scrub"
    PERSON_SUPPRESS = "erasure/person_suppress"
    SEGMENTS_NAMING_EMAIL = "erasure/segments_naming_email"
    # api/
    ACCOUNTS_BY_KEY = "api/accounts_by_key"
    ACCOUNTS_OF_OPPORTUNITIES = "api/accounts_of_opportunities"
    ACCOUNTS_OF_PEOPLE = "api/accounts_of_people"
    ACTIVATIONS_OF_SEGMENTS = "api/activations_of_segments"
    BUYING_GROUPS_OF_COMPANIES = "api/buying_groups_of_companies"
    CAMPAIGNS_BY_KEY = "api/campaigns_by_key"
    CAMPAIGNS_OF_PEOPLE = "api/campaigns_of_people"
    COMPANIES_BY_ID = "api/companies_by_id"
    CONTACT_ROLES_OF_OPPORTUNITIES = "api/contact_roles_of_opportunities"
    CONTACT_ROLES_OF_PEOPLE = "api/contact_roles_of_people"
    DESTINATIONS_ALL = "api/destinations_all"
    FAMILIES_OF_COMPANIES = "api/families_of_companies"
    HIERARCHY_OF_COMPANIES = "api/hierarchy_of_companies"
    KEYS_OF_ACCOUNTS = "api/keys_of_accounts"
    KEYS_OF_OPPORTUNITIES = "api/keys_of_opportunities"
    LINKS_OF_COMPANIES = "api/links_of_companies"
    LISTS_BY_KEY = "api/lists_by_key"
    LISTS_OF_PEOPLE = "api/lists_of_people"
    MEMBERS_OF_CAMPAIGNS = "api/members_of_campaigns"
    MEMBERS_OF_LISTS = "api/members_of_lists"
    OPPORTUNITIES_OF_COMPANIES = "api/opportunities_of_companies"
    PEOPLE_BY_EMAIL = "api/people_by_email"
    SEGMENT_EVALUATIONS = "api/segment_evaluations"
    SEGMENTS_OF_PEOPLE = "api/segments_of_people"
    VISITS_OF_PEOPLE = "api/visits_of_people"
    # realtime/
    FEED_READ = "realtime/feed_read"
    LEASE_TAKE = "realtime/lease_take"
    COMPANIES_OF_PEOPLE = "realtime/companies_of_people"
    PEOPLE_OF_COMPANIES = "realtime/people_of_companies"
    PEOPLE_CLAIM_PENDING = "realtime/people_claim_pending"
    PEOPLE_MARK_EXPIRED = "realtime/people_mark_expired"
    RETENTION_APPLY = "realtime/retention_apply"
    SEGMENTS_RULES = "realtime/segments_rules"
    SWEEP_LAST = "realtime/sweep_last"
    # outbox/
    DELIVERIES_ENQUEUE = "outbox/deliveries_enqueue"
    DELIVERIES_LIST = "outbox/deliveries_list"
    DELIVERY_BUILT = "outbox/delivery_built"
    DELIVERY_CLAIM = "outbox/delivery_claim"
    DELIVERY_DONE = "outbox/delivery_done"
    DELIVERY_FAILED = "outbox/delivery_failed"
    DELIVERY_GATHER = "outbox/delivery_gather"
    DELIVERY_NEXT = "outbox/delivery_next"
    DELIVERY_PROGRESS = "outbox/delivery_progress"
    DELIVERY_REDRIVE = "outbox/delivery_redrive"
    # metrics/
    METRICS_BACKLOG = "metrics/backlog"
    # stewardship/
    LINK_ACCEPT = "stewardship/link_accept"
    LINK_REJECT = "stewardship/link_reject"
    LINK_SUGGESTIONS = "stewardship/link_suggestions"
    # migrations/
    COMPANIES_WITHOUT_FIGURES = "migrations/companies_without_figures"
    RECORDS_KNOWN_IN = "migrations/records_known_in"
    SCHEMA = "schema"  # applied by Graph.migrate, statement by statement


class Template(StrEnum):
    """The segment compiler's templates (service.segments.compiler fills their /*...*/ slots)."""

    SEGMENT_COMPANIES = "segments/templates/segment_companies"
    SEGMENT_COUNT = "segments/templates/segment_count"
    SEGMENT_EVALUATE = "segments/templates/segment_evaluate"
    SEGMENT_EVALUATE_PEOPLE = "segments/templates/segment_evaluate_people"
    SEGMENT_EXPLAIN = "segments/templates/segment_explain"
    SEGMENT_MEMBERS = "segments/templates/segment_members"
    AUDIENCE_COUNT = "segments/templates/audience_count"
    AUDIENCE_EVALUATE = "segments/templates/audience_evaluate"
    AUDIENCE_EVALUATE_COMPANIES = "segments/templates/audience_evaluate_companies"
    AUDIENCE_EXPLAIN = "segments/templates/audience_explain"
    AUDIENCE_MEMBERS = "segments/templates/audience_members"



class Mode(StrEnum):
    READ = "read"
    WRITE = "write"
    SCHEMA = "schema"


class CatalogueError(RuntimeError):
    """A cypher/ file or a query constant the catalogue cannot accept (found at start-up)."""


@dataclass(frozen=True)
class CypherFile:
    name: str
    description: str
    mode: Mode
    marks_people: bool  # may mark people for re-evaluation: the live loop is woken once it commits
    text: str

    def statements(self) -> list[str]:
        """The `;`-separated statements of a multi-statement file (the schema)."""
        return [part.strip() for part in STATEMENT_END.split(self.text) if _has_code(part)]


@dataclass(frozen=True)
class Rendered:
    """A template with a compiled rule filled in: the template routes it, by its declared mode."""

    template: Template
    text: str


def _has_code(part: str) -> bool:
    return any(line.strip() and not line.strip().startswith("//") for line in part.splitlines())


def name_of(path: Path, root: Path = CYPHER_DIR) -> str:
    return path.relative_to(root).with_suffix("").as_posix()


def load_file(path: Path, root: Path = CYPHER_DIR) -> CypherFile:
    text = path.read_text()
    name = name_of(path, root)
    header = HEADER.match(text)
    shown = f"{root.name}/{name}.cypher"
    if not header:
        raise CatalogueError(f"{shown} must start with the header lines {HEADER_EXAMPLE}")
    if header["name"] != name:
        raise CatalogueError(f"{shown} declares '// name: {header['name']}'; its path makes it '{name}'")
    return CypherFile(name, header["description"], Mode(header["mode"]), header["marks"] is not None, text)


def load_catalogue(root: Path = CYPHER_DIR) -> dict[str, CypherFile]:
    """Every file under root, each checked against its header and against the constants."""
    files = {name_of(path, root): load_file(path, root) for path in sorted(root.rglob("*.cypher"))}
    declared = {*Q, *Template}
    problems = [f"cypher/{name}.cypher has no constant in service/queries.py" for name in sorted(set(files) - declared)]
    problems += [f"{constant!r} has no file cypher/{constant.value}.cypher"
                 for constant in sorted(declared - set(files))]
    problems += [f"template {t.value} must live in cypher/{TEMPLATES_DIR}/" for t in Template
                 if not t.value.startswith(TEMPLATES_DIR + "/")]
    problems += [f"query {q.value} is in cypher/{TEMPLATES_DIR}/: make it a Template" for q in Q
                 if q.value.startswith(TEMPLATES_DIR + "/")]
    problems += [f"cypher/{name}.cypher: only the schema file has mode schema" for name, file in files.items()
                 if (file.mode is Mode.SCHEMA) != (name == Q.SCHEMA)]
    if problems:
        raise CatalogueError("the query catalogue is inconsistent: " + "; ".join(problems))
    return files


@cache
def catalogue() -> dict[str, CypherFile]:
    return load_catalogue()


def query_file(name: Q | Template) -> CypherFile:
    return catalogue()[name.value]
