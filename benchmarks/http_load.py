"""GraphQL over HTTP under load: N concurrent clients, each sending its next request as soon as the
last one is answered, for a fixed time; latency percentiles, requests per second and errors.

The client runs in this process (asyncio, one keep-alive connection per client) on the same
machine as the server under test, and is the same for every server measured.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

CLIENTS = 10
WARM_UP_REQUESTS = 20  # per client, not counted: connections opened, plans cached
Variables = Callable[[int], dict[str, Any]]  # request number -> the variables of that request


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    first_error: str | None = None

    def percentile(self, share: float) -> float | None:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return None
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]

    def summary(self) -> dict[str, Any]:
        return {"requests": self.requests, "errors": self.errors, "seconds": round(self.seconds, 2),
                "requests_per_second": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
                "p50_ms": _round(self.percentile(0.50)), "p95_ms": _round(self.percentile(0.95)),
                "p99_ms": _round(self.percentile(0.99)), "first_error": self.first_error}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _failure(response: httpx.Response) -> str | None:
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    errors = response.json().get("errors")
    return f"GraphQL errors: {str(errors)[:200]}" if errors else None


async def post(client: httpx.AsyncClient, url: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """One GraphQL request; the whole response body (errors included)."""
    response = await client.post(url, json={"query": query, "variables": variables})
    response.raise_for_status()
    return response.json()


async def load(url: str, query: str, variables: Variables, seconds: float, clients: int = CLIENTS,
               warm_up: int = WARM_UP_REQUESTS, headers: dict[str, str] | None = None) -> LoadResult:
    numbers = itertools.count()  # shared: every request gets the next number, so variables vary

    async def client_loop(client: httpx.AsyncClient, deadline: float | None, count: int | None,
                          result: LoadResult) -> None:
        sent = 0
        while (deadline is None or time.perf_counter() < deadline) and (count is None or sent < count):
            started = time.perf_counter()
            try:
                response = await client.post(url, json={"query": query, "variables": variables(next(numbers))})
                failure = _failure(response)
            except httpx.HTTPError as error:
                failure = f"{type(error).__name__}: {error}"
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            result.requests += 1
            sent += 1
            if failure:
                result.errors += 1
                result.first_error = result.first_error or failure

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=120, headers=headers) as client:
        warming = LoadResult(0, 0, 0.0, [])
        await asyncio.gather(*(client_loop(client, None, warm_up, warming) for _ in range(clients)))
        result = LoadResult(0, 0, 0.0, [])
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(client_loop(client, deadline, None, result) for _ in range(clients)))
        result.seconds = time.perf_counter() - started
    if warming.errors:
        result.errors += warming.errors
        result.first_error = result.first_error or warming.first_error
    return result
