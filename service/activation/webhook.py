"""Webhook delivery: JSON batches signed with HMAC-SHA256, retried with back-off, idempotent by batch id."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from service.activation.addresses import AddressRefused, check_webhook_url
from service.errors import AccountGraphError, ErrorCode
from service.limits import RetryPolicy

BATCH_SIZE = 500
SIGNATURE_HEADER = "X-Accountgraph-Signature"
BATCH_HEADER = "X-Accountgraph-Batch-Id"
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class DeliveryFailed(AccountGraphError, RuntimeError):
    """The receiver refused a batch, or did not take it within the retries: the receiver's failure."""

    default_code = ErrorCode.DELIVERY_FAILED


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def batches(header: dict[str, Any], entered: list[dict[str, Any]], left: list[str]) -> list[bytes]:
    """The changes cut into batches; a batch's id is a hash of its content, so a resend has the same id."""
    changes = [("entered", m) for m in entered] + [("left", {"email": e}) for e in left]
    bodies = []
    for start in range(0, len(changes), BATCH_SIZE):
        part = changes[start:start + BATCH_SIZE]
        content = {**header, "entered": [m for kind, m in part if kind == "entered"],
                   "left": [m for kind, m in part if kind == "left"]}
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
        content["batchId"] = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]
        bodies.append(json.dumps(content, sort_keys=True, separators=(",", ":")).encode("utf-8"))
    return bodies


async def deliver(url: str, secret: str, bodies: list[bytes], policy: RetryPolicy = RetryPolicy(),
                  sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> list[str]:
    """POST each batch until the receiver answers 2xx; return the batch ids delivered. Nothing is sent
    to an address inside a private network (service.activation.addresses), checked again here as the
    url's name may resolve elsewhere than when the destination was configured."""
    try:
        await check_webhook_url(url)
    except AddressRefused as refused:
        raise DeliveryFailed(f"not sent: {refused}") from None
    delivered = []
    async with httpx.AsyncClient(timeout=policy.timeout) as client:
        for body in bodies:
            batch_id = json.loads(body)["batchId"]
            for attempt in range(1, policy.attempts + 1):
                failure = await post(client, url, secret, body)
                if failure is None:
                    break
                if failure.refused or attempt == policy.attempts:
                    raise DeliveryFailed(f"batch {batch_id}: {failure} (attempt {attempt} of {policy.attempts})")
                await sleep(policy.delay(attempt))
            delivered.append(batch_id)
    return delivered


@dataclass(frozen=True)
class Failure:
    """Why a batch was not taken; `refused` when a retry cannot help (the receiver said no)."""

    reason: str
    refused: bool = False

    def __str__(self) -> str:
        return self.reason


async def post(client: httpx.AsyncClient, url: str, secret: str, body: bytes) -> Failure | None:
    """One try of one batch, signed, with its id in a header; None when the receiver took it."""
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body),
               BATCH_HEADER: json.loads(body)["batchId"]}
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as error:
        return Failure(type(error).__name__)
    if response.is_success:
        return None
    if response.status_code in RETRY_STATUSES:
        return Failure(f"HTTP {response.status_code}")
    return Failure(f"refused with HTTP {response.status_code}", refused=True)
