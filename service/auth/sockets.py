"""Open subscriptions keep being checked. A WebSocket presents its key once, in connection_init;
from then on the keys of all open sockets are looked up again every RECHECK_SECONDS (one lookup
per key, however many sockets share it), and the sockets of a key that no longer passes (revoked)
are closed with code 4403 and the reason, e.g. "the API key was revoked": within a second of the
revocation, wherever it was made.

While Neo4j is out of reach the keys cannot be checked and the sockets stay open: nothing reaches
them then either, since every change they carry comes from an evaluation in Neo4j.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress

from starlette.websockets import WebSocket

from service.auth.http import log_refusal
from service.auth.store import KeyChecker, Unauthenticated
from service.database import DatabaseUnavailable, QueryTimeout

log = logging.getLogger("accountgraph")

RECHECK_SECONDS = 1.0  # each check uses lookups sent at or after it started: a revocation counts within this
REFUSED_CLOSE_CODE = 4403  # as for a refused connection_init: Forbidden


class SocketKeys:
    """The open sockets and the key each presented; `run()` re-checks them until cancelled."""

    def __init__(self, checker: KeyChecker, every: float = RECHECK_SECONDS) -> None:
        self.checker = checker
        self.every = every
        self._open: dict[int, tuple[WebSocket, str]] = {}  # id of the socket's ASGI scope -> (socket, key)
        self._unchecked = False  # Neo4j out of reach: said once per outage, not every second

    def __len__(self) -> int:
        return len(self._open)

    def add(self, socket: WebSocket, presented: str) -> None:
        self._open[id(socket.scope)] = (socket, presented)

    def discard(self, scope: object) -> None:
        """The connection of this ASGI scope ended (called once it did, so the id is not reused before)."""
        self._open.pop(id(scope), None)

    async def run(self) -> None:
        """Check every `every` seconds until cancelled."""
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.check()
            except Exception:  # the checks must outlive a failed round
                log.exception("re-checking the keys of open WebSockets failed; retrying")

    async def check(self) -> None:
        """Look every open socket's key up (sent from now on) and close those of refused keys."""
        started = time.monotonic()
        by_key: dict[str, list[WebSocket]] = {}
        for socket, presented in list(self._open.values()):
            by_key.setdefault(presented, []).append(socket)
        unchecked = await asyncio.gather(*(self._check(presented, sockets, started)
                                           for presented, sockets in by_key.items()))
        if any(unchecked) and not self._unchecked:
            log.warning("the keys of open WebSockets cannot be checked while Neo4j is out of reach; they stay open")
        self._unchecked = any(unchecked)

    async def _check(self, presented: str, sockets: list[WebSocket], fresh_since: float) -> bool:
        """Close the sockets if their key is refused; True if it could not be checked."""
        try:
            await self.checker.authenticate(presented, fresh_since=fresh_since)
        except Unauthenticated as refused:
            log_refusal(f"{len(sockets)} open WebSocket(s) /graphql", presented, str(refused))
            for socket in sockets:
                self.discard(socket.scope)
                with suppress(RuntimeError):  # it closed meanwhile
                    await socket.close(code=REFUSED_CLOSE_CODE, reason=str(refused))
        except (DatabaseUnavailable, QueryTimeout):
            return True
        return False
