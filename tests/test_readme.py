"""The README's curl example, run as written (but for the address) against the running service."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from service.auth.store import MISSING
from service.config import PROJECT_ROOT
from service.database import Graph
from tests.helpers import ApiKeys

README = (PROJECT_ROOT / "README.md").read_text()
DEMO_ADDRESS = "http://127.0.0.1:8000"


def curl_example() -> tuple[str, str]:
    """The shell block of the curl example and the JSON answer shown after it."""
    match = re.search(r"```sh\n(export ACCOUNTGRAPH_KEY=.*?curl .*?)```\s*```json\n(.*?)```", README, re.DOTALL)
    assert match, "the README has no curl example followed by its answer"
    return match[1], match[2]


def run(script: str, key: str) -> str:
    commands = "\n".join(line for line in script.splitlines() if not line.startswith("export "))
    done = subprocess.run(["bash", "-c", commands], env={**os.environ, "ACCOUNTGRAPH_KEY": key},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.asyncio
async def test_the_curl_example_answers_as_shown(live_server: str, seeded_graph: Graph, api_keys: ApiKeys) -> None:
    script, answer = curl_example()
    assert DEMO_ADDRESS in script and "$ACCOUNTGRAPH_KEY" in script
    script = script.replace(DEMO_ADDRESS, live_server)
    assert json.loads(run(script, api_keys.read)) == json.loads(answer)
    assert json.loads(run(script, ""))["errors"][0]["message"] == MISSING
    assert MISSING in " ".join(README.split())  # the README quotes the refusal as it is
