"""The signed shopper identity: an HS256 JWT that the shop's backend issues.

Claims: ``sub`` the customer's email, ``aud`` (default ``shopagent``), ``exp`` (required),
``iat`` (optional). Any JWT library can mint one with the shared secret; tools trust only
the verified ``sub`` — never a customer named in a message or a request field.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from shopagent.errors import ShopAgentError

HEADER = "X-Shopper-Token"
ALGORITHM = "HS256"


class InvalidShopperToken(ShopAgentError):
    """The shopper token is missing a claim, expired, or not signed with the shared secret."""

    hint = "have the shop's backend issue a fresh token (HS256 JWT with sub, aud, exp)"


@dataclass(frozen=True)
class Shopper:
    email: str
    expires_at: int


def issue_shopper_token(
    email: str, secret: str, *, ttl_s: int = 3600, audience: str = "shopagent"
) -> str:
    """A token for ``email`` (what the shop's backend does; tests and the CLI use it)."""
    now = int(time.time())
    claims = {"sub": email, "aud": audience, "iat": now, "exp": now + ttl_s}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_shopper_token(
    token: str, secret: str, *, audience: str = "shopagent", max_age_s: int = 86400
) -> Shopper:
    """The shopper the token names; InvalidShopperToken when it cannot be trusted."""
    if len(token) > 4096:
        raise InvalidShopperToken("the shopper token is too long")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=audience,
            options={"require": ["sub", "exp", "aud"]},
            leeway=30,
        )
    except jwt.ExpiredSignatureError:
        raise InvalidShopperToken("the shopper token has expired") from None
    except jwt.PyJWTError as exc:
        raise InvalidShopperToken(f"invalid shopper token: {exc}") from None
    # PyJWT checked that exp (and iat, when present) are whole numbers; without iat the
    # lifetime counts from now, so a token cannot live forever by leaving iat out
    issued = int(claims["iat"]) if "iat" in claims else int(time.time())
    if int(claims["exp"]) - issued > max_age_s:
        raise InvalidShopperToken("the shopper token lives longer than the server accepts")
    email = str(claims["sub"]).strip()
    if "@" not in email or len(email) > 320:
        raise InvalidShopperToken("the shopper token's `sub` is not an email address")
    return Shopper(email=email, expires_at=int(claims["exp"]))
