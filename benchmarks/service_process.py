"""The real service in its own process (`python -m service.cli serve`), for the benchmarks that
measure it over HTTP: so the client and the server do not share a GIL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from service.config import PROJECT_ROOT
from service.database import Neo4jConnection
from service.neo4j_server import free_port


def environment(connection: Neo4jConnection, **settings: str) -> dict[str, str]:
    """The service's settings for a benchmark: its Neo4j, and no rate limit per key (a benchmark
    measures what the service can answer, with one key for all its clients)."""
    return {**os.environ, "NEO4J_URI": connection.uri, "NEO4J_USER": connection.user,
            "NEO4J_PASSWORD": connection.password.get_secret_value(), "NEO4J_DATABASE": connection.database,
            "RATE_LIMIT_PER_SECOND": "0", **settings}


@contextmanager
def serve(connection: Neo4jConnection, log: Path, checkout: Path = PROJECT_ROOT, profile: Path | None = None,
          ready_within: float = 600, **settings: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The service of `checkout` (this one unless told) against `connection` on a free loopback port,
    once `/readyz` says ready (its warm-up included: within `ready_within` seconds, or it fails);
    stopped on exit. With `profile`, it runs under cProfile, which writes its statistics there when
    the service stops."""
    port = free_port()
    env = environment(connection, HOST="127.0.0.1", PORT=str(port), **settings)
    with log.open("wb") as output:
        profiling = ["-m", "cProfile", "-o", str(profile)] if profile else []
        process = subprocess.Popen([sys.executable, *profiling, "-m", "service.cli", "serve"], cwd=checkout, env=env,
                                   stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_within
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the service exited ({process.returncode}); see {log}")
            try:
                if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the service was not ready within {ready_within:g} s; see {log}")
            time.sleep(0.2)
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly (the live loop is cancelled)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
