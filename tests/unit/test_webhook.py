"""Webhook batches and signatures, and delivery with retries against a real loopback receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator

import pytest

from service.activation.webhook import (
    BATCH_HEADER,
    BATCH_SIZE,
    SIGNATURE_HEADER,
    DeliveryFailed,
    RetryPolicy,
    batches,
    deliver,
    sign,
)
from tests.receiver import SECRET, Receiver

HEADER = {"segmentId": "s-1", "destination": "hook"}


def test_the_signature_is_an_hmac_sha256_of_the_body() -> None:
    body = b'{"a":1}'
    assert sign("k", body) == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert sign("k", body) != sign("other", body) and sign("k", body) != sign("k", body + b" ")


def test_changes_are_cut_into_batches_with_ids_that_depend_only_on_their_content() -> None:
    entered = [{"email": f"p{n}@x.example"} for n in range(BATCH_SIZE + 1)]
    left = ["gone@x.example"]
    bodies = batches(HEADER, entered, left)
    payloads = [json.loads(body) for body in bodies]
    assert [(len(p["entered"]), len(p["left"])) for p in payloads] == [(BATCH_SIZE, 0), (1, 1)]
    assert payloads[1]["left"] == [{"email": "gone@x.example"}]
    assert all(p["segmentId"] == "s-1" and p["destination"] == "hook" for p in payloads)
    assert bodies == batches(HEADER, entered, left)  # a resend is byte for byte the same, with the same ids
    assert len({p["batchId"] for p in payloads}) == 2 and all(len(p["batchId"]) == 32 for p in payloads)
    other = json.loads(batches({**HEADER, "segmentId": "s-2"}, entered[:1], [])[0])
    assert other["batchId"] != json.loads(batches(HEADER, entered[:1], [])[0])["batchId"]
    assert bodies[0] == json.dumps(payloads[0], sort_keys=True, separators=(",", ":")).encode()


def test_no_changes_make_no_batch() -> None:
    assert batches(HEADER, [], []) == []


@pytest.fixture
def flaky() -> Iterator[Receiver]:
    receiver = Receiver(failures=2)
    yield receiver
    receiver.close()


@pytest.mark.asyncio
async def test_a_batch_is_retried_with_back_off_and_arrives_signed(flaky: Receiver) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    bodies = batches(HEADER, [{"email": "a@x.example"}], [])
    delivered = await deliver(flaky.url, SECRET, bodies, RetryPolicy(attempts=3, first_delay=0.5, factor=2), sleep)
    assert delivered == [json.loads(bodies[0])["batchId"]]
    assert waits == [0.5, 1.0] and len(flaky.requests) == 3
    assert [batch["batchId"] for batch in flaky.accepted()] == delivered  # signature and batch id header checked
    headers = flaky.requests[0][0]
    assert headers[SIGNATURE_HEADER] == sign(SECRET, bodies[0]) and headers[BATCH_HEADER] == delivered[0]


@pytest.mark.asyncio
async def test_a_receiver_that_keeps_failing_or_refuses_fails_the_delivery() -> None:
    async def no_wait(seconds: float) -> None:
        pass

    bodies = batches(HEADER, [{"email": "a@x.example"}], [])
    down, refusing = Receiver(failures=10), Receiver(failures=1, status=400)
    try:
        with pytest.raises(DeliveryFailed, match=r"HTTP 503 \(attempt 2 of 2\)"):
            await deliver(down.url, SECRET, bodies, RetryPolicy(attempts=2, first_delay=0), no_wait)
        with pytest.raises(DeliveryFailed, match=r"refused with HTTP 400 \(attempt 1 of 5\)"):
            await deliver(refusing.url, SECRET, bodies, RetryPolicy(first_delay=0), no_wait)
    finally:
        down.close()
        refusing.close()
    assert len(down.requests) == 2 and len(refusing.requests) == 1
