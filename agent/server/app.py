"""The HTTP service: ``create_app(agent, config)`` -> FastAPI.

Routes (OpenAPI at ``/openapi.json``, docs at ``/docs``):

* ``GET /healthz`` (liveness), ``GET /readyz`` (checkpointer, store, key database) — public;
* ``/v1/threads...`` — the threads API (:mod:`shopagent.agent.server.routes_threads`);
* ``POST /v1/chat/completions``, ``GET /v1/models`` — OpenAI-compatible;
* ``GET /metrics`` — Prometheus (API key unless ``metrics_public``);
* ``GET /widget/`` — the embeddable chat page (static files, no key: the page sends one).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from shopagent.agent.server import routes_openai, routes_threads
from shopagent.agent.server.auth import api_key
from shopagent.agent.server.config import ServerConfig
from shopagent.agent.server.errors import error_body, install_error_handlers
from shopagent.agent.server.keys import KeyStore
from shopagent.agent.server.logs import request_id_var, thread_id_var
from shopagent.agent.server.ratelimit import limiter_for
from shopagent.agent.server.turns import ServerRuntime
from shopagent.agent.service import ShopAgent
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("shopagent.server")
access = logging.getLogger("shopagent.access")

AgentOpener = Callable[[], Awaitable[ShopAgent]]
_REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class RequestContextMiddleware:
    """Request id (``X-Request-Id`` in and out), one access log record, HTTP metrics."""

    def __init__(self, app: ASGIApp, runtime: ServerRuntime) -> None:
        self.app, self.rt = app, runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request_id_var.set(request_id)
        thread_id_var.set(None)
        t0 = time.perf_counter()
        status = 500
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:  # never a stack trace in a response
            log.error("unhandled error", exc_info=exc)
            if status == 500 and not started:
                body = error_body(500, "internal_error", "internal error; quote the request_id")
                await JSONResponse(body, 500)(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - t0
            route = getattr(scope.get("route"), "path", None) or _route_of(scope["path"])
            self.rt.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.rt.metrics.request_latency.labels(route).observe(elapsed)
            access.info(
                "%s %s %s",
                scope["method"],
                route,
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "client": (scope.get("client") or ("", 0))[0],
                },
            )


def _route_of(path: str) -> str:
    """A low-cardinality label for unmatched paths."""
    if path.startswith("/widget"):
        return "/widget"
    return "unmatched"


class BodyLimitMiddleware:
    """413 for bodies over ``limit`` bytes (declared length, or counted while reading)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, receive, send)
            return
        seen = 0
        refused = False

        async def limited_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    # answer now; the app sees a disconnected client and stops
                    refused = True
                    await self._refuse(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused:
                raise

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = error_body(
            413, "request_too_large", f"the request body is larger than {self.limit} bytes"
        )
        await JSONResponse(body, 413, headers={"Connection": "close"})(scope, receive, send)


def create_app(
    agent: ShopAgent | None,
    config: ServerConfig,
    *,
    open_agent: AgentOpener | None = None,
    keys: KeyStore | None = None,
) -> FastAPI:
    """The service over ``agent`` (or one built at startup by ``open_agent``, closed at
    shutdown). ``keys`` defaults to a KeyStore at ``config.keys_url``."""
    if agent is None and open_agent is None:
        raise ValueError("create_app needs an agent or an open_agent factory")
    runtime = ServerRuntime(
        config=config,
        keys=keys or KeyStore(config.keys_url, cache_s=config.key_cache_s),
        limiter=limiter_for(config.keys_url),
    )
    runtime.agent = agent
    owns_keys = keys is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = None
        if runtime.agent is None and open_agent is not None:
            opened = runtime.agent = await open_agent()
        log.info("shopagent server ready", extra={"model": runtime.agent.model_name})
        try:
            yield
        finally:
            if opened is not None:
                await opened.aclose()
                runtime.agent = None
            runtime.limiter.close()
            if owns_keys:
                runtime.keys.close()

    # /docs with its Swagger UI assets served from the package: no CDN (works offline)
    app = (FastAPIOffline if config.docs else FastAPI)(
        title="ShopAgent",
        version="1",
        summary="Agentic shopping and customer-service assistant over HTTP.",
        description=(
            "Every route except `/healthz` and `/readyz` needs an integrator API key "
            "(`Authorization: Bearer sa_...` or `X-API-Key`). The shopper's identity is "
            "the signed `X-Shopper-Token` issued by the shop's backend. Errors are "
            '`{"error": {type, code, message, hint, request_id}}`.'
        ),
        lifespan=lifespan,
        docs_url="/docs" if config.docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if config.docs else None,
        **({"static_url": "/docs-assets"} if config.docs else {}),
    )
    app.state.server = runtime
    install_error_handlers(app)

    # outermost last: request context wraps everything, then CORS, then the body limit
    app.add_middleware(BodyLimitMiddleware, limit=config.max_request_bytes)
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-API-Key",
                "X-Shopper-Token",
                "X-Thread-Id",
                "X-Request-Id",
            ],
            expose_headers=["X-Request-Id", "X-Thread-Id", "Retry-After"],
            max_age=600,
        )
    app.add_middleware(RequestContextMiddleware, runtime=runtime)

    @app.get("/healthz", tags=["health"], summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="Readiness: agent, checkpoints, store, keys")
    async def readyz() -> JSONResponse:
        checks = await _readiness(runtime)
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks},
                            200 if ok else 503)  # fmt: skip

    metrics_deps = [] if config.metrics_public else [Depends(api_key)]

    @app.get("/metrics", tags=["operations"], dependencies=metrics_deps, summary="Prometheus")
    async def metrics() -> Response:
        body, content_type = runtime.metrics.render()
        return Response(body, media_type=content_type)

    app.include_router(routes_threads.router)
    app.include_router(routes_openai.router)
    from shopagent.agent.mcp.http import mount_mcp  # the MCP room builds on this one

    mount_mcp(app)  # /mcp: the tools over MCP (streamable HTTP)

    static = resources.files("shopagent.agent.server").joinpath("static")
    app.mount("/widget", StaticFiles(directory=str(static), html=True), name="widget")

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/widget/")

    return app


async def _readiness(rt: ServerRuntime) -> dict[str, Any]:
    checks: dict[str, Any] = {}
    agent = rt.agent
    if agent is None:
        return {"agent": "starting"}
    checks["agent"] = "ok"
    try:
        saver = agent.graph.checkpointer
        if saver is not None and not isinstance(saver, bool):
            await saver.aget_tuple({"configurable": {"thread_id": "__readyz__"}})
        checks["checkpoints"] = "ok"
    except Exception as exc:
        checks["checkpoints"] = f"unavailable: {type(exc).__name__}"
    try:
        db = getattr(agent.context.orders, "db", None)
        if db is not None:
            db.meta("store")
        checks["store"] = "ok"
    except Exception as exc:
        checks["store"] = f"unavailable: {type(exc).__name__}"
    try:
        rt.keys.ping()
        checks["keys"] = "ok"
    except Exception as exc:
        checks["keys"] = f"unavailable: {type(exc).__name__}"
    return checks
