"""Helpers the tests share: ad-hoc Cypher, the CLI as a subprocess, GraphQL in-process, the
service in a thread, the session's API keys. Fixtures stay in conftest.py; tests import these."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from strawberry.types import ExecutionResult

from service.app import create_app
from service.auth.keys import ALL_SCOPES, ApiKey
from service.cli.server import EVENT_LOOP, HTTP_PARSER
from service.config import get_settings
from service.database import Graph, Neo4jConnection
from service.ingest.pipeline import ingest_path
from service.neo4j_server import LocalNeo4j, free_port
from service.realtime.live import LiveAudiences
from service.segments import engine
from service.timeouts import WARMUP_SECONDS

SEED_DIR = get_settings().seed_dir
# The local Neo4j server of the test session, when the tests started one (not with NEO4J_TEST_URI or
# testcontainers): its Browser's port and configuration (test_neo4j_browser).
LOCAL_NEO4J: list[LocalNeo4j] = []
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
AccountKey = tuple[str, str]
# A URL pattern and a URL it almost matches: the obvious regular expression backtracks for ever on it.
NEAR_MISS_PATTERN = "*a" * 8 + "*b"
NEAR_MISS_URL = "https://x.example/" + "a" * 50


async def run_cypher(graph: Graph, statement: str, **parameters: object) -> list[dict[str, object]]:
    """Ad-hoc Cypher for test set-up and assertions only; the product's queries live in cypher/."""
    records, _, _ = await graph.driver.execute_query(statement, parameters, database_=graph.database)
    return [record.data() for record in records]


def run_cli(connection: Neo4jConnection, *arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """The real `accountgraph` command, pointed at the test Neo4j."""
    env = {**os.environ, "NEO4J_URI": connection.uri, "NEO4J_USER": connection.user,
           "NEO4J_PASSWORD": connection.password.get_secret_value(), **environment}
    return subprocess.run([sys.executable, "-m", "service.cli", *arguments], env=env,
                          capture_output=True, text=True, timeout=120)


def interrupt(process: subprocess.Popen[Any], timeout: float) -> None:
    """Ctrl-C, as a user stops the service; killed if it has not stopped within `timeout` (and the
    test fails: a service must stop when asked)."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


class ServiceProcess:
    """`accountgraph serve` in processes of its own (`workers` of them behind one port), on the test
    Neo4j, with settings as environment variables; ready once `ready_in_a_row` answers of /readyz in a
    row say so (any worker may answer one). Stopped with Ctrl-C on exit unless killed before."""

    def __init__(self, connection: Neo4jConnection, log: Path, workers: int = 1, ready_in_a_row: int = 1,
                 **settings: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.ready_in_a_row = ready_in_a_row
        self.env = {**os.environ, "NEO4J_URI": connection.uri, "NEO4J_USER": connection.user,
                    "NEO4J_PASSWORD": connection.password.get_secret_value(), "PORT": str(self.port), **settings}
        self.command = [sys.executable, "-m", "service.cli", "serve", "--workers", str(workers)]
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ServiceProcess:
        with self.log.open("w") as output:
            self.process = subprocess.Popen(self.command, cwd=Path(__file__).resolve().parent.parent, env=self.env,
                                            stdout=output, stderr=subprocess.STDOUT)
        ready, deadline = 0, time.monotonic() + 180
        while ready < self.ready_in_a_row:
            assert self.process.poll() is None and time.monotonic() < deadline, self.log.read_text()
            try:
                ready = ready + 1 if httpx.get(f"{self.url}/readyz", timeout=5).status_code == 200 else 0
            except httpx.TransportError:
                ready = 0
            time.sleep(0.1)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: the process dies at once, in whatever it was doing."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def __exit__(self, *exception: object) -> None:
        if self.process is not None and self.process.poll() is None:
            interrupt(self.process, timeout=60)


# The ids of the session's API keys: the per-test wipe keeps them.
SESSION_KEY_IDS: set[str] = set()


async def wipe(graph: Graph) -> None:
    """Delete every node but the session's API keys."""
    await run_cypher(graph, "MATCH (n) WHERE NOT (n:ApiKey AND n.id IN $kept) DETACH DELETE n",
                     kept=sorted(SESSION_KEY_IDS))


class ApiKeys:
    """Keys of the test session, as clients send them."""

    def __init__(self, admin: str, read: str, write: str) -> None:
        self.admin, self.read, self.write = admin, read, write

    @staticmethod
    def header(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    @property
    def admin_header(self) -> dict[str, str]:
        return self.header(self.admin)


class ServerThread:
    """The real application served by uvicorn in a thread (`keys`: what its tests call it with), on
    the event loop and HTTP parser `accountgraph serve` uses, so the tests cover what is deployed."""

    keys: ApiKeys | None = None

    def __init__(self, connection: Neo4jConnection, log_level: str = "warning", wait_ready: bool = True,
                 **options: Any) -> None:
        self.wait_ready = wait_ready  # for /readyz: the schema is applied in the background
        self.port = free_port()
        self.app = create_app(connection, **options)
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level=log_level,
                                                    loop=EVENT_LOOP, http=HTTP_PARSER))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        # Ready once warmed: on a Neo4j just started (the first server of a session) the warm-up of
        # every query takes some 20 s here, and may take up to WARMUP_SECONDS.
        deadline = time.monotonic() + WARMUP_SECONDS + 10
        while self.wait_ready and httpx.get(f"{self.url}/readyz", timeout=10).status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not become ready")
            time.sleep(0.05)
        return self

    def __exit__(self, *exception: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def messages(response: httpx.Response) -> list[str]:
    """The GraphQL error messages of an HTTP answer."""
    return [error["message"] for error in response.json().get("errors") or []]


# In-process GraphQL acts as this key unless told otherwise (it is not stored: no HTTP checks it).
IN_PROCESS_ADMIN = ApiKey(id="in-process", name="tests, in-process", scopes=ALL_SCOPES)


async def execute_graphql(graph: Graph, query: str, key_: ApiKey | None = IN_PROCESS_ADMIN,
                          **variables: Any) -> ExecutionResult:
    """Run a GraphQL operation in-process against the real graph (no HTTP), as `key_`."""
    from service.api.context import Context
    from service.api.schema import schema

    context = Context(request=None, response=None, graph=graph, key=key_)  # type: ignore[arg-type]
    return await schema.execute(query, variable_values=variables, context_value=context)


async def graphql_data(graph: Graph, query: str, **variables: Any) -> dict[str, Any]:
    """The data of a GraphQL operation that must succeed."""
    result = await execute_graphql(graph, query, **variables)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


class Companies:
    """Union-find over accounts: MDM links, in either direction and chained, make one company."""

    def __init__(self) -> None:
        self.parent: dict[AccountKey, AccountKey] = {}

    def add(self, account: AccountKey) -> None:
        self.parent.setdefault(account, account)

    def find(self, account: AccountKey) -> AccountKey:
        root = account
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[account] != root:
            self.parent[account], account = root, self.parent[account]
        return root

    def union(self, a: AccountKey, b: AccountKey) -> None:
        self.parent[self.find(a)] = self.find(b)

    def roots(self) -> set[AccountKey]:
        return {self.find(account) for account in self.parent}


async def import_linked_crm(graph: Graph, tmp_path: Path, files: dict[str, str]) -> None:
    """`files` as CRM 1's export, then an MDM link joining its accounts A and B into one company."""
    folder = tmp_path / "crm"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    await ingest_path(graph, folder, "CRM 1")
    (tmp_path / "same-company.csv").write_text("LinkId,SourceA,AccountIdA,SourceB,AccountIdB\nM1,CRM 1,A,CRM 1,B\n")
    await ingest_path(graph, tmp_path / "same-company.csv", mdm=True)


PREVIEW = """query ($rule: RuleInput!) { preview(rule: $rule) { count members(first: 100) { members { email } } } }"""


async def selected(graph: Graph, rule: dict[str, Any]) -> list[str]:
    """The emails a rule selects (preview), after checking the preview's count agrees with them."""
    preview = (await graphql_data(graph, PREVIEW, rule=rule))["preview"]
    emails = [m["email"] for m in preview["members"]["members"]]
    assert preview["count"] == len(emails)
    return emails


def ago(days: float = 0, seconds: float = 0) -> str:
    return (datetime.now(UTC) - timedelta(days=days, seconds=seconds)).isoformat()


async def save_segment(graph: Graph, name: str, rule: dict[str, Any], subject: str = "PERSON") -> str:
    """A saved segment (subject COMPANY: an account audience), evaluated once."""
    data = await graphql_data(graph, """mutation ($n: String!, $r: RuleInput!, $s: Subject!) {
                                  createSegment(name: $n, rule: $r, subject: $s) { id } }""",
                              n=name, r=rule, s=subject)
    segment_id = data["createSegment"]["id"]
    await engine.evaluate(graph, segment_id)
    return segment_id


@asynccontextmanager
async def running(live: LiveAudiences) -> AsyncIterator[None]:
    """The live loop (with its webhook outbox) in a task, as the service runs it; stopped after."""
    task = asyncio.create_task(live.run())
    await asyncio.sleep(2)  # its first round is done: from here on a round starts on a wake or the poll
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
