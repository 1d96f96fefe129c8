"""The Townsend audience as plain SQL in PostgreSQL: the relational alternative for the benchmarks.

Used as a library by a benchmark script:

    ensure_installed()
    with throwaway_postgres() as pg:
        figures = load(pg, export_root)                  # tables, COPY, indexes, companies, ANALYZE
        emails = audience(pg, 100_000.0, NEW_PRODUCT_PAGE, 30)
        pg.restart()                                     # cold PostgreSQL buffers (not the OS page cache)

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
  indexes, the records (`account_record`, `opportunity_record`, below), `account_link` and
  `account_company` (below), and ANALYZE.
- `audience()` answers the rule with the company unification done by a recursive CTE at query time;
  `audience_materialized()` reads the companies from `account_company`, computed at load.

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

# ... and each account's company: the smallest account_key reachable over them (label propagation by a
# recursive CTE from every account: UNION keeps each pair once, so cycles end).
MATERIALIZE_COMPANIES = """
CREATE TABLE account_company AS
WITH RECURSIVE reach (account_key, reached_key) AS (
    SELECT DISTINCT account_key, account_key FROM account_record
    UNION
    SELECT r.account_key, l.linked_key FROM reach r JOIN account_link l ON l.account_key = r.reached_key
)
SELECT account_key, min(reached_key) AS company_key FROM reach GROUP BY account_key;
ALTER TABLE account_company ADD PRIMARY KEY (account_key);
CREATE INDEX account_company_company ON account_company (company_key);
"""

# The rule. {company_member} gives, for each candidate account, every account of its company
# (itself included): (account_key, member_key).
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
    {company_member},
    won_account AS (  -- (b) candidate accounts whose company's Closed Won total is over the amount
        SELECT m.account_key
        FROM company_member m
        JOIN opportunity_record o ON o.account_key = m.member_key
        WHERE o.stage_name = 'Closed Won'
        GROUP BY m.account_key
        HAVING sum(o.amount) > %(min_amount)s
    )
SELECT DISTINCT candidate.email
FROM candidate
JOIN won_account USING (account_key)
"""
# The company unification at query time: a recursive CTE from the candidate accounts over account_link.
AUDIENCE_QUERY_TIME = AUDIENCE.format(company_member="""company_member (account_key, member_key) AS (
        SELECT DISTINCT account_key, account_key FROM candidate
        UNION
        SELECT m.account_key, l.linked_key FROM company_member m JOIN account_link l ON l.account_key = m.member_key
    )""")
# ... or read from account_company, built at load by the same kind of CTE.
AUDIENCE_MATERIALIZED = AUDIENCE.format(company_member="""company_member (account_key, member_key) AS (
        SELECT DISTINCT c.account_key, m.account_key
        FROM candidate
        JOIN account_company c USING (account_key)
        JOIN account_company m USING (company_key)
    )""")


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
    """Tables, COPY of every CSV file, indexes, the materialized companies, ANALYZE, in one transaction.

    Returns {"rows": {table: rows copied, and account_record, opportunity_record, account_link,
    account_company}, "total_rows" (copied), "seconds": {"copy", "indexes", "records", "companies", "analyze",
    "total"}}: wall seconds, the commit in "analyze"."""
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
                                 ("companies", ACCOUNT_LINKS + MATERIALIZE_COMPANIES),
                                 ("analyze", "ANALYZE")):
            begun = time.perf_counter()
            conn.execute(statements)
            if step == "analyze":
                conn.commit()
            seconds[step] = time.perf_counter() - begun
        for table in ("account_record", "opportunity_record"):
            rows[table] = _scalar(conn, f"SELECT count(*) FROM {table}")
        rows["account_link"] = _scalar(conn, "SELECT count(*) FROM account_link")
        rows["account_company"] = _scalar(conn, "SELECT count(*) FROM account_company")
    seconds["total"] = time.perf_counter() - started
    return {"rows": rows, "total_rows": total_rows, "seconds": seconds}


def _scalar(conn: psycopg.Connection[Any], query: str) -> Any:
    row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


# ---- the audience -----------------------------------------------------------------------------


def _parameters(min_amount: float, page: str, within_days: int) -> dict[str, Any]:
    return {"min_amount": float(min_amount), "page": page, "within_days": int(within_days)}


def _emails(pg: Postgres, query: str, min_amount: float, page: str, within_days: int) -> set[str]:
    rows = pg.session().execute(query, _parameters(min_amount, page, within_days))
    return {email for (email,) in rows}


def audience(pg: Postgres, min_amount: float, page: str, within_days: int) -> set[str]:
    """The normalised emails of the rule, the companies unified by the recursive CTE at query time."""
    return _emails(pg, AUDIENCE_QUERY_TIME, min_amount, page, within_days)


def audience_materialized(pg: Postgres, min_amount: float, page: str, within_days: int) -> set[str]:
    """The same, reading the companies from account_company (the same CTE, materialized by load())."""
    return _emails(pg, AUDIENCE_MATERIALIZED, min_amount, page, within_days)


def explain(pg: Postgres, materialized: bool, min_amount: float, page: str, within_days: int) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of either query, for finding where the time goes."""
    query = AUDIENCE_MATERIALIZED if materialized else AUDIENCE_QUERY_TIME
    rows = pg.session().execute("EXPLAIN (ANALYZE, BUFFERS) " + query, _parameters(min_amount, page, within_days))
    return "\n".join(row[0] for row in rows)


if __name__ == "__main__":
    print(ensure_installed())
