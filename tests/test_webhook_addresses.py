"""Webhooks go to public addresses only (service/activation/addresses.py): a URL naming or resolving
to a private, loopback, link-local or reserved address is refused when the destination is added and
again before each delivery, unless WEBHOOK_PRIVATE_ADDRESSES=true (which the other tests set, for
their receiver on loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.activation.activate import DestinationSettings, activate, add_destination
from service.activation.addresses import AddressRefused, check_webhook_url
from service.activation.webhook import DeliveryFailed
from service.config import get_settings
from service.database import Graph
from service.errors import ErrorCode
from service.queries import Mode
from service.segments import store
from service.segments.presets import audience_rule
from tests.receiver import SECRET, Receiver

pytestmark = pytest.mark.asyncio

INTERNAL = [
    "http://127.0.0.1:8091/hook", "http://localhost/hook", "http://10.1.2.3/hook", "https://172.16.0.9/hook",
    "http://192.168.1.1/hook", "http://169.254.169.254/latest/meta-data/", "http://[::1]/hook",
    "http://[fe80::1]/hook", "http://[::ffff:10.0.0.1]/hook", "http://0.0.0.0/hook", "http://224.0.0.1/hook",
    "http://100.64.0.1/hook",
]


@pytest.fixture
def private_refused(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WEBHOOK_PRIVATE_ADDRESSES", "false")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.parametrize("url", INTERNAL)
async def test_an_internal_address_is_refused_and_named(private_refused: None, url: str) -> None:
    with pytest.raises(AddressRefused) as refused:
        await check_webhook_url(url)
    assert "private network" in str(refused.value) and url in str(refused.value)
    assert refused.value.code is ErrorCode.VALIDATION_FAILED


async def test_a_public_address_is_accepted(private_refused: None) -> None:
    await check_webhook_url("https://93.184.215.14/accountgraph")
    await check_webhook_url("https://[2606:4700::1111]/accountgraph")


async def test_adding_a_webhook_to_an_internal_address_writes_nothing(private_refused: None, graph: Graph) -> None:
    with pytest.raises(AddressRefused):
        await add_destination(graph, DestinationSettings("Hook", "WEBHOOK", url="http://10.0.0.5/hook", secret=SECRET))
    assert await graph.run_adhoc("MATCH (d:Destination) RETURN count(d) AS n", Mode.READ) == [{"n": 0}]


async def test_the_setting_allows_internal_addresses(graph: Graph) -> None:
    assert get_settings().webhook_private_addresses  # as tests/conftest.py set it for the whole run
    await add_destination(graph, DestinationSettings("Hook", "WEBHOOK", url="http://127.0.0.1:9/hook", secret=SECRET))


async def test_a_delivery_is_refused_before_anything_is_sent(seeded_graph: Graph, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A destination added while allowed, then refused: the delivery sends nothing and says why."""
    receiver = Receiver(failures=0)
    try:
        await add_destination(seeded_graph, DestinationSettings("Hook", "WEBHOOK", url=receiver.url, secret=SECRET))
        segment = await store.create(seeded_graph, "Townsend", "",
                                     audience_rule(100_000, "https://www.bodea.com/products/new-product", 30))
        monkeypatch.setenv("WEBHOOK_PRIVATE_ADDRESSES", "false")
        get_settings.cache_clear()
        with pytest.raises(DeliveryFailed, match="private network"):
            await activate(seeded_graph, segment["id"], "Hook", tmp_path)
        assert receiver.requests == []
        monkeypatch.undo()
        get_settings.cache_clear()
        await activate(seeded_graph, segment["id"], "Hook", tmp_path)  # allowed again: the same send goes
        assert len(receiver.requests) == 1
    finally:
        get_settings.cache_clear()
        receiver.close()
