"""Request authentication: integrator API key (required), rate limit, shopper token.

* ``Authorization: Bearer sa_...`` (what OpenAI clients send) or ``X-API-Key: sa_...``.
* A key created with ``--origin`` is accepted only from those browser origins (widget keys).
* ``X-Shopper-Token``: the signed shopper identity (see :mod:`shopagent.agent.server.shopper`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from shopagent.agent.server.errors import ApiError
from shopagent.agent.server.keys import ApiKey
from shopagent.agent.server.logs import key_id_var
from shopagent.agent.server.ratelimit import retry_after_header
from shopagent.agent.server.shopper import HEADER as SHOPPER_HEADER
from shopagent.agent.server.shopper import Shopper, verify_shopper_token

bearer = HTTPBearer(auto_error=False, description="An integrator API key: `sa_...`.")
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)
shopper_header = APIKeyHeader(
    name=SHOPPER_HEADER,
    auto_error=False,
    description="Signed shopper identity (HS256 JWT: sub=email, aud, exp) issued by the shop.",
)


@dataclass(frozen=True)
class Caller:
    key: ApiKey
    shopper: Shopper | None

    @property
    def customer(self) -> str | None:
        return self.shopper.email if self.shopper else None


def _unauthorized(message: str) -> ApiError:
    return ApiError(
        401,
        "invalid_api_key",
        message,
        hint="send `Authorization: Bearer <key>` with a key from `shopagent keys create`",
        headers={"WWW-Authenticate": "Bearer"},
    )


async def api_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    header_key: Annotated[str | None, Depends(api_key_header)],
) -> ApiKey:
    """The verified, rate-limited key of this request (401/403/429 otherwise)."""
    rt = request.app.state.server
    presented = header_key or (credentials.credentials if credentials else None)
    if not presented:
        rt.metrics.auth_failures.inc()
        raise _unauthorized("an API key is required")
    key = rt.keys.verify(presented.strip())
    if key is None:
        rt.metrics.auth_failures.inc()
        raise _unauthorized("invalid or revoked API key")
    key_id_var.set(key.id)
    if key.origins:
        origin = (request.headers.get("origin") or "").rstrip("/")
        if origin not in key.origins:
            raise ApiError(403, "origin_not_allowed", "this key is not valid from this origin")
    rate = key.rate_limit_per_minute
    rate = rt.config.rate_limit_per_minute if rate is None else rate
    wait = rt.limiter.allow(key.id, rate, rt.config.rate_limit_burst)
    if wait > 0:
        rt.metrics.rate_limited.inc()
        raise ApiError(
            429,
            "rate_limited",
            "too many requests for this API key",
            hint="slow down; retry after the Retry-After seconds",
            headers={"Retry-After": retry_after_header(wait)},
        )
    return key


async def caller(
    request: Request,
    key: Annotated[ApiKey, Depends(api_key)],
    token: Annotated[str | None, Depends(shopper_header)],
) -> Caller:
    """The key plus the verified shopper, when the request carries a shopper token."""
    if not token:
        return Caller(key, None)
    config = request.app.state.server.config
    if config.shopper_token_secret is None:
        raise ApiError(
            401,
            "shopper_tokens_disabled",
            "this server does not accept shopper tokens",
            hint="set SHOPAGENT_SHOPPER_TOKEN_SECRET on the server",
        )
    shopper = verify_shopper_token(
        token.strip(),
        config.shopper_token_secret.get_secret_value(),
        audience=config.shopper_token_audience,
        max_age_s=config.shopper_token_max_age_s,
    )
    return Caller(key, shopper)


CallerDep = Annotated[Caller, Depends(caller)]
KeyDep = Annotated[ApiKey, Depends(api_key)]
