"""The Inventory implementations: HttpInventory over the real API (cache, retries, breaker,
batches, malformed answers), inventory_from_url, InMemoryInventory and db_quotes. The API
itself: tests/test_inventory_api.py."""

from __future__ import annotations

import asyncio
import socket
import time
from decimal import Decimal

import httpx
import inventory_common
import pytest
import respx
from inventory_common import KNOWN, FakeClock, inventory, without_as_of
from shopagent.tools.http import HttpClient
from shopagent.tools.inventory import (
    MAX_SKUS_PER_REQUEST,
    HttpInventory,
    InMemoryInventory,
    db_quotes,
    inventory_from_url,
)
from shopagent.tools.inventory_api import (
    FaultConfig,
    RunningServer,
    create_app,
    serve_in_thread,
)
from shopagent.tools.protocols import Inventory
from shopagent.tools.results import StockQuote
from shopagent.tools.store.db import StoreDB

from shopagent.errors import ConfigError, InventoryUnavailable

# shared fixtures
db = inventory_common.db
faults = inventory_common.faults
server = inventory_common.server


# -- HttpInventory -------------------------------------------------------------------------
async def test_http_inventory_returns_the_database_values(
    server: RunningServer, db: StoreDB, faults: FaultConfig
) -> None:
    async with inventory(server) as inv:
        assert isinstance(inv, Inventory)
        got = await inv.quotes(["TEE-S", "NOPE", "MUG-1", "TEE-M", "TEE-S"])
    assert list(got) == ["TEE-S", "MUG-1", "TEE-M"]  # request order, unknown SKUs absent
    assert without_as_of(got) == without_as_of(db_quotes(db, KNOWN))
    assert got["TEE-S"].price == Decimal("19.99") and got["TEE-M"].stock == 0
    assert got["MUG-1"].currency == "EUR"
    assert faults.requests == 1


async def test_ttl_cache_serves_fresh_entries_only(
    server: RunningServer, db: StoreDB, faults: FaultConfig
) -> None:
    clock = FakeClock()
    async with inventory(server, clock, ttl_s=2.0) as inv:
        assert (await inv.quotes(["TEE-S", "NOPE"]))["TEE-S"].stock == 7
        db.set_stock("TEE-S", 1)
        clock.advance(1.5)
        cached = await inv.quotes(["TEE-S", "NOPE"])  # within the TTL: no request
        assert cached["TEE-S"].stock == 7 and "NOPE" not in cached
        assert faults.requests == 1
        mixed = await inv.quotes(["TEE-S", "MUG-1"])  # only MUG-1 is fetched
        assert mixed["MUG-1"].stock == 120 and faults.requests == 2
        clock.advance(0.5)  # TEE-S is now 2.0 s old: expired
        assert (await inv.quotes(["TEE-S"]))["TEE-S"].stock == 1
        assert faults.requests == 3


async def test_expired_entries_are_never_served_when_the_api_fails(
    server: RunningServer, faults: FaultConfig
) -> None:
    clock = FakeClock()
    async with inventory(server, clock, retries=0, ttl_s=2.0) as inv:
        await inv.quotes(["TEE-S"])
        faults.fail_rate = 1.0
        clock.advance(2.0)
        with pytest.raises(InventoryUnavailable, match="HTTP 503"):
            await inv.quotes(["TEE-S"])


async def test_latency_beyond_timeout_retries_then_is_unavailable(
    server: RunningServer, faults: FaultConfig
) -> None:
    faults.latency_s = 0.6
    started = time.monotonic()
    async with inventory(server, timeout=0.2, retries=2) as inv:
        with pytest.raises(InventoryUnavailable) as info:
            await inv.quotes(["TEE-S"])
    elapsed = time.monotonic() - started
    message = str(info.value)
    assert server.url in message and "/v1/quotes" in message and "TEE-S" in message
    assert "Timeout" in message and "after 3 attempt(s)" in message
    assert 0.6 <= elapsed < 2.5
    await asyncio.sleep(0.7)
    assert faults.requests == 3


async def test_503_burst_with_retry_after_succeeds(
    server: RunningServer, db: StoreDB, faults: FaultConfig
) -> None:
    faults.fail_first_n, faults.retry_after_s = 2, 0.25
    started = time.monotonic()
    async with inventory(server, retries=3) as inv:
        got = await inv.quotes(KNOWN)
    elapsed = time.monotonic() - started
    assert without_as_of(got) == without_as_of(db_quotes(db, KNOWN))
    assert (faults.requests, faults.failed) == (3, 2)
    assert 0.5 <= elapsed < 3.0  # both Retry-After waits honoured
    assert inv.breaker.state == "closed" and inv.breaker.failures == 0


async def test_dropped_connections_are_retried(
    server: RunningServer, db: StoreDB, faults: FaultConfig
) -> None:
    faults.drop_rate = 1.0

    async def heal_then_sleep(seconds: float) -> None:
        if faults.dropped == 2:
            faults.drop_rate = 0.0
        await asyncio.sleep(seconds)

    client = HttpClient(
        server.url, timeout=1.0, retries=3, backoff_base_s=0.01, sleep=heal_then_sleep
    )
    async with HttpInventory(client) as inv:
        got = await inv.quotes(["TEE-M"])
    assert got["TEE-M"].price == Decimal("21.50")
    assert (faults.requests, faults.dropped) == (3, 2)


async def test_breaker_opens_fails_fast_and_recovers(
    server: RunningServer, faults: FaultConfig
) -> None:
    clock = FakeClock()
    faults.fail_rate = 1.0
    async with inventory(
        server, clock, retries=0, breaker_threshold=2, breaker_cooldown_s=30.0
    ) as inv:
        for _ in range(2):
            with pytest.raises(InventoryUnavailable, match="HTTP 503"):
                await inv.quotes(["TEE-S"])
        assert faults.requests == 2 and inv.breaker.state == "open"

        started = time.monotonic()
        with pytest.raises(InventoryUnavailable, match="circuit breaker open") as info:
            await inv.quotes(["TEE-S"])
        assert time.monotonic() - started < 0.05
        assert faults.requests == 2  # failed fast: the API was not called
        assert "30.0s" in str(info.value) and server.url in str(info.value)

        clock.advance(30.0)  # half-open: one trial call, which fails → open again at once
        assert inv.breaker.state == "half-open"
        with pytest.raises(InventoryUnavailable, match="HTTP 503"):
            await inv.quotes(["TEE-S"])
        assert faults.requests == 3 and inv.breaker.state == "open"
        with pytest.raises(InventoryUnavailable, match="circuit breaker open"):
            await inv.quotes(["TEE-S"])
        assert faults.requests == 3

        faults.fail_rate = 0.0  # the API recovers
        clock.advance(30.0)
        assert (await inv.quotes(["TEE-S"]))["TEE-S"].stock == 7
        assert faults.requests == 4 and inv.breaker.state == "closed"
        assert inv.breaker.failures == 0


async def test_half_open_lets_exactly_one_trial_through(
    server: RunningServer, faults: FaultConfig
) -> None:
    clock = FakeClock()
    faults.fail_rate = 1.0
    async with inventory(
        server, clock, retries=0, breaker_threshold=1, breaker_cooldown_s=5.0
    ) as inv:
        with pytest.raises(InventoryUnavailable):
            await inv.quotes(["TEE-S"])
        faults.fail_rate, faults.latency_s = 0.0, 0.2
        clock.advance(5.0)
        results = await asyncio.gather(
            inv.quotes(["TEE-S"]), inv.quotes(["MUG-1"]), return_exceptions=True
        )
    assert isinstance(results[0], dict) and results[0]["TEE-S"].stock == 7
    assert isinstance(results[1], InventoryUnavailable)
    assert "circuit breaker open" in str(results[1])
    assert faults.requests == 2


async def test_client_errors_do_not_trip_the_breaker(
    server: RunningServer, faults: FaultConfig
) -> None:
    faults.fail_rate, faults.status = 1.0, 400
    async with inventory(server, retries=2, breaker_threshold=2) as inv:
        for _ in range(3):
            with pytest.raises(InventoryUnavailable, match="HTTP 400"):
                await inv.quotes(["TEE-S"])
        assert inv.breaker.state == "closed" and inv.breaker.failures == 0
    assert faults.requests == 3  # 4xx: one attempt each, never retried


async def test_large_requests_are_split_into_batches(
    server: RunningServer, db: StoreDB, faults: FaultConfig
) -> None:
    skus = [f"GHOST-{i}" for i in range(2 * MAX_SKUS_PER_REQUEST + 50)] + KNOWN
    async with inventory(server) as inv:
        got = await inv.quotes(skus)
    assert without_as_of(got) == without_as_of(db_quotes(db, KNOWN))
    assert faults.requests == 3


async def test_malformed_response_is_unavailable_and_counts_as_failure() -> None:
    with respx.mock(base_url="http://inv.test") as mock:
        mock.post("/v1/quotes").mock(
            side_effect=[
                httpx.Response(200, json={"nope": []}),
                httpx.Response(200, json={"quotes": [{"sku": "A", "price": "-1", "stock": 1}]}),
            ]
        )
        async with HttpInventory(HttpClient("http://inv.test", retries=0)) as inv:
            with pytest.raises(InventoryUnavailable, match="malformed"):
                await inv.quotes(["A"])
            with pytest.raises(InventoryUnavailable, match="malformed"):
                await inv.quotes(["A"])
            assert inv.breaker.failures == 2


def test_inventory_from_url_uses_timeout_and_retries(
    server: RunningServer, faults: FaultConfig
) -> None:
    inv = inventory_from_url(server.url, timeout_s=0.7, retries=1)
    assert inv.client.timeout == 0.7 and inv.client.max_attempts == 2
    assert inv.client.base_url == server.url + "/"
    assert inv.client.deadline_s >= 0.7 * 2

    async def run() -> dict[str, StockQuote]:
        async with inv:
            return await inv.quotes(["MUG-1"])

    assert asyncio.run(run())["MUG-1"].stock == 120
    with pytest.raises(ConfigError, match="SHOPAGENT_INVENTORY_URL"):
        inventory_from_url("localhost:8000", timeout_s=0.7, retries=1)


# -- InMemoryInventory and db_quotes -------------------------------------------------------
async def test_in_memory_inventory_from_dict_and_db(db: StoreDB, faults: FaultConfig) -> None:
    quote = StockQuote(sku="A", price=Decimal("1.5"), stock=2)
    from_dict = InMemoryInventory({"A": quote})
    assert isinstance(from_dict, Inventory)
    assert await from_dict.quotes(["A", "B"]) == {"A": quote}
    assert from_dict.calls == [["A", "B"]]

    from_db = InMemoryInventory(db)
    db.set_stock("TEE-S", 4)
    live = await from_db.quotes(["TEE-S", "NOPE"])
    assert list(live) == ["TEE-S"] and live["TEE-S"].stock == 4
    assert live["TEE-S"].price == Decimal("19.99")

    from_db.fail = True
    with pytest.raises(InventoryUnavailable):
        await from_db.quotes(["TEE-S"])
    with pytest.raises(InventoryUnavailable):
        await InMemoryInventory({}, fail=True).quotes(["A"])


def test_db_quotes_reports_oversold_stock_as_zero(db: StoreDB, faults: FaultConfig) -> None:
    db.set_stock("TEE-S", -3)
    assert db_quotes(db, ["TEE-S"])["TEE-S"].stock == 0
    assert db_quotes(db, []) == {}


def test_port_is_free_after_module_server_stops(db: StoreDB) -> None:
    running = serve_in_thread(create_app(db))
    port = running.port
    running.stop()
    with socket.socket() as sock:  # the port can be bound again at once
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
