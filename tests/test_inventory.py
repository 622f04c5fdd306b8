"""The inventory API (real uvicorn server), fault injection, and the Inventory implementations."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import respx
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
    serve,
    serve_in_thread,
)
from shopagent.tools.protocols import Inventory
from shopagent.tools.results import StockQuote
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

from shopagent.errors import ConfigError, InventoryUnavailable, StoreNotFound

KNOWN = ["TEE-S", "TEE-M", "MUG-1"]


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
                    Variant(sku="TEE-S", attributes={"size": "S"}, price=Decimal("19.99")),
                    Variant(sku="TEE-M", attributes={"size": "M"}, price=Decimal("21.50")),
                ],
            ),
            Product(
                id="P2",
                name="Camp Mug",
                brand="Acme",
                category="kitchen",
                description="A mug.",
                variants=[Variant(sku="MUG-1", price=Decimal("8"), currency="EUR")],
            ),
        ],
        stock=[StockLevel(sku="TEE-S", stock=7), StockLevel(sku="MUG-1", stock=120)],
        customers=[],
        orders=[],
        policy=ReturnPolicy(default=ReturnRule(window_days=30)),
    )


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="module")
def db() -> Iterator[StoreDB]:
    store = StoreDB.in_memory(tiny_store())
    yield store
    store.close()


@pytest.fixture(scope="module")
def server(db: StoreDB) -> Iterator[RunningServer]:
    with serve_in_thread(create_app(db)) as running:
        yield running


@pytest.fixture
def faults(server: RunningServer, db: StoreDB) -> Iterator[FaultConfig]:
    """A fresh store and a fault config (no faults yet; counts the /v1 requests)."""
    db.load(tiny_store())
    config = FaultConfig(retry_after_s=None)
    server.server.config.app.state.faults = config
    yield config
    server.server.config.app.state.faults = None


def without_as_of(quotes: dict[str, StockQuote]) -> dict[str, dict[str, object]]:
    return {sku: q.model_dump(exclude={"as_of"}) for sku, q in quotes.items()}


def inventory(
    server: RunningServer,
    clock: FakeClock | None = None,
    *,
    timeout: float = 1.0,
    retries: int = 1,
    **kwargs: object,
) -> HttpInventory:
    client = HttpClient(
        server.url, timeout=timeout, retries=retries, backoff_base_s=0.02, backoff_max_s=0.05
    )
    if clock is not None:
        kwargs["clock"] = clock
    return HttpInventory(client, **kwargs)  # type: ignore[arg-type]


# -- the API -------------------------------------------------------------------------------
def test_healthz_and_server_url(server: RunningServer) -> None:
    assert server.url.startswith("http://127.0.0.1:") and server.port > 0
    response = httpx.get(f"{server.url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "store": "Tiny Shop"}


def test_get_sku_equals_the_database(
    server: RunningServer, db: StoreDB, faults: FaultConfig
) -> None:
    db.set_stock("TEE-M", 3, price=Decimal("18.25"))
    body = httpx.get(f"{server.url}/v1/skus/TEE-M").json()
    (row,) = db.sku_rows(["TEE-M"])
    assert body["sku"] == "TEE-M"
    assert Decimal(body["price"]) == Decimal(row["price"]) == Decimal("18.25")
    assert body["price"] == "18.25"  # exact decimal string, not a float
    assert body["stock"] == row["stock"] == 3
    assert body["currency"] == "USD" and body["as_of"]


def test_unknown_sku_is_a_json_404(server: RunningServer, faults: FaultConfig) -> None:
    response = httpx.get(f"{server.url}/v1/skus/NOPE")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"detail": "unknown SKU 'NOPE'"}


def test_post_quotes_orders_dedupes_and_reports_missing(
    server: RunningServer, faults: FaultConfig
) -> None:
    response = httpx.post(
        f"{server.url}/v1/quotes", json={"skus": ["MUG-1", "NOPE", "TEE-S", "MUG-1", "X"]}
    )
    assert response.status_code == 200
    body = response.json()
    assert [q["sku"] for q in body["quotes"]] == ["MUG-1", "TEE-S"]
    assert body["missing"] == ["NOPE", "X"]
    mug = StockQuote.model_validate(body["quotes"][0])
    assert (mug.price, mug.currency, mug.stock) == (Decimal("8.00"), "EUR", 120)


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"skus": [f"S{i}" for i in range(MAX_SKUS_PER_REQUEST)]}, 200),
        ({"skus": [f"S{i}" for i in range(MAX_SKUS_PER_REQUEST + 1)]}, 422),
        ({"skus": []}, 200),
        ({"skus": [""]}, 422),
        ({"skus": "TEE-S"}, 422),
        ({"sku": ["TEE-S"]}, 422),
    ],
    ids=["200-skus", "201-skus", "empty", "blank-sku", "not-a-list", "wrong-field"],
)
def test_post_quotes_validation(
    server: RunningServer, faults: FaultConfig, payload: object, status: int
) -> None:
    response = httpx.post(f"{server.url}/v1/quotes", json=payload)
    assert response.status_code == status, response.text


def test_openapi_schema_is_meaningful(server: RunningServer) -> None:
    schema = httpx.get(f"{server.url}/openapi.json").json()
    assert {"/healthz", "/v1/skus/{sku}", "/v1/quotes"} <= set(schema["paths"])
    quotes = schema["paths"]["/v1/quotes"]["post"]
    assert quotes["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/QuotesRequest"
    )
    ok = quotes["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ok.endswith("/QuotesResponse")
    assert "422" in quotes["responses"]
    get_sku = schema["paths"]["/v1/skus/{sku}"]["get"]["responses"]
    assert get_sku["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    components = schema["components"]["schemas"]
    assert components["QuotesRequest"]["properties"]["skus"]["maxItems"] == MAX_SKUS_PER_REQUEST
    assert {"sku", "price", "currency", "stock", "as_of"} <= set(
        components["StockQuote"]["properties"]
    )


# -- fault injection -----------------------------------------------------------------------
def test_injected_failures_skip_healthz_and_carry_retry_after(
    server: RunningServer, faults: FaultConfig
) -> None:
    faults.fail_rate, faults.status, faults.retry_after_s = 1.0, 503, 2
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    response = httpx.get(f"{server.url}/v1/skus/TEE-S")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert (faults.requests, faults.failed) == (1, 1)


def test_faults_can_be_replaced_at_runtime(server: RunningServer, faults: FaultConfig) -> None:
    app = server.server.config.app
    app.state.faults = FaultConfig(fail_first_n=1, status=429, retry_after_s=None)
    first = httpx.get(f"{server.url}/v1/skus/TEE-S")
    second = httpx.get(f"{server.url}/v1/skus/TEE-S")
    assert (first.status_code, second.status_code) == (429, 200)
    assert "retry-after" not in first.headers
    app.state.faults = None
    assert httpx.get(f"{server.url}/v1/skus/TEE-S").status_code == 200


def test_dropped_connection_gets_no_response(server: RunningServer, faults: FaultConfig) -> None:
    faults.drop_rate = 1.0
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{server.url}/v1/skus/TEE-S")
    assert faults.dropped == 1


def test_fault_config_is_seeded_and_validated() -> None:
    def fates(config: FaultConfig) -> list[str]:
        return [config.decide() for _ in range(50)]

    a = fates(FaultConfig(fail_rate=0.3, drop_rate=0.2, seed=7))
    assert a == fates(FaultConfig(fail_rate=0.3, drop_rate=0.2, seed=7))
    assert {"pass", "fail", "drop"} == set(a)
    config = FaultConfig(fail_first_n=2)
    assert fates(config)[:3] == ["fail", "fail", "pass"]
    config.reset()
    assert (config.requests, config.decide()) == (0, "fail")
    for bad in ({"fail_rate": 1.5}, {"drop_rate": -0.1}, {"status": 200}, {"latency_s": -1}):
        with pytest.raises(ValueError):
            FaultConfig(**bad)  # type: ignore[arg-type]


# -- running the server --------------------------------------------------------------------
def test_serve_in_thread_binds_and_stops(db: StoreDB) -> None:
    running = serve_in_thread(create_app(db))
    assert httpx.get(f"{running.url}/healthz").status_code == 200
    with pytest.raises(OSError):  # the port is taken
        serve_in_thread(create_app(db), port=running.port)
    running.stop()
    assert not running.thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{running.url}/healthz")


def test_serve_without_a_database_raises(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFound):
        serve(tmp_path / "missing.db", port=0)


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
