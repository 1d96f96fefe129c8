"""Helpers of the fault tests: kill the fault Neo4j, connect to it. Fixtures are in conftest.py."""

from __future__ import annotations

import os
import signal
import time

from pydantic import SecretStr

from service.database import Neo4jConnection
from service.neo4j_server import LocalNeo4j

PASSWORD = "fault-password"


def kill(server: LocalNeo4j) -> None:
    """SIGKILL the server's JVM (no shutdown, no checkpoint) and wait until it is gone."""
    pid = server.running_pid()
    assert pid is not None, "the fault Neo4j is not running"
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while server.running_pid() == pid:
        try:
            os.waitpid(pid, os.WNOHANG)  # reap it: it is our child (posix_spawn)
        except ChildProcessError:
            pass
        assert time.monotonic() < deadline, "the killed JVM did not go away"
        time.sleep(0.05)
    server.pid_file.unlink(missing_ok=True)


def connection_of(server: LocalNeo4j) -> Neo4jConnection:
    return Neo4jConnection(server.uri, "neo4j", SecretStr(PASSWORD), "neo4j")
