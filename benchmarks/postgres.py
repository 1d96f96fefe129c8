"""The Townsend audience as plain SQL in PostgreSQL: the relational alternative for the benchmarks.

Used as a library by a benchmark script:

    ensure_installed()
    with throwaway_postgres() as pg:
        figures = load(pg, export_root)                  # tables, COPY, indexes, records, links, ANALYZE
        built = build_totals(pg)                         # the maintained variant: companies, totals, triggers
        emails = audience(pg, 100_000.0, NEW_PRODUCT_PAGE, 30)         # recursive CTE
        same = audience_totals(pg, 100_000.0, NEW_PRODUCT_PAGE, 30)    # maintained company totals
        pg.restart()                                     # cold PostgreSQL buffers (not the OS page cache)
        check_triggers(pg, 100_000.0, NEW_PRODUCT_PAGE, 30)            # writes, then from scratch; rolled back

- `ensure_installed()` installs Debian's `postgresql` package when no server binary is under
  /usr/lib/postgresql/*/bin (as root; otherwise it says what to install). From make:
  `$(BIN)/python -m benchmarks.postgres` (prints the bin directory). The package also creates a
  default cluster `main`, which is not used here (nor started where policy-rc.d forbids it, as in
  containers).
- `throwaway_postgres()` runs initdb in a temporary directory and starts a server on a free loopback
  TCP port (no Unix socket; password authentication), sized for the 2-core, 24 GiB machine that it
  shares with Neo4j (SETTINGS); it is stopped and removed afterwards. initdb and pg_ctl refuse to
  run as root, so as root they run as the `postgres` system user (runuser), who owns the directory.
- `load()` creates one table per record kind with a `source` column, and COPYs every CSV file of the
  export into it (the four sources named in manifest.toml, then MDM): each file is streamed to the
  server as it is, not parsed by Python. A person's identity across sources is
  `people.email = lower(trim(Email))`, a generated column. All of it is one transaction: the tables
  are created in it and loaded with COPY ... FREEZE under wal_level = minimal, so the bulk data is
  not WAL-logged but synced at commit (fsync and synchronous_commit stay on). Then primary keys and
  indexes, the records (`account_record`, `opportunity_record`, below), `account_link` (below), and
  ANALYZE.
- `build_totals()`, after load() (load, then build: its seconds are reported apart), makes the
  maintained variant: `account_company` and `company_totals` computed from scratch, and the triggers
  that keep them right from then on (below).
- `audience()` answers the rule with the company unification and the company's total done by a
  recursive CTE at query time; `audience_totals()` reads both from the maintained tables.
- `check_triggers()` makes every kind of write the triggers must follow, each in turn, and after each
  compares the maintained tables with a computation from scratch; then both variants' audiences on the
  changed data. In one transaction, rolled back. It is the triggers' test: the test suite does not
  start PostgreSQL, the benchmark does, so the benchmark runs it and fails on any drift.

Synced copies. A row's record is (SyncedFromSource, SyncedFromId) when given, else (source, Id): a
copy and its original are one record, as they are one node in the graph. At load (as the graph's
import merges them), `account_record` maps every account row (source, id) to its record's key, the
smallest account_key of the record's rows; `opportunity_record` holds each opportunity record once,
with its system of record's values (the row whose (source, Id) is the record, when that source
exported it; else a copy's) and the account record of that row's AccountId. The rule reads only
these two for accounts and opportunities, so each record is counted once.

Companies. Account records are keyed by an integer `account_key` (above), and `account_link` holds
the MDM links with their two ends resolved to account records, both ways (the edges only: nothing is
unified there). At load, `account_company` gives each account record the smallest account_key
reachable over the links (label propagation by a recursive CTE from every account record; one without
links is its own company). At query time the same recursive walk over `account_link` starts only from
the candidate accounts (those the page's visitors are contacts of) and collects each one's company.
UNION keeps each (account, reached account) pair once, so cycles end and each opportunity record of a
company is summed once (it has one account record, which has one company).

Maintained totals, the equal of the graph's Company nodes and their figures. `account_company` gives
each account record its company, the smallest account_key of its connected component over
`account_link`; `company_totals` each company's figures per status (won, lost, open, any: sum, count,
max of its opportunity records' amounts, as `service/ingest/figures.py` keeps them on the graph).
Statement-level AFTER triggers with transition tables keep both in the transaction of every write, as
the graph's writer refigures and regroups in the transaction of each import batch:
- `opportunity_record` insert, update (amount, stage, moved to another account), delete: the figures
  of the companies of the old and new accounts are recomputed (`refigure_companies`);
- `account_link` insert or delete (an MDM link or unlink): the components of the links' ends are
  recomputed over the links as they are now, so a merge or a split regroups every account of them
  (`regroup_accounts`), then the figures of every company they were or are in;
- `account_record` insert (a new account: its own company) or delete (it leaves its company and its
  links, which regroups the rest).
The triggers sit on the record tables (one row per record: what the graph's nodes are), not on the
per-source rows: the synced-copy resolution above is done at load, as the graph's import does it.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from benchmarks.generate import MANIFEST
from service.neo4j_server import free_port

PG_LIB = Path("/usr/lib/postgresql")
OWNER = "postgres"  # the system user of Debian's package, who runs initdb and pg_ctl when we are root
PASSWORD = "bench-password"
START_TIMEOUT_SECONDS = 120

# For a 2-core, 24 GiB machine shared with Neo4j (heap 4g + page cache 4g).
SETTINGS: dict[str, str] = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "shared_buffers": "'2GB'",
    "work_mem": "'256MB'",
    "maintenance_work_mem": "'1GB'",
    "effective_cache_size": "'8GB'",
    "max_parallel_workers_per_gather": "2",
    "max_parallel_maintenance_workers": "2",
    "random_page_cost": "1.1",  # local SSD
    "wal_level": "'minimal'",  # with max_wal_senders = 0: tables created and loaded in one transaction skip WAL
    "max_wal_senders": "0",
    "max_wal_size": "'8GB'",
    "checkpoint_timeout": "'30min'",
    "timezone": "'UTC'",  # a VisitedAt without a zone is UTC, as in the import format
    "jit": "off",  # compiling costs 30-100 ms, more than it saves on these sub-second queries
    "log_min_messages": "'warning'",
}

# One table per record kind (the file name with '-' as '_'); columns are the CSV headers in snake_case.
SCHEMA = """
CREATE TABLE people (
    source text NOT NULL, id text NOT NULL, email_as_given text NOT NULL,
    email text GENERATED ALWAYS AS (lower(trim(email_as_given))) STORED,  -- the person across sources
    first_name text, last_name text, title text, unsubscribed boolean, advertising_opt_out boolean,
    synced_from_source text, synced_from_id text);  -- people are one by email already
CREATE TABLE accounts (
    account_key integer GENERATED ALWAYS AS IDENTITY,  -- for the company unification
    source text NOT NULL, id text NOT NULL, name text NOT NULL, industry text, billing_country text,
    number_of_employees integer, website text, synced_from_source text, synced_from_id text);
CREATE TABLE opportunities (
    source text NOT NULL, id text NOT NULL, account_id text NOT NULL, name text NOT NULL,
    amount double precision NOT NULL, currency_iso_code text, stage_name text NOT NULL, close_date date NOT NULL,
    synced_from_source text, synced_from_id text);
CREATE TABLE campaigns (source text NOT NULL, id text NOT NULL, name text NOT NULL, type text, status text,
                        start_date date);
CREATE TABLE lists (source text NOT NULL, id text NOT NULL, name text NOT NULL);
CREATE TABLE web_visits (source text NOT NULL, id text NOT NULL, person_id text NOT NULL, url text NOT NULL,
                         visited_at timestamptz NOT NULL);
CREATE TABLE account_people (source text NOT NULL, account_id text NOT NULL, person_id text NOT NULL, role text);
CREATE TABLE opportunity_contact_roles (source text NOT NULL, opportunity_id text NOT NULL,
                                        person_id text NOT NULL, role text, is_primary boolean);
CREATE TABLE campaign_members (source text NOT NULL, campaign_id text NOT NULL, person_id text NOT NULL,
                               status text);
CREATE TABLE list_members (source text NOT NULL, list_id text NOT NULL, person_id text NOT NULL);
CREATE TABLE same_company (link_id text NOT NULL, source_a text NOT NULL, account_id_a text NOT NULL,
                           source_b text NOT NULL, account_id_b text NOT NULL, updated_at timestamptz);
"""
COLUMN_OVERRIDES = {"Email": "email_as_given"}

# Built after the COPY. web_visits (url, visited_at) is the same index as Neo4j's web_visit_url_time; the
# INCLUDEs let the joins from a visitor to their accounts read indexes only.
INDEXES = """
ALTER TABLE people ADD PRIMARY KEY (source, id) INCLUDE (email);
CREATE INDEX people_email ON people (email) INCLUDE (source, id);
ALTER TABLE accounts ADD PRIMARY KEY (source, id) INCLUDE (account_key);
ALTER TABLE accounts ADD UNIQUE (account_key);
ALTER TABLE opportunities ADD PRIMARY KEY (source, id);
CREATE INDEX opportunities_account ON opportunities (source, account_id);
ALTER TABLE campaigns ADD PRIMARY KEY (source, id);
ALTER TABLE lists ADD PRIMARY KEY (source, id);
ALTER TABLE web_visits ADD PRIMARY KEY (source, id);
CREATE INDEX web_visits_url_time ON web_visits (url, visited_at);
ALTER TABLE account_people ADD PRIMARY KEY (source, account_id, person_id);
CREATE INDEX account_people_person ON account_people (source, person_id) INCLUDE (account_id);
ALTER TABLE opportunity_contact_roles ADD PRIMARY KEY (source, opportunity_id, person_id);
ALTER TABLE campaign_members ADD PRIMARY KEY (source, campaign_id, person_id);
ALTER TABLE list_members ADD PRIMARY KEY (source, list_id, person_id);
ALTER TABLE same_company ADD PRIMARY KEY (link_id);
"""

# At load: every account row's record (a synced copy and its original are one), keyed by the smallest
# account_key of its rows...
ACCOUNT_RECORDS = """
CREATE TABLE account_record AS
SELECT source, id, min(account_key) OVER (
    PARTITION BY coalesce(synced_from_source, source), coalesce(synced_from_id, id)) AS account_key
FROM accounts;
ALTER TABLE account_record ADD PRIMARY KEY (source, id) INCLUDE (account_key);
"""

# ... each opportunity record once, with its system of record's values and account (the row that is the
# record itself when its source exported it, else the copy with the smallest (source, id))...
OPPORTUNITY_RECORDS = """
CREATE TABLE opportunity_record AS
SELECT DISTINCT ON (coalesce(o.synced_from_source, o.source), coalesce(o.synced_from_id, o.id))
    coalesce(o.synced_from_source, o.source) AS source, coalesce(o.synced_from_id, o.id) AS id,
    a.account_key, o.amount, o.stage_name, o.close_date
FROM opportunities o
JOIN account_record a ON a.source = o.source AND a.id = o.account_id
ORDER BY coalesce(o.synced_from_source, o.source), coalesce(o.synced_from_id, o.id),
         o.synced_from_source IS NOT NULL, o.source, o.id;
ALTER TABLE opportunity_record ADD PRIMARY KEY (source, id);
CREATE INDEX opportunity_record_account ON opportunity_record (account_key) INCLUDE (stage_name, amount);
"""

# ... the MDM links between account records, both ways (the edges that companies are made of)...
ACCOUNT_LINKS = """
CREATE TABLE account_link AS
WITH link AS (
    SELECT a.account_key, b.account_key AS linked_key
    FROM same_company l
    JOIN account_record a ON a.source = l.source_a AND a.id = l.account_id_a
    JOIN account_record b ON b.source = l.source_b AND b.id = l.account_id_b
    WHERE a.account_key <> b.account_key
)
SELECT account_key, linked_key FROM link
UNION
SELECT linked_key, account_key FROM link;
ALTER TABLE account_link ADD PRIMARY KEY (account_key, linked_key);
"""

# The rule. {won_account} gives the candidate accounts whose company's Closed Won total is over the amount.
AUDIENCE = """
WITH RECURSIVE
    visitor AS (  -- (a) people with a visit to the page in the window
        SELECT DISTINCT p.email
        FROM web_visits v
        JOIN people p ON p.source = v.source AND p.id = v.person_id
        WHERE v.url = %(page)s AND v.visited_at >= now() - make_interval(days => %(within_days)s::integer)
    ),
    candidate AS (  -- the account records they are a contact of, in every source that knows them
        SELECT DISTINCT visitor.email, a.account_key
        FROM visitor
        JOIN people p ON p.email = visitor.email
        JOIN account_people ap ON ap.source = p.source AND ap.person_id = p.id
        JOIN account_record a ON a.source = ap.source AND a.id = ap.account_id
    ),
    {won_account}
SELECT DISTINCT candidate.email
FROM candidate
JOIN won_account USING (account_key)
"""
# The recursive CTE variant: each candidate account's company unified at query time over account_link, and
# its total summed from the company's opportunities. UNION keeps each (account, member) pair once, so
# cycles end and each opportunity record of a company is summed once.
AUDIENCE_QUERY_TIME = AUDIENCE.format(won_account="""company_member (account_key, member_key) AS (
        SELECT DISTINCT account_key, account_key FROM candidate
        UNION
        SELECT m.account_key, l.linked_key FROM company_member m JOIN account_link l ON l.account_key = m.member_key
    ),
    won_account AS (  -- (b)
        SELECT m.account_key
        FROM company_member m
        JOIN opportunity_record o ON o.account_key = m.member_key
        WHERE o.stage_name = 'Closed Won'
        GROUP BY m.account_key
        HAVING sum(o.amount) > %(min_amount)s
    )""")
# The maintained-totals variant: each candidate account's company from account_company, its total from
# company_totals (both kept by the triggers of MAINTAINED_TOTALS).
AUDIENCE_TOTALS = AUDIENCE.format(won_account="""won_account AS (  -- (b)
        SELECT DISTINCT candidate.account_key
        FROM candidate
        JOIN account_company c USING (account_key)
        JOIN company_totals t USING (company_key)
        WHERE t.won_sum > %(min_amount)s
    )""")

# The maintained variant, built after load() by build_totals() (load, then build). `company_figures` is the
# from-scratch computation of each company's figures: the totals are built from it, refigure_companies()
# reads it for the companies a write touched, and the self-check compares the totals against it.
COMPANY_FIGURES = """
CREATE VIEW company_figures AS
SELECT c.company_key,
       coalesce(sum(o.amount) FILTER (WHERE o.stage_name = 'Closed Won'), 0) AS won_sum,
       count(o.amount) FILTER (WHERE o.stage_name = 'Closed Won') AS won_count,
       max(o.amount) FILTER (WHERE o.stage_name = 'Closed Won') AS won_max,
       coalesce(sum(o.amount) FILTER (WHERE o.stage_name = 'Closed Lost'), 0) AS lost_sum,
       count(o.amount) FILTER (WHERE o.stage_name = 'Closed Lost') AS lost_count,
       max(o.amount) FILTER (WHERE o.stage_name = 'Closed Lost') AS lost_max,
       coalesce(sum(o.amount) FILTER (WHERE o.stage_name NOT IN ('Closed Won', 'Closed Lost')), 0) AS open_sum,
       count(o.amount) FILTER (WHERE o.stage_name NOT IN ('Closed Won', 'Closed Lost')) AS open_count,
       max(o.amount) FILTER (WHERE o.stage_name NOT IN ('Closed Won', 'Closed Lost')) AS open_max,
       coalesce(sum(o.amount), 0) AS any_sum, count(o.amount) AS any_count, max(o.amount) AS any_max
FROM account_company c
LEFT JOIN opportunity_record o ON o.account_key = c.account_key
GROUP BY c.company_key;
"""
# Each account record's company from scratch: the smallest account_key reachable over account_link (label
# propagation by a recursive CTE from every account record; UNION keeps each pair once, so cycles end).
COMPANIES_FROM_SCRATCH = """
WITH RECURSIVE reach (account_key, reached_key) AS (
    SELECT DISTINCT account_key, account_key FROM account_record
    UNION
    SELECT r.account_key, l.linked_key FROM reach r JOIN account_link l ON l.account_key = r.reached_key
)
SELECT account_key, min(reached_key) AS company_key FROM reach GROUP BY account_key"""
MAINTAINED_TOTALS = f"""
CREATE TABLE account_company AS {COMPANIES_FROM_SCRATCH};
ALTER TABLE account_company ADD PRIMARY KEY (account_key);
CREATE INDEX account_company_company ON account_company (company_key);
{COMPANY_FIGURES}
CREATE TABLE company_totals AS SELECT * FROM company_figures;
ALTER TABLE company_totals ADD PRIMARY KEY (company_key);

-- The figures of these companies from their accounts' opportunity records as they are now (a company
-- that has no account any more loses its row).
CREATE FUNCTION refigure_companies(companies integer[]) RETURNS void LANGUAGE sql AS $$
    DELETE FROM company_totals WHERE company_key = ANY(companies);
    INSERT INTO company_totals SELECT * FROM company_figures WHERE company_key = ANY(companies);
$$;

-- The companies of these accounts from their components over account_link as it is now (a merge or a
-- split regroups every account of the components), then the figures of every company they were or are in.
CREATE FUNCTION regroup_accounts(accounts integer[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    touched integer[];
BEGIN
    WITH RECURSIVE reach (start_key, reached_key) AS (
        SELECT account_key, account_key FROM account_company WHERE account_key = ANY(accounts)
        UNION
        SELECT r.start_key, l.linked_key FROM reach r JOIN account_link l ON l.account_key = r.reached_key
    ),
    company AS (SELECT start_key, min(reached_key) AS company_key FROM reach GROUP BY start_key),
    member AS (SELECT DISTINCT r.reached_key AS account_key, c.company_key
               FROM reach r JOIN company c USING (start_key)),
    regrouped AS (SELECT m.account_key, ac.company_key AS before_key, m.company_key
                  FROM member m JOIN account_company ac USING (account_key)),
    moved AS (UPDATE account_company ac SET company_key = g.company_key FROM regrouped g
              WHERE ac.account_key = g.account_key AND g.before_key <> g.company_key)
    SELECT array_agg(DISTINCT company_key) INTO touched
    FROM (SELECT before_key FROM regrouped UNION SELECT company_key FROM regrouped) AS companies (company_key);
    PERFORM refigure_companies(touched);
END $$;

CREATE FUNCTION opportunity_record_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    accounts integer[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        accounts := ARRAY(SELECT DISTINCT account_key FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        accounts := ARRAY(SELECT DISTINCT account_key FROM old_rows);
    ELSE  -- an amount or stage changed, or the opportunity moved to another account: both companies
        accounts := ARRAY(SELECT account_key FROM new_rows UNION SELECT account_key FROM old_rows);
    END IF;
    PERFORM refigure_companies(ARRAY(
        SELECT DISTINCT company_key FROM account_company WHERE account_key = ANY(accounts)));
    RETURN NULL;
END $$;

CREATE FUNCTION account_link_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    accounts integer[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        accounts := ARRAY(SELECT account_key FROM new_rows UNION SELECT linked_key FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        accounts := ARRAY(SELECT account_key FROM old_rows UNION SELECT linked_key FROM old_rows);
    ELSE
        accounts := ARRAY(SELECT account_key FROM new_rows UNION SELECT linked_key FROM new_rows
                          UNION SELECT account_key FROM old_rows UNION SELECT linked_key FROM old_rows);
    END IF;
    PERFORM regroup_accounts(accounts);
    RETURN NULL;
END $$;

CREATE FUNCTION account_record_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gone integer[];
    left_companies integer[];
    added integer[];
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN  -- account keys that no record row maps to any more
        gone := ARRAY(SELECT DISTINCT o.account_key FROM old_rows o
                      WHERE NOT EXISTS (SELECT FROM account_record a WHERE a.account_key = o.account_key));
        left_companies := ARRAY(SELECT DISTINCT company_key FROM account_company WHERE account_key = ANY(gone));
        DELETE FROM account_company WHERE account_key = ANY(gone);
        DELETE FROM account_link WHERE account_key = ANY(gone) OR linked_key = ANY(gone);  -- regroups the rest
        PERFORM refigure_companies(left_companies);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN  -- account keys new to account_company: each its own company
        added := ARRAY(SELECT DISTINCT n.account_key FROM new_rows n
                       WHERE NOT EXISTS (SELECT FROM account_company c WHERE c.account_key = n.account_key));
        INSERT INTO account_company (account_key, company_key) SELECT key, key FROM unnest(added) AS key;
        PERFORM refigure_companies(added);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER opportunity_record_inserted AFTER INSERT ON opportunity_record
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION opportunity_record_changed();
CREATE TRIGGER opportunity_record_updated AFTER UPDATE ON opportunity_record
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION opportunity_record_changed();
CREATE TRIGGER opportunity_record_deleted AFTER DELETE ON opportunity_record
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION opportunity_record_changed();
CREATE TRIGGER account_link_inserted AFTER INSERT ON account_link
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION account_link_changed();
CREATE TRIGGER account_link_updated AFTER UPDATE ON account_link
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION account_link_changed();
CREATE TRIGGER account_link_deleted AFTER DELETE ON account_link
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION account_link_changed();
CREATE TRIGGER account_record_inserted AFTER INSERT ON account_record
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION account_record_changed();
CREATE TRIGGER account_record_updated AFTER UPDATE ON account_record
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION account_record_changed();
CREATE TRIGGER account_record_deleted AFTER DELETE ON account_record
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION account_record_changed();
ANALYZE account_company, company_totals;
"""

# ---- the server -------------------------------------------------------------------------------


def _server_binary() -> Path | None:
    """The newest installed /usr/lib/postgresql/<major>/bin/postgres, if any."""
    found = [path for path in PG_LIB.glob("*/bin/postgres") if path.parent.parent.name.isdigit()]
    return max(found, key=lambda path: int(path.parent.parent.name), default=None)


def ensure_installed() -> Path:
    """The bin directory of PostgreSQL, installed from Debian's packages first if missing (needs root).

    For make: `$(BIN)/python -m benchmarks.postgres` (prints the directory)."""
    if (binary := _server_binary()) is not None:
        return binary.parent
    if os.geteuid() != 0:
        raise RuntimeError("PostgreSQL is not installed: please install Debian's package 'postgresql'")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=environment)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"],
                   check=True, env=environment)
    if (binary := _server_binary()) is None:
        raise RuntimeError(f"installed 'postgresql' but found no {PG_LIB}/*/bin/postgres")
    return binary.parent


def _as_owner(command: list[str | Path]) -> list[str]:
    """initdb and pg_ctl refuse root: run them as the postgres system user then."""
    prefix = ["runuser", "-u", OWNER, "--"] if os.geteuid() == 0 else []
    return prefix + [str(part) for part in command]


@dataclass
class Postgres:
    """One throwaway cluster: its binaries, its directory (data/ and server.log), its port, and the
    session that queries run on (kept open, so that their timing leaves out connecting)."""

    bin: Path
    home: Path
    port: int
    password: str = PASSWORD
    user: str = "postgres"
    dbname: str = "postgres"
    _session: psycopg.Connection[Any] | None = field(default=None, init=False, repr=False)

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def log(self) -> Path:
        return self.home / "server.log"

    @property
    def conninfo(self) -> str:  # password authentication over loopback TCP
        return psycopg.conninfo.make_conninfo(host="127.0.0.1", port=self.port, user=self.user,
                                              password=self.password, dbname=self.dbname)

    def connect(self, autocommit: bool = False) -> psycopg.Connection[Any]:
        return psycopg.connect(self.conninfo, autocommit=autocommit)

    def session(self) -> psycopg.Connection[Any]:
        """The open autocommit connection for queries (opened on first use and after a restart)."""
        if self._session is None or self._session.closed:
            self._session = self.connect(autocommit=True)
        return self._session

    def initdb(self) -> None:
        password_file = self.home / "password"
        password_file.write_text(self.password + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.home, OWNER, OWNER)
            shutil.chown(password_file, OWNER, OWNER)
        subprocess.run(_as_owner([self.bin / "initdb", "-D", self.data, "-U", self.user, "--pwfile",
                                  password_file, "--auth", "scram-sha-256", "-E", "UTF8", "--lc-collate", "C",
                                  "--lc-ctype", "C.UTF-8"]),  # byte-order comparisons, Unicode lower()
                       check=True, stdout=subprocess.DEVNULL)
        password_file.unlink()
        settings = "".join(f"{key} = {value}\n" for key, value in {**SETTINGS, "port": str(self.port)}.items())
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# benchmarks/postgres.py\n" + settings)

    def start(self) -> None:
        subprocess.run(_as_owner([self.bin / "pg_ctl", "start", "-w", "-t", str(START_TIMEOUT_SECONDS),
                                  "-D", self.data, "-l", self.log]), check=True, stdout=subprocess.DEVNULL)

    def stop(self) -> None:
        if self._session is not None:
            self._session.close()
        subprocess.run(_as_owner([self.bin / "pg_ctl", "stop", "-w", "-m", "fast", "-D", self.data]),
                       check=True, stdout=subprocess.DEVNULL)

    def restart(self) -> None:
        """Stop and start, for cold-cache timing: PostgreSQL's shared buffers are empty afterwards (the
        OS page cache stays warm). The query session is opened again, so a timed query leaves out connecting."""
        self.stop()
        self.start()
        self.session()

    def running_pid(self) -> int | None:
        """The postmaster's process id (for CPU accounting), or None when it is not running."""
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None


@contextmanager
def throwaway_postgres() -> Iterator[Postgres]:
    """A started cluster in a temporary directory on a free loopback port; stopped and removed afterwards."""
    pg = Postgres(bin=ensure_installed(), home=Path(tempfile.mkdtemp(prefix="accountgraph-pg-")), port=free_port())
    try:
        pg.initdb()
        pg.start()
        yield pg
    finally:
        if pg.running_pid() is not None:
            pg.stop()
        shutil.rmtree(pg.home, ignore_errors=True)


# ---- loading ----------------------------------------------------------------------------------


def _column(header: str) -> str:
    """`AccountIdA` -> `account_id_a`; `Email` -> `email_as_given` (people.email is the normalised one)."""
    return COLUMN_OVERRIDES.get(header) or re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", header).lower()


def _copy_file(conn: psycopg.Connection[Any], path: Path, source: str | None) -> tuple[str, int]:
    """COPY one CSV file into its kind's table, the file streamed as it is; (table, rows)."""
    table = path.stem.replace("-", "_")
    with path.open(encoding="utf-8-sig", newline="") as text:
        headers = next(csv.reader(text))
    if source is not None:  # the rows' source: the column default while this file is copied
        conn.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN source SET DEFAULT {}").format(
            sql.Identifier(table), sql.Literal(source)))
    statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, HEADER true, FREEZE true)").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(_column(header)) for header in headers))
    with conn.cursor() as cursor:
        with cursor.copy(statement) as copy, path.open("rb") as data:
            while chunk := data.read(1 << 20):
                copy.write(chunk)
        rows = cursor.rowcount
    if source is not None:
        conn.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN source DROP DEFAULT").format(sql.Identifier(table)))
    return table, rows


def _folders(export_root: Path) -> list[tuple[Path, str | None]]:
    """(folder, source name) for every source of manifest.toml, then (MDM folder, None)."""
    manifest = tomllib.loads((export_root / MANIFEST).read_text())
    return [(export_root / source["folder"], source["name"]) for source in manifest["sources"]] + [
        (export_root / manifest["mdm"]["folder"], None)]


def load(pg: Postgres, export_root: Path) -> dict[str, Any]:
    """Tables, COPY of every CSV file, indexes, the records and the MDM links, ANALYZE, in one transaction:
    what the recursive CTE reads. The maintained variant's tables are built afterwards (build_totals).

    Returns {"rows": {table: rows copied, and account_record, opportunity_record, account_link},
    "total_rows" (copied), "seconds": {"copy", "indexes", "records", "links", "analyze", "total"}}: wall
    seconds, the commit in "analyze"."""
    rows: dict[str, int] = {}
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    with pg.connect() as conn:  # one transaction, committed on leaving the block
        conn.execute(SCHEMA)
        for folder, source in _folders(export_root):
            for path in sorted(folder.glob("*.csv")):
                table, count = _copy_file(conn, path, source)
                rows[table] = rows.get(table, 0) + count
        seconds["copy"] = time.perf_counter() - started
        total_rows = sum(rows.values())
        for step, statements in (("indexes", INDEXES), ("records", ACCOUNT_RECORDS + OPPORTUNITY_RECORDS),
                                 ("links", ACCOUNT_LINKS), ("analyze", "ANALYZE")):
            begun = time.perf_counter()
            conn.execute(statements)
            if step == "analyze":
                conn.commit()
            seconds[step] = time.perf_counter() - begun
        for table in ("account_record", "opportunity_record", "account_link"):
            rows[table] = _scalar(conn, f"SELECT count(*) FROM {table}")
    seconds["total"] = time.perf_counter() - started
    return {"rows": rows, "total_rows": total_rows, "seconds": seconds}


def build_totals(pg: Postgres) -> dict[str, Any]:
    """The maintained variant after load(): account_company and company_totals computed from scratch, the
    functions and triggers that keep them, ANALYZE, in one transaction. {"rows": {account_company,
    company_totals}, "seconds"}."""
    started = time.perf_counter()
    with pg.connect() as conn:
        conn.execute(MAINTAINED_TOTALS)
        conn.commit()
        rows = {table: _scalar(conn, f"SELECT count(*) FROM {table}")
                for table in ("account_company", "company_totals")}
    return {"rows": rows, "seconds": time.perf_counter() - started}


def _scalar(conn: psycopg.Connection[Any], query: str, **parameters: Any) -> Any:
    row = conn.execute(query, parameters or None).fetchone()
    assert row is not None
    return row[0]


# ---- the audience -----------------------------------------------------------------------------


def _parameters(min_amount: float, page: str, within_days: int) -> dict[str, Any]:
    return {"min_amount": float(min_amount), "page": page, "within_days": int(within_days)}


def _emails(conn: psycopg.Connection[Any], query: str, min_amount: float, page: str, within_days: int) -> set[str]:
    rows = conn.execute(query, _parameters(min_amount, page, within_days))
    return {email for (email,) in rows}


def audience(pg: Postgres, min_amount: float, page: str, within_days: int) -> set[str]:
    """The normalised emails of the rule, the companies unified by the recursive CTE at query time."""
    return _emails(pg.session(), AUDIENCE_QUERY_TIME, min_amount, page, within_days)


def audience_totals(pg: Postgres, min_amount: float, page: str, within_days: int) -> set[str]:
    """The same, reading each company and its Closed Won total from the maintained tables (build_totals)."""
    return _emails(pg.session(), AUDIENCE_TOTALS, min_amount, page, within_days)


def explain(pg: Postgres, totals: bool, min_amount: float, page: str, within_days: int) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of either query, for finding where the time goes."""
    query = AUDIENCE_TOTALS if totals else AUDIENCE_QUERY_TIME
    rows = pg.session().execute("EXPLAIN (ANALYZE, BUFFERS) " + query, _parameters(min_amount, page, within_days))
    return "\n".join(row[0] for row in rows)


# ---- the triggers' self-check -----------------------------------------------------------------

# Differences between the maintained tables and a computation from scratch: accounts whose company differs,
# companies whose figures differ (counts and maxima exactly, sums to a relative 1e-9: the order of addition
# may differ between a refigured company and the from-scratch aggregate).
COMPANY_DRIFT = f"""
WITH scratch AS MATERIALIZED ({COMPANIES_FROM_SCRATCH})
SELECT (SELECT count(*) FROM (SELECT account_key, company_key FROM account_company EXCEPT TABLE scratch) AS held)
     + (SELECT count(*) FROM (TABLE scratch EXCEPT SELECT account_key, company_key FROM account_company) AS computed)
"""
STATUSES = ("won", "lost", "open", "any")
TOTALS_DRIFT = """
SELECT count(*) FROM company_totals t FULL JOIN company_figures f USING (company_key)
WHERE t.company_key IS NULL OR f.company_key IS NULL OR """ + " OR ".join(
    f"t.{s}_count <> f.{s}_count OR t.{s}_max IS DISTINCT FROM f.{s}_max "
    f"OR abs(t.{s}_sum - f.{s}_sum) > 1e-9 * greatest(1, abs(f.{s}_sum))" for s in STATUSES)
# Companies whose figures a step changed (against the copy taken before it).
TOTALS_CHANGED = """
SELECT count(DISTINCT company_key)
FROM ((TABLE company_totals EXCEPT TABLE totals_before)
      UNION ALL (TABLE totals_before EXCEPT TABLE company_totals)) AS d
"""

# Every kind of write the triggers must follow, each chosen so that it changes some company's figures.
# The rows they touch are picked by the queries themselves (the first in key order), so the check is
# deterministic for an export; %(new_key)s is an account_key no record has.
TRIGGER_STEPS: tuple[tuple[str, str], ...] = (
    ("an open opportunity won (stage and amount)", """
        UPDATE opportunity_record SET stage_name = 'Closed Won', amount = amount + 250000
        WHERE (source, id) = (SELECT source, id FROM opportunity_record
                              WHERE stage_name NOT IN ('Closed Won', 'Closed Lost') ORDER BY source, id LIMIT 1)"""),
    ("a won opportunity deleted", """
        DELETE FROM opportunity_record
        WHERE (source, id) = (SELECT source, id FROM opportunity_record
                              WHERE stage_name = 'Closed Won' ORDER BY source, id LIMIT 1)"""),
    ("a won opportunity moved to an account of another company", """
        UPDATE opportunity_record o SET account_key = (
            SELECT c.account_key FROM account_company c
            WHERE c.company_key <> (SELECT company_key FROM account_company WHERE account_key = o.account_key)
            ORDER BY c.account_key LIMIT 1)
        WHERE (source, id) = (SELECT source, id FROM opportunity_record
                              WHERE stage_name = 'Closed Won' ORDER BY source, id LIMIT 1)"""),
    ("an MDM link removed (an account with one link leaves its company)", """
        DELETE FROM account_link WHERE (least(account_key, linked_key), greatest(account_key, linked_key)) = (
            SELECT least(account_key, linked_key), greatest(account_key, linked_key) FROM account_link
            WHERE account_key IN (SELECT account_key FROM account_link GROUP BY account_key HAVING count(*) = 1)
            ORDER BY account_key LIMIT 1)"""),
    ("an MDM link added between two companies (merged)", """
        INSERT INTO account_link
        SELECT x, y FROM (SELECT min(company_key) AS a, max(company_key) AS b
                          FROM (SELECT company_key FROM company_totals WHERE won_count > 0
                                ORDER BY company_key LIMIT 2) AS two) AS pair
        CROSS JOIN LATERAL (VALUES (a, b), (b, a)) AS both_ways (x, y)"""),
    ("an account added with a won opportunity", """
        WITH account AS (INSERT INTO account_record VALUES ('self-check', 'new-account', %(new_key)s)),
             deal AS (INSERT INTO opportunity_record
                      VALUES ('self-check', 'new-deal', %(new_key)s, 400000, 'Closed Won', current_date))
        SELECT 1"""),
    ("the new account linked to a company", """
        INSERT INTO account_link SELECT %(new_key)s, min(account_key) FROM account_link
        UNION ALL SELECT min(account_key), %(new_key)s FROM account_link"""),
    ("an account with MDM links removed", """
        DELETE FROM account_record WHERE account_key = (
            SELECT l.account_key FROM account_link l JOIN opportunity_record o USING (account_key)
            ORDER BY l.account_key LIMIT 1)"""),
    ("every 50th account's opportunities changed in one statement", """
        UPDATE opportunity_record SET amount = amount * 1.5 WHERE account_key %% 50 = 0"""),
)


def check_triggers(pg: Postgres, min_amount: float, page: str, within_days: int) -> dict[str, Any]:
    """The maintained tables after each kind of write (TRIGGER_STEPS) against a computation from scratch,
    in one transaction that is rolled back (the data stays as loaded); then the two variants' audiences on
    the changed data, which must be equal. Raises AssertionError on any drift, on a step that changed no
    company's figures (it would check nothing), or on different audiences. Returns per step the
    companies changed and the write's milliseconds (the trigger's work included: the write-time cost)."""
    steps: list[dict[str, Any]] = []
    with pg.connect() as conn:
        new_key = _scalar(conn, "SELECT max(account_key) + 1 FROM account_record")
        for name, statement in TRIGGER_STEPS:
            conn.execute("DROP TABLE IF EXISTS totals_before")
            conn.execute("CREATE TEMPORARY TABLE totals_before AS TABLE company_totals")
            started = time.perf_counter()
            conn.execute(statement, {"new_key": new_key})
            milliseconds = (time.perf_counter() - started) * 1000
            changed = _scalar(conn, TOTALS_CHANGED)
            drift = {"companies": _scalar(conn, COMPANY_DRIFT), "figures": _scalar(conn, TOTALS_DRIFT)}
            if not changed or any(drift.values()):
                raise AssertionError(f"trigger self-check, {name}: {changed} companies changed, drift {drift}")
            steps.append({"write": name, "companies_changed": changed, "write_ms": round(milliseconds, 2)})
        by_cte = _emails(conn, AUDIENCE_QUERY_TIME, min_amount, page, within_days)
        by_totals = _emails(conn, AUDIENCE_TOTALS, min_amount, page, within_days)
        if by_cte != by_totals:
            raise AssertionError(f"after the writes, the CTE finds {len(by_cte)} people, the totals {len(by_totals)}")
        conn.rollback()
    return {"steps": steps, "audience_after_writes": len(by_cte), "rolled_back": True}
