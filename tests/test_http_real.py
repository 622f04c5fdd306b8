"""HttpClient against a real uvicorn server (the inventory API with fault injection):
round trips, 404, 503 bursts, latency, deadlines, dropped and refused connections, event loops."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from http_common import fast_client
from shopagent.tools.http import HttpClient, UpstreamHTTPError
from shopagent.tools.inventory_api import FaultConfig, RunningServer, create_app, serve_in_thread
from shopagent.tools.store.db import StoreDB
from shopagent.tools.store.schema import (
    Product,
    ReturnPolicy,
    ReturnRule,
    StockLevel,
    StoreData,
    StoreInfo,
    Variant,
)


# -- against a real uvicorn server ---------------------------------------------------------
def tiny_store() -> StoreData:
    return StoreData(
        info=StoreInfo(name="Tiny Shop"),
        products=[
            Product(
                id="P1",
                name="Trail Tee",
                brand="Acme",
                category="tops",
                description="A tee.",
                variants=[
                    Variant(sku="TEE-S", price=Decimal("19.99")),
                    Variant(sku="TEE-M", price=Decimal("21.50")),
                ],
            )
        ],
        stock=[StockLevel(sku="TEE-S", stock=7), StockLevel(sku="TEE-M", stock=0)],
        customers=[],
        orders=[],
        policy=ReturnPolicy(default=ReturnRule(window_days=30)),
    )


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    db = StoreDB.in_memory(tiny_store())
    running = serve_in_thread(create_app(db))
    yield running
    running.stop()
    db.close()


@pytest.fixture
def faults(server: RunningServer) -> Iterator[FaultConfig]:
    app = server.server.config.app
    config = FaultConfig()
    app.state.faults = config
    yield config
    app.state.faults = None


def real_client(server: RunningServer, **kwargs: object) -> HttpClient:
    options: dict[str, object] = {
        "timeout": 1.0,
        "retries": 2,
        "backoff_base_s": 0.02,
        "backoff_max_s": 0.05,
    }
    options.update(kwargs)
    return HttpClient(server.url, **options)  # type: ignore[arg-type]


async def test_real_server_roundtrip(server: RunningServer, faults: FaultConfig) -> None:
    async with real_client(server) as client:
        quote = await client.get_json("/v1/skus/TEE-S")
        body = await client.post_json("/v1/quotes", {"skus": ["TEE-M", "NOPE"]})
    assert (quote["sku"], quote["price"], quote["stock"]) == ("TEE-S", "19.99", 7)
    assert [q["sku"] for q in body["quotes"]] == ["TEE-M"] and body["missing"] == ["NOPE"]
    assert faults.requests == 2


async def test_real_404_is_not_retried(server: RunningServer, faults: FaultConfig) -> None:
    async with real_client(server) as client:
        with pytest.raises(UpstreamHTTPError) as info:
            await client.get_json("/v1/skus/NOPE")
    assert info.value.status == 404 and info.value.attempts == 1
    assert faults.requests == 1


async def test_real_503_burst_honours_retry_after(
    server: RunningServer, faults: FaultConfig
) -> None:
    faults.fail_first_n, faults.retry_after_s = 2, 0.3
    started = time.monotonic()
    async with real_client(server, retries=3) as client:
        quote = await client.get_json("/v1/skus/TEE-S")
    elapsed = time.monotonic() - started
    assert quote["stock"] == 7
    assert (faults.requests, faults.failed) == (3, 2)
    assert 0.6 <= elapsed < 3.0  # two Retry-After waits of 0.3 s (backoff alone is ~0.05 s)


async def test_real_latency_beyond_timeout_is_retried_then_fails(
    server: RunningServer, faults: FaultConfig
) -> None:
    faults.latency_s = 0.6
    started = time.monotonic()
    async with real_client(server, timeout=0.2, retries=2) as client:
        with pytest.raises(UpstreamHTTPError) as info:
            await client.get_json("/v1/skus/TEE-S")
    elapsed = time.monotonic() - started
    assert info.value.attempts == 3 and info.value.status is None
    assert "Timeout" in str(info.value)
    assert 0.6 <= elapsed < 2.5  # 3 × 0.2 s timeouts + small backoff, not 3 × 0.6 s
    await asyncio.sleep(0.7)  # let the slow requests reach the server's counter
    assert faults.requests == 3


async def test_per_call_timeout_override(server: RunningServer, faults: FaultConfig) -> None:
    faults.latency_s = 0.4
    async with real_client(server, timeout=5.0, retries=0) as client:
        assert (await client.get_json("/v1/skus/TEE-S"))["sku"] == "TEE-S"  # 5 s is enough
        started = time.monotonic()
        with pytest.raises(UpstreamHTTPError, match="Timeout"):
            await client.get_json("/v1/skus/TEE-S", timeout=0.1)
        assert time.monotonic() - started < 0.4


async def test_real_overall_deadline_bounds_the_call(
    server: RunningServer, faults: FaultConfig
) -> None:
    faults.latency_s = 0.5
    started = time.monotonic()
    async with real_client(server, timeout=0.3, retries=10, deadline_s=0.8) as client:
        with pytest.raises(UpstreamHTTPError) as info:
            await client.get_json("/v1/skus/TEE-S")
    elapsed = time.monotonic() - started
    assert elapsed < 1.2  # not 11 × 0.3 s
    assert 2 <= info.value.attempts <= 4


async def test_real_dropped_connection_is_retried(
    server: RunningServer, faults: FaultConfig
) -> None:
    faults.drop_rate = 1.0

    async def heal_then_sleep(seconds: float) -> None:  # the server heals after one drop
        faults.drop_rate = 0.0
        await asyncio.sleep(seconds)

    async with real_client(server, sleep=heal_then_sleep) as client:
        quote = await client.get_json("/v1/skus/TEE-M")
    assert quote["price"] == "21.50"
    assert (faults.requests, faults.dropped) == (2, 1)


async def test_real_drops_exhaust_retries(server: RunningServer, faults: FaultConfig) -> None:
    faults.drop_rate = 1.0
    async with real_client(server, retries=2) as client:
        with pytest.raises(UpstreamHTTPError) as info:
            await client.get_json("/v1/skus/TEE-M")
    assert info.value.attempts == 3 == faults.dropped
    assert "RemoteProtocolError" in str(info.value) or "ReadError" in str(info.value)


async def test_connection_refused_is_retried_then_reported() -> None:
    db = StoreDB.in_memory(tiny_store())
    running = serve_in_thread(create_app(db))
    running.stop()  # nothing listens on that port any more
    client, sleep = fast_client(running.url, retries=2)
    async with client:
        with pytest.raises(UpstreamHTTPError) as info:
            await client.get_json("/healthz")
    assert info.value.attempts == 3 and len(sleep.waits) == 2
    assert "ConnectError" in str(info.value) and running.url in str(info.value)


# The first loop's pooled connection cannot be closed once that loop is gone (by design).
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_client_survives_a_new_event_loop(server: RunningServer) -> None:
    """A CLI may call asyncio.run per turn: the client must not reuse a dead loop's pool."""
    client = real_client(server)

    async def one() -> str:
        return (await client.get_json("/healthz"))["status"]

    assert asyncio.run(one()) == "ok"
    assert asyncio.run(one()) == "ok"
    asyncio.run(client.aclose())
    gc.collect()  # release the first loop's connection here, under this test's filter
