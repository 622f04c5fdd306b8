"""Who the shopper of an MCP call is.

* HTTP (``/mcp`` on ``shopagent serve``): the signed ``X-Shopper-Token`` of the request,
  verified like every other route; a customer named in tool arguments is never trusted.
* stdio (``shopagent mcp``): the host that starts the process says who the shopper is
  (``--customer`` or ``SHOPAGENT_MCP_CUSTOMER``); without one, personal tools are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from shopagent.agent.server.config import ServerConfig
from shopagent.agent.server.shopper import HEADER, verify_shopper_token
from shopagent.tools.protocols import Orders
from shopagent.tools.results import VerifiedCustomer

from shopagent.errors import NotVerified

ENV_CUSTOMER = "SHOPAGENT_MCP_CUSTOMER"


class Identity(Protocol):
    """The signed-in shopper's email for a call (None: anonymous)."""

    def email(self, headers: Mapping[str, str] | None) -> str | None: ...

    @property
    def how_to_sign_in(self) -> str: ...


class HostIdentity:
    """stdio: one shopper for the whole session, set by the host."""

    how_to_sign_in = (
        f"start `shopagent mcp` with --customer EMAIL (or set {ENV_CUSTOMER}) in the MCP host"
    )

    def __init__(self, email: str | None) -> None:
        self._email = (email or "").strip() or None

    def email(self, headers: Mapping[str, str] | None) -> str | None:
        return self._email


class TokenIdentity:
    """HTTP: the request's signed shopper token (``X-Shopper-Token``), checked on each call."""

    how_to_sign_in = (
        f"send `{HEADER}: <JWT>` issued by the shop's backend (sub = the customer's email)"
    )

    def __init__(self, config: ServerConfig) -> None:
        self.config = config

    def email(self, headers: Mapping[str, str] | None) -> str | None:
        token = _header(headers, HEADER)
        if not token or self.config.shopper_token_secret is None:
            return None
        shopper = verify_shopper_token(
            token.strip(),
            self.config.shopper_token_secret.get_secret_value(),
            audience=self.config.shopper_token_audience,
            max_age_s=self.config.shopper_token_max_age_s,
        )
        return shopper.email


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if str(key).lower() == wanted:
            return str(value)
    return None


def signed_in(
    identity: Identity, headers: Mapping[str, str] | None, orders: Orders
) -> VerifiedCustomer:
    """The verified customer of this call; NotVerified (with how to sign in) otherwise."""
    email = identity.email(headers)
    if not email:
        raise NotVerified("this tool needs a signed-in shopper", hint=identity.how_to_sign_in)
    customer = orders.customer_by_email(email)
    if customer is None:
        raise NotVerified(
            "the signed-in shopper is not a customer of this store",
            hint="sign in with the email of a customer of this store",
        )
    return customer
