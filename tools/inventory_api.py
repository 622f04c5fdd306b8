"""The store's price/stock HTTP API (FastAPI) and helpers to run it with uvicorn.

Endpoints (OpenAPI at ``/openapi.json``):

* ``GET /healthz`` — liveness; never subject to fault injection.
* ``GET /v1/skus/{sku}`` — one :class:`~shopagent.tools.results.StockQuote`; 404 for an unknown SKU.
* ``POST /v1/quotes`` — body ``{"skus": [...]}`` (at most 200) →
  ``{"quotes": [StockQuote, ...], "missing": [sku, ...]}``; 422 for an invalid body.

Prices are JSON strings (exact decimals). ``as_of`` is when the server read the values.

:class:`FaultConfig` injects latency, failures and dropped connections into ``/v1/*``
(tests, and the eval suite's "inventory faults" fixtures). It lives in
``app.state.faults`` and may be replaced or mutated while the server runs.

:func:`serve_in_thread` runs a real ``uvicorn.Server`` in a daemon thread (the CLI uses it
to serve the API on loopback when no external URL is configured); :func:`serve` runs it in
the foreground (``shopagent inventory serve``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import uvicorn
from fastapi import FastAPI, HTTPException
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from shopagent.tools.inventory import MAX_SKUS_PER_REQUEST, db_quotes
from shopagent.tools.results import StockQuote
from shopagent.tools.store.db import StoreDB
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger("shopagent.inventory_api")

API_VERSION = "1"
FAULT_PATH_PREFIX = "/v1/"

Sku = Annotated[str, Field(min_length=1, max_length=64, examples=["TEE-BLK-M"])]


# -- fault injection -------------------------------------------------------------------
@dataclass
class FaultConfig:
    """Faults injected into ``/v1/*`` requests, in this order for each request:

    1. wait ``latency_s`` seconds;
    2. the first ``fail_first_n`` requests answer ``status`` (with ``Retry-After``);
    3. with probability ``drop_rate`` the connection is closed without any response;
    4. with probability ``fail_rate`` the request answers ``status``.

    Failures carry ``Retry-After: retry_after_s`` unless it is None. Random choices use a
    ``random.Random(seed)``, so a given sequence of requests gets the same faults. The
    counters (``requests``, ``failed``, ``dropped``) count ``/v1/*`` requests seen and
    faults injected; :meth:`reset` zeroes them and reseeds.
    """

    latency_s: float = 0.0
    fail_first_n: int = 0
    fail_rate: float = 0.0
    drop_rate: float = 0.0
    status: int = 503
    retry_after_s: float | None = 1.0
    seed: int = 0
    requests: int = field(default=0, init=False)
    failed: int = field(default=0, init=False)
    dropped: int = field(default=0, init=False)
    _rng: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.latency_s < 0 or self.fail_first_n < 0:
            raise ValueError("latency_s and fail_first_n must be >= 0")
        for name in ("fail_rate", "drop_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        self._rng = random.Random(self.seed)

    def reset(self) -> None:
        self.requests = self.failed = self.dropped = 0
        self._rng = random.Random(self.seed)

    def decide(self) -> Literal["pass", "fail", "drop"]:
        """Count one request and choose its fate."""
        self.requests += 1
        if self.requests <= self.fail_first_n:
            self.failed += 1
            return "fail"
        if self.drop_rate and self._rng.random() < self.drop_rate:
            self.dropped += 1
            return "drop"
        if self.fail_rate and self._rng.random() < self.fail_rate:
            self.failed += 1
            return "fail"
        return "pass"

    def retry_after_header(self) -> dict[str, str]:
        if self.retry_after_s is None:
            return {}
        value = self.retry_after_s
        text = str(int(value)) if float(value).is_integer() else f"{value:g}"
        return {"Retry-After": text}


class FaultMiddleware:
    """Applies ``scope["app"].state.faults`` (a FaultConfig or None) to ``/v1/*``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        owner = scope.get("app")
        faults: FaultConfig | None = getattr(getattr(owner, "state", None), "faults", None)
        if (
            scope["type"] != "http"
            or faults is None
            or not scope["path"].startswith(FAULT_PATH_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        if faults.latency_s > 0:
            await asyncio.sleep(faults.latency_s)
        fate = faults.decide()
        if fate == "drop" and await _drop_connection(scope, receive, owner):
            return
        if fate != "pass":
            response = JSONResponse(
                {"detail": f"injected fault: HTTP {faults.status}"},
                status_code=faults.status,
                headers=faults.retry_after_header(),
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _drop_connection(scope: Scope, receive: Receive, owner: Any) -> bool:
    """Close the client's connection without a response; False when it cannot be done.

    ASGI has no "abort" message, so this finds the uvicorn connection serving ``scope``
    (by client address) on the server that :func:`serve_in_thread`/:func:`serve` stored
    in ``app.state.uvicorn_server``, and closes its transport.
    """
    server = getattr(getattr(owner, "state", None), "uvicorn_server", None)
    client = scope.get("client")
    if server is None or client is None:
        logger.warning("cannot drop a connection outside serve_in_thread()/serve(); failing it")
        return False
    for connection in list(server.server_state.connections):
        transport = getattr(connection, "transport", None)
        peer = getattr(connection, "client", None)
        if transport is not None and peer is not None and tuple(peer) == tuple(client):
            transport.close()
            break
    else:
        return False
    # Wait until uvicorn notices the disconnect, so it does not complain that the app
    # returned without a response.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(1.0):
            while (await receive())["type"] != "http.disconnect":
                pass
    return True


# -- API models ------------------------------------------------------------------------
class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"
    store: str | None = Field(None, description="The store's name, when one is loaded.")


class ErrorOut(BaseModel):
    detail: str


class QuotesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    skus: list[Sku] = Field(
        max_length=MAX_SKUS_PER_REQUEST,
        description=f"SKUs to quote (at most {MAX_SKUS_PER_REQUEST}; duplicates are ignored).",
    )


class QuotesResponse(BaseModel):
    quotes: list[StockQuote] = Field(description="Quotes of the known SKUs, in request order.")
    missing: list[str] = Field(description="Requested SKUs the store does not know.")


# -- the app ---------------------------------------------------------------------------
def create_app(
    db: StoreDB,
    *,
    faults: FaultConfig | None = None,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """The inventory API over ``db``. ``faults`` (also ``app.state.faults``) injects faults;
    ``clock`` (default: now, UTC) stamps each quote's ``as_of`` (evals pass their fixed clock,
    so a recorded run replays byte for byte)."""
    app = FastAPI(
        title="ShopAgent inventory API",
        version=API_VERSION,
        description="Live price and stock per SKU of the store.",
    )
    app.state.db = db
    app.state.faults = faults
    app.state.uvicorn_server = None
    app.add_middleware(FaultMiddleware)

    @app.get("/healthz", response_model=HealthOut, tags=["health"])
    def healthz() -> HealthOut:
        try:
            name = db.info().name if db.meta("store") else None
        except ValueError:
            name = None
        return HealthOut(store=name)

    @app.get(
        "/v1/skus/{sku}",
        response_model=StockQuote,
        responses={404: {"model": ErrorOut, "description": "Unknown SKU."}},
        tags=["inventory"],
    )
    def get_sku(sku: Annotated[str, PathParam(min_length=1, max_length=64)]) -> StockQuote:
        quote = db_quotes(db, [sku], as_of=clock() if clock else None).get(sku)
        if quote is None:
            raise HTTPException(status_code=404, detail=f"unknown SKU {sku!r}")
        return quote

    @app.post("/v1/quotes", response_model=QuotesResponse, tags=["inventory"])
    def post_quotes(body: QuotesRequest) -> QuotesResponse:
        wanted = list(dict.fromkeys(body.skus))
        found = db_quotes(db, wanted, as_of=clock() if clock else None)
        return QuotesResponse(
            quotes=[found[s] for s in wanted if s in found],
            missing=[s for s in wanted if s not in found],
        )

    return app


# -- running it ------------------------------------------------------------------------
@dataclass
class RunningServer:
    """A uvicorn server running in a daemon thread (from :func:`serve_in_thread`)."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self, timeout: float = 5.0) -> None:
        """Shut the server down and wait (up to ``timeout`` s) for its thread to end."""
        self.server.should_exit = True
        self.thread.join(timeout)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(timeout)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve_in_thread(
    app: FastAPI,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    startup_timeout: float = 10.0,
    log_level: str | None = None,
) -> RunningServer:
    """Run ``app`` on a real uvicorn server in a daemon thread; return once it accepts.

    ``port=0`` binds a free port; ``.url`` has the bound one. The socket is bound here, so
    an address already in use raises OSError in the caller. Logging is left as configured
    (no access log). Stop it with ``.stop()`` (or use it as a context manager).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_config=None,
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=1,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    app.state.uvicorn_server = server
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # SystemExit from a failed startup included
            failure.append(exc)
        finally:
            sock.close()

    thread = threading.Thread(target=run, name=f"uvicorn-{bound_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"the API server on {host}:{bound_port} failed to start") from (
                failure[0] if failure else None
            )
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the API server on {host}:{bound_port} did not start in time")
        time.sleep(0.01)
    url = _url(host, bound_port)
    logger.info("inventory API serving on %s", url)
    return RunningServer(url=url, server=server, thread=thread)


def serve(
    db_path: Path | str,
    host: str = "127.0.0.1",
    port: int = 8700,
    *,
    faults: FaultConfig | None = None,
    log_level: str = "info",
) -> None:
    """Serve the inventory API for the store database at ``db_path`` until interrupted.

    Raises StoreNotFound when there is no loaded database at ``db_path``.
    """
    db = StoreDB.open(Path(db_path))
    try:
        app = create_app(db, faults=faults)
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level=log_level))
        app.state.uvicorn_server = server
        server.run()
    finally:
        db.close()


__all__ = [
    "FaultConfig",
    "QuotesRequest",
    "QuotesResponse",
    "RunningServer",
    "create_app",
    "serve",
    "serve_in_thread",
]
