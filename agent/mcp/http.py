"""``/mcp`` on ``shopagent serve``: the MCP tools over streamable HTTP.

Identity is serve's: every request needs an integrator API key (``Authorization: Bearer
sa_...`` or ``X-API-Key``; rate limited like the other routes), and personal tools act only
for the signed ``X-Shopper-Token`` of the request. The transport is stateless with JSON
responses, so any server process can answer any call (nothing lives in one process).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.security import HTTPAuthorizationCredentials
from mcp.server.transport_security import TransportSecuritySettings
from shopagent.agent.mcp.confirmations import Confirmations, derive_key
from shopagent.agent.mcp.deps import ToolDeps
from shopagent.agent.mcp.identity import TokenIdentity
from shopagent.agent.mcp.tools import build_server
from shopagent.agent.server.auth import api_key, caller
from shopagent.agent.server.errors import ApiError, error_response, shopagent_error_parts
from shopagent.agent.server.turns import ServerRuntime
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from shopagent.errors import ConfigError, ShopAgentError

PATH = "/mcp"


class McpAuth:
    """The API key (and, when sent, the shopper token) checked before any MCP message is
    read; refusals are serve's JSON errors (401/403/429)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            key = await api_key(request, _bearer(request), request.headers.get("x-api-key"))
            await caller(request, key, request.headers.get("x-shopper-token"))
        except ApiError as exc:
            response = error_response(exc.status, exc.code, exc.message, exc.hint, exc.headers)
            await response(scope, receive, send)
            return
        except ShopAgentError as exc:  # an invalid shopper token
            status, code, message, hint = shopagent_error_parts(exc)
            await error_response(status, code, message, hint)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _bearer(request: Request) -> HTTPAuthorizationCredentials | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials.strip())


def mount_mcp(app: FastAPI) -> None:
    """Add ``/mcp`` to a ``create_app`` app; its session manager runs inside the app's
    lifespan (after the agent is opened, stopped before it is closed)."""
    runtime: ServerRuntime = app.state.server
    config = runtime.config

    def deps() -> ToolDeps:
        if runtime.agent is None:
            raise ConfigError("the service is starting", hint="retry in a few seconds")
        return runtime.agent.context

    secret = config.shopper_token_secret
    server = build_server(
        deps,
        TokenIdentity(config),
        Confirmations(derive_key(secret.get_secret_value() if secret else None)),
    )
    # API keys, not cookies, authorise /mcp, so a rebound DNS name gains an attacker
    # nothing; serve's own Host/Origin handling (CORS) applies as on every route
    server.streamable_http_app(
        streamable_http_path=PATH,
        stateless_http=True,
        json_response=True,
        max_request_body_size=config.max_request_bytes,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    manager = server.session_manager
    app.add_route(PATH, McpAuth(manager.handle_request), include_in_schema=False)

    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(the_app: Any) -> AsyncIterator[Any]:
        async with inner(the_app) as state, manager.run():
            yield state

    app.router.lifespan_context = lifespan
