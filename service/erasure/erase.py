"""Erasing one person: the graph part in one transaction, then the activation files.

The person (by normalised email), their web visits and every relationship they have go; a
`Suppression` (the hash of the email) and a `SuppressedId` per source id they had are recorded
in the same transaction, so that no import brings them back (service.ingest.suppressed). Then
the activation files under EXPORTS_DIR lose their lines. The log names the suppression's hash
prefix, never the email.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.database import Graph, Transaction
from service.erasure.exports import ExportScrub, scrub_exports
from service.erasure.hashing import email_hash, id_hash, shown
from service.errors import AccountGraphError, ErrorCode
from service.queries import Q
from service.text import normalised_email

log = logging.getLogger("accountgraph.erasure")


class ErasureError(AccountGraphError, ValueError):
    default_code = ErrorCode.VALIDATION_FAILED


@dataclass(frozen=True)
class Erasure:
    """What an erasure deleted and changed."""

    suppression: str  # the prefix of the email's suppression hash: how logs and answers name the person
    person: int  # 1, or 0 when the graph held no such person (the suppression is recorded all the same)
    web_visits: int
    relationships: dict[str, int]  # by type: KNOWN_IN, VISITED, ASSOCIATED_WITH, IN_SEGMENT, SENT_TO, ...
    suppressed_ids: int  # source ids recorded (hashed) with the suppression
    destinations: list[str]  # destinations that had received the person: they hold them still (tell them)
    segments_naming: list[str]  # saved segments whose rule holds the email as a value (edit them)
    webhook_deliveries: int = 0  # undelivered webhook deliveries the person was taken out of
    exports: ExportScrub = field(default_factory=ExportScrub)

    def summary(self) -> str:
        relationships = ", ".join(f"{kind} {count}" for kind, count in sorted(self.relationships.items())) or "none"
        text = (f"suppression {self.suppression}: {self.person} person, {self.web_visits} web visits, "
                f"relationships: {relationships}; {self.suppressed_ids} source ids suppressed; "
                f"{self.webhook_deliveries} undelivered webhook deliveries changed; "
                f"exports: {self.exports.lines} lines removed from {len(self.exports.files)} files")
        if self.exports.failed:
            text += f", {len(self.exports.failed)} files could not be changed"
        return text


async def _erase_in_graph(tx: Transaction, email: str) -> dict[str, Any]:
    found = await tx.run(Q.PERSON_IDS_AND_DESTINATIONS, email=email)
    ids = found[0]["ids"] if found else []
    id_hashes = sorted({id_hash(known["source"], known["sourceKey"]) for known in ids})
    erased = await tx.run(Q.PERSON_ERASE, email=email)
    [deliveries] = await tx.run(Q.PERSON_DELIVERIES_SCRUB, email=email)
    await tx.run(Q.PERSON_SUPPRESS, hash=email_hash(email), idHashes=id_hashes)
    segments = await tx.run(Q.SEGMENTS_NAMING_EMAIL, email=email)
    return {
        "person": len(erased),
        "visits": erased[0]["visits"] if erased else 0,
        "relationships": {r["type"]: r["count"] for r in erased[0]["relationships"]} if erased else {},
        "ids": len(id_hashes),
        "destinations": found[0]["destinations"] if found else [],
        "segments": [row["name"] for row in segments],
        "deliveries": deliveries["deliveries"],
    }


async def erase(graph: Graph, address: str, exports_dir: Path) -> Erasure:
    """Erase the person with this email everywhere the project holds them; ErasureError if not an email."""
    try:
        email = normalised_email(address)
    except ValueError:
        raise ErasureError("email: not an email address") from None
    done = await graph.write_work(_erase_in_graph, email)
    erasure = Erasure(
        suppression=shown(email_hash(email)), person=done["person"], web_visits=done["visits"],
        relationships=done["relationships"], suppressed_ids=done["ids"], destinations=done["destinations"],
        segments_naming=done["segments"], webhook_deliveries=done["deliveries"],
        exports=scrub_exports(exports_dir, email),
    )
    log.warning("erasure: %s", erasure.summary())
    for failure in erasure.exports.failed:
        log.warning("erasure %s: could not change %s", erasure.suppression, failure)
    return erasure
