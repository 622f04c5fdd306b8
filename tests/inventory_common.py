"""Fixtures and helpers of the inventory tests (tests/test_inventory*.py): a tiny store, a
fake clock, the inventory API on a real uvicorn server with switchable faults, and an
HttpInventory over it."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from shopagent.tools.http import HttpClient
from shopagent.tools.inventory import (
    HttpInventory,
)
from shopagent.tools.inventory_api import (
    FaultConfig,
    RunningServer,
    create_app,
    serve_in_thread,
)
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
