"""The Neo4j GraphQL Library side of the side-by-side benchmark: install and run
benchmarks/neo4j_graphql/server.mjs, the three operations it is measured on, and their answers.

    install()
    with serve(uri, "neo4j", password, port) as endpoint:
        httpx.post(endpoint, json={"query": PERSON, "variables": {"email": email}})
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from service.config import PROJECT_ROOT

SERVER_DIR = PROJECT_ROOT / "benchmarks" / "neo4j_graphql"
START_TIMEOUT = 60.0

# (a) a person by email, with their accounts
PERSON = """query Person($email: String!) {
  people(where: {email: {eq: $email}}) {
    email firstName lastName title
    accounts { source sourceKey name }
  }
}"""

# (b) the first 100 members of a saved segment, in email order
MEMBERS = """query Members($id: ID!) {
  segments(where: {id: {eq: $id}}) {
    members(limit: 100, sort: [{email: ASC}]) { email firstName lastName }
  }
}"""

# (c) the audience count (hand-written Cypher in server.mjs)
COUNT = """query AudienceCount($minCompanyWonAmount: Float!, $visitedPage: String!, $withinDays: Int!) {
  audienceCount(minCompanyWonAmount: $minCompanyWonAmount, visitedPage: $visitedPage, withinDays: $withinDays)
}"""


def install() -> None:
    """`npm ci` unless node_modules is there and at least as new as the lock file."""
    marker = SERVER_DIR / "node_modules" / ".package-lock.json"
    lock = SERVER_DIR / "package-lock.json"
    if not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(["npm", "ci", "--prefix", str(SERVER_DIR), "--no-audit", "--no-fund"], check=True)


@contextmanager
def serve(uri: str, user: str, password: str, port: int) -> Iterator[str]:
    """`node server.mjs` against the graph at `uri`; yields the endpoint once it answers, stops it after."""
    endpoint = f"http://127.0.0.1:{port}/graphql"
    env = {**os.environ, "NEO4J_URI": uri, "NEO4J_USER": user, "NEO4J_PASSWORD": password, "PORT": str(port)}
    process = subprocess.Popen(["node", "server.mjs"], cwd=SERVER_DIR, env=env)
    try:
        _wait_until_ready(process, endpoint)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(process: subprocess.Popen[bytes], endpoint: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server.mjs exited with code {process.returncode}")
        try:
            if httpx.post(endpoint, json={"query": "{ __typename }"}, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"server.mjs did not answer at {endpoint} within {START_TIMEOUT:.0f} s")
        time.sleep(0.2)


def _data(response: dict[str, Any]) -> dict[str, Any]:
    if response.get("errors"):
        raise RuntimeError(f"GraphQL errors: {response['errors']}")
    return response["data"]


def person_answer(data: dict[str, Any]) -> dict[str, Any]:
    """The person of a PERSON response ({} if none), accounts ordered by (source, sourceKey)."""
    people = _data(data)["people"]
    if not people:
        return {}
    person = people[0]
    accounts = sorted(person["accounts"], key=lambda a: (a["source"], a["sourceKey"]))
    return {**person, "accounts": accounts}


def members_answer(data: dict[str, Any]) -> list[str]:
    """The member emails of a MEMBERS response, in the order given ([] if no such segment)."""
    segments = _data(data)["segments"]
    return [member["email"] for member in segments[0]["members"]] if segments else []


def count_answer(data: dict[str, Any]) -> int:
    """The count of a COUNT response."""
    return int(_data(data)["audienceCount"])
