"""Secrets (the Neo4j password, API keys, webhook secrets) appear in no log, no error and no answer:
a run of the service and the CLI that handles each of them, and fails on purpose where it can,
is searched for every one."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import httpx
import pytest

from service.auth.keys import parse
from service.database import Graph, Neo4jConnection
from tests.helpers import ApiKeys, ServerThread, run_cli
from tests.receiver import Receiver

pytestmark = pytest.mark.asyncio

ADD_WEBHOOK = """mutation ($url: String!, $secret: String!) {
  addDestination(name: "Hook", kind: WEBHOOK, url: $url, secret: $secret, mode: FULL) { name kind url mode } }"""
CREATE_SEGMENT = """mutation { createSegment(name: "Townsend",
  rule: {visits: {url: "https://www.bodea.com/products/new-product"}}) { id } }"""
ACTIVATE = """mutation ($id: ID!) { activate(segmentId: $id, destination: "Hook") { sent batches } }"""


async def test_no_secret_reaches_logs_errors_or_answers(seeded_graph: Graph, neo4j_connection: Neo4jConnection,
                                                       api_keys: ApiKeys, caplog: pytest.LogCaptureFixture,
                                                       capfd: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.INFO)
    webhook_secret = "whsec-" + secrets.token_hex(16)
    wrong_password = "not-the-password-" + secrets.token_hex(8)
    seen: list[str] = []  # everything a client or an operator was shown

    def remember(response: httpx.Response) -> dict[str, Any]:
        seen.append(response.text)
        seen.extend(f"{name}: {value}" for name, value in response.headers.items())
        return response.json()

    receiver = Receiver(failures=1, status=400)  # refuses the first batch: an error that names the receiver's answer
    try:
        with ServerThread(neo4j_connection, log_level="info", poll_seconds=3600, sweep_seconds=3600) as server:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                def graphql(query: str, key: str, **variables: Any) -> dict[str, Any]:
                    return remember(client.post("/graphql", json={"query": query, "variables": variables},
                                                headers=ApiKeys.header(key)))

                assert graphql(ADD_WEBHOOK, api_keys.admin, url=receiver.url, secret=webhook_secret)["data"]
                assert graphql("{ destinations { name kind url mode createdAt } }",
                               api_keys.admin)["data"]["destinations"]
                segment = graphql(CREATE_SEGMENT, api_keys.admin)["data"]["createSegment"]["id"]
                failed = graphql(ACTIVATE, api_keys.admin, id=segment)
                assert "refused with HTTP 400" in failed["errors"][0]["message"]
                assert graphql(ACTIVATE, api_keys.admin, id=segment)["data"]["activate"]["batches"]
                too_short = graphql(ADD_WEBHOOK.replace('"Hook"', '"Hook 2"'), api_keys.admin, url=receiver.url,
                                    secret="short")
                assert "at least 16 characters" in too_short["errors"][0]["message"]
                broken = (f'mutation {{ addDestination(name: "Hook 3", kind: WEBHOOK, url: "{receiver.url}", '
                          f'secret: "{webhook_secret}" ')
                assert "Syntax Error" in graphql(broken, api_keys.admin)["errors"][0]["message"]
                # Keys refused and scopes missing.
                assert "errors" in graphql(ADD_WEBHOOK, api_keys.read, url=receiver.url, secret=webhook_secret)
                wrong_secret = api_keys.admin[:-4] + "AAAA"
                assert client.post("/graphql", json={"query": "{ segments { id } }"},
                                   headers=ApiKeys.header(wrong_secret)).status_code == 401
                remember(client.post("/graphql", json={"query": "{ segments { id } }"},
                                     headers=ApiKeys.header(wrong_secret)))
                remember(client.post("/events", json={"source": "Marketo 1", "events": []},
                                     headers={"X-API-Key": wrong_secret}))
                assert graphql("{ apiKeys { id name scopes createdAt lastUsedAt } }", api_keys.admin)["data"]["apiKeys"]

        created = run_cli(neo4j_connection, "key", "create", "--name", "for the CLI run", "--scope", "admin")
        assert created.returncode == 0, created.stderr
        new_key = created.stdout.strip()  # printed once, on purpose: the only place a key may appear
        cli_runs = [created.stderr]
        for arguments in (("key", "list"), ("key", "revoke", parse(new_key).id),  # type: ignore[union-attr]
                          ("key", "list"),
                          ("destination", "add", "--name", "Hook 4", "--kind", "WEBHOOK",
                                                     "--url", receiver.url, "--secret-env", "HOOK_SECRET")):
            done = run_cli(neo4j_connection, *arguments, HOOK_SECRET=webhook_secret)
            cli_runs += [done.stdout, done.stderr]
        refused = run_cli(neo4j_connection, "key", "list", NEO4J_PASSWORD=wrong_password)
        assert refused.returncode != 0 and "unauthorized" in refused.stderr.lower(), refused.stderr
        cli_runs += [refused.stdout, refused.stderr]
    finally:
        receiver.close()

    output = capfd.readouterr()
    logs = caplog.text
    # The capture works: the server's access log and the refusals are in it.
    assert '"POST /graphql HTTP/1.1" 401' in output.out
    assert "POST /graphql refused: the API key is not valid (key id" in logs
    searched = {"answers": "\n".join(seen), "logs": logs, "stdout": output.out, "stderr": output.err,
                "cli": "\n".join(cli_runs)}
    keys = {name: getattr(api_keys, name) for name in ("admin", "read", "write")} | {"created": new_key}
    secret_values = {f"{name} key": key for name, key in keys.items()}
    secret_values |= {f"{name} key's secret": parse(key).secret  # type: ignore[union-attr]
                      for name, key in keys.items()}
    secret_values |= {"webhook secret": webhook_secret, "wrong Neo4j password": wrong_password,
                      "near-miss key": wrong_secret}
    if password := neo4j_connection.password.get_secret_value():
        secret_values["Neo4j password"] = password
    leaks = [(secret, where) for secret, value in secret_values.items()
             for where, text in searched.items() if value in text]
    assert leaks == []
