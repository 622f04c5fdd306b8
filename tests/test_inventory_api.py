"""The inventory API on a real uvicorn server: routes, validation, OpenAPI, fault injection
and running the server."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import inventory_common
import pytest
from shopagent.tools.inventory import (
    MAX_SKUS_PER_REQUEST,
)
from shopagent.tools.inventory_api import (
    FaultConfig,
    RunningServer,
    create_app,
    serve,
    serve_in_thread,
)
from shopagent.tools.results import StockQuote
from shopagent.tools.store.db import StoreDB

from shopagent.errors import StoreNotFound

# shared fixtures
db = inventory_common.db
faults = inventory_common.faults
server = inventory_common.server


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


def test_quotes_are_stamped_by_the_injected_clock(db: StoreDB) -> None:
    """Evals pass their fixed clock, so a recorded run's tool results replay byte for byte."""
    when = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    running = serve_in_thread(create_app(db, clock=lambda: when))
    try:
        one = httpx.get(f"{running.url}/v1/skus/TEE-M").json()
        many = httpx.post(f"{running.url}/v1/quotes", json={"skus": ["TEE-M"]}).json()
    finally:
        running.stop()
    assert datetime.fromisoformat(one["as_of"].replace("Z", "+00:00")) == when
    assert datetime.fromisoformat(many["quotes"][0]["as_of"].replace("Z", "+00:00")) == when


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
