"""The API limits come from the settings (moved from test_limits.py: no Neo4j needed)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.config import Settings
from service.limits import ApiLimits, GroupWindow

LIMITS = ApiLimits()


def test_the_settings_carry_the_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHQL_INTROSPECTION", "false")
    monkeypatch.setenv("GRAPHQL_MAX_DEPTH", "8")
    monkeypatch.setenv("NEO4J_QUERY_TIMEOUT_SECONDS", "2.5")
    limits = Settings().limits()
    assert (limits.introspection, limits.max_depth, limits.query_timeout_seconds) == (False, 8, 2.5)
    assert Settings().limits().max_aliases == LIMITS.max_aliases
    monkeypatch.setenv("NEO4J_QUERY_TIMEOUT_SECONDS", "0")  # 0 would mean no timeout at all to Neo4j
    with pytest.raises(ValidationError, match="neo4j_query_timeout_seconds"):
        Settings()


def test_the_settings_carry_the_group_commit_window(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().group_window() == GroupWindow(seconds=0.005, max_rows=500)
    monkeypatch.setenv("GROUP_COMMIT_WINDOW_MS", "12")
    monkeypatch.setenv("GROUP_COMMIT_MAX_EVENTS", "40")
    assert Settings().group_window() == GroupWindow(seconds=0.012, max_rows=40)
    monkeypatch.setenv("GROUP_COMMIT_MAX_EVENTS", "0")  # a group holds at least the request that opened it
    with pytest.raises(ValidationError, match="group_commit_max_events"):
        Settings()
