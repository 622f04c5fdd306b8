"""One error shape for every response: ``{"error": {type, code, message, hint, request_id}}``.

It is also the OpenAI error shape (``error.message``/``type``/``code``), so OpenAI clients
raise their usual exceptions. Never a stack trace: unexpected errors are logged with their
traceback and answered with a generic message and the request id.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from shopagent.agent.server.logs import request_id_var
from shopagent.agent.server.shopper import InvalidShopperToken
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from shopagent.errors import (
    CatalogUnavailable,
    ConfigError,
    IndexMissing,
    InventoryUnavailable,
    ModelUnavailable,
    NotVerified,
    ShopAgentError,
    StorageUnavailable,
    StoreNotFound,
    TurnTimeout,
    UpstreamError,
)

log = logging.getLogger("shopagent.server")

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    503: "service_unavailable",
}


class ApiError(Exception):
    """An error with an HTTP status, a stable code and a human message (+ hint)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        hint: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.hint = status, code, message, hint
        self.headers = headers or {}


def status_of(exc: ShopAgentError) -> tuple[int, str]:
    if isinstance(exc, InvalidShopperToken):
        return 401, "invalid_shopper_token"
    if isinstance(exc, NotVerified):
        return 403, "not_verified"
    if isinstance(exc, StorageUnavailable):
        return 503, "storage_unavailable"
    if isinstance(exc, TurnTimeout):
        return 503, "turn_timeout"
    if isinstance(
        exc,
        InventoryUnavailable
        | CatalogUnavailable
        | ModelUnavailable
        | UpstreamError
        | StoreNotFound
        | IndexMissing,
    ):
        return 503, "upstream_unavailable"
    if isinstance(exc, ConfigError):
        return 400, "invalid_request"
    return 400, "invalid_request"


def error_body(status: int, code: str, message: str, hint: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": _TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error"),
        "code": code,
        "message": message,
        "param": None,
        "request_id": request_id_var.get(),
    }
    if hint:
        body["hint"] = hint
    return {"error": body}


def error_response(
    status: int, code: str, message: str, hint: str = "", headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(status, code, message, hint), status, headers=headers)


def shopagent_error_parts(exc: ShopAgentError) -> tuple[int, str, str, str]:
    status, code = status_of(exc)
    message = str(exc).split("\n  fix:")[0]
    return status, code, message, exc.hint


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.hint, exc.headers)

    @app.exception_handler(ShopAgentError)
    async def _shopagent(request: Request, exc: ShopAgentError) -> JSONResponse:
        status, code, message, hint = shopagent_error_parts(exc)
        if status >= 500:
            log.warning("turn failed: %s", message)
        return error_response(status, code, message, hint)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors()[:10]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append(f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg"))
        return error_response(422, "invalid_body", "; ".join(problems) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}
        return error_response(
            exc.status_code,
            codes.get(exc.status_code, f"http_{exc.status_code}"),
            str(exc.detail),
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=exc)
        return error_response(500, "internal_error", "internal error; quote the request_id")
