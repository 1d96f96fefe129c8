"""Stored keys by id, kept in the process for at most a second: what spares most requests the
round trip to Neo4j that checking their key would cost, while a revocation made anywhere (another
process, the CLI) still reaches every request within that second.

A lookup's age counts from the moment it was sent, so any lookup sent after a revocation committed
sees it. Requests that need the same id while its lookup is under way wait for that lookup instead
of sending their own, as long as it was sent recently enough for them.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

KEY_CACHE_SECONDS = 1.0  # how old a stored key a request may be checked against
CACHED_IDS = 10_000  # ids remembered at once, unknown ones included; the least recent are dropped first

StoredKey = dict[str, Any]  # the key's row (id, name, scopes, hash, revokedAt, lastUsedAt)
Fetch = Callable[[str], Awaitable[StoredKey | None]]


@dataclass(frozen=True)
class Lookup:
    sent_at: float  # time.monotonic() when the lookup was sent: its answer is at least this recent
    stored: StoredKey | None  # None: no key has this id


class KeyLookups:
    """`get(id, fresh_since)`: the stored key by a lookup sent at or after `fresh_since`."""

    def __init__(self, fetch: Fetch, capacity: int = CACHED_IDS) -> None:
        self.fetch = fetch
        self.capacity = capacity
        self._done: OrderedDict[str, Lookup] = OrderedDict()
        self._under_way: dict[str, tuple[float, asyncio.Future[Lookup]]] = {}
        self._forgotten_at: dict[str, float] = {}

    async def get(self, key_id: str, fresh_since: float) -> StoredKey | None:
        done = self._done.get(key_id)
        if done is not None and done.sent_at >= fresh_since:
            return done.stored
        under_way = self._under_way.get(key_id)
        if under_way is not None and under_way[0] >= fresh_since:
            # Shielded: a request that goes away (its client disconnected) does not cancel the
            # lookup the others wait for.
            return (await asyncio.shield(under_way[1])).stored
        return (await self._send(key_id)).stored

    def forget(self, key_id: str) -> None:
        """After this process changed the key (revoked it): no lookup sent before now is used again."""
        self._done.pop(key_id, None)
        self._under_way.pop(key_id, None)
        self._forgotten_at[key_id] = time.monotonic()

    def _send(self, key_id: str) -> asyncio.Future[Lookup]:
        sent_at = time.monotonic()
        task = asyncio.ensure_future(self._lookup(key_id, sent_at))
        self._under_way[key_id] = (sent_at, task)
        task.add_done_callback(lambda finished: self._finished(key_id, finished))
        return asyncio.shield(task)

    async def _lookup(self, key_id: str, sent_at: float) -> Lookup:
        return Lookup(sent_at, await self.fetch(key_id))

    def _finished(self, key_id: str, task: asyncio.Future[Lookup]) -> None:
        if self._under_way.get(key_id, (None, None))[1] is task:
            del self._under_way[key_id]
        if task.cancelled() or task.exception() is not None:  # retrieved, so never logged as unretrieved
            return  # nothing kept: the next request looks again
        lookup = task.result()
        if lookup.sent_at <= self._forgotten_at.get(key_id, float("-inf")):
            return  # sent before this process changed the key
        kept = self._done.get(key_id)
        if kept is None or kept.sent_at < lookup.sent_at:
            self._done[key_id] = lookup
            self._done.move_to_end(key_id)
            while len(self._done) > self.capacity:
                self._done.popitem(last=False)
