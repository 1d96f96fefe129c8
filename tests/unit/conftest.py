"""The unit tier: no Neo4j. A test here that asks for a fixture reaching Neo4j fails before any
fixture is set up, instead of starting a server; such a test belongs beside the Neo4j tests in tests/."""

from __future__ import annotations

import pytest

NEO4J_FIXTURES = frozenset({"neo4j_connection", "fault_neo4j"})  # every Neo4j fixture depends on one of these


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    wanted = NEO4J_FIXTURES & set(getattr(item, "fixturenames", ()))
    if wanted:
        pytest.fail(f"a unit test may not use Neo4j (it needs {', '.join(sorted(wanted))}); move it to tests/")
