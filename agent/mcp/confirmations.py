"""Confirmation tokens for two-step writes: a propose call signs the exact change it showed,
the confirm call presents the token back.

A token is an HS256 JWT bound to the customer it was proposed for (``sub``), the action and
its target, and the refund the shopper was shown; it expires after ``ttl_s``. A support
action's token (exchange, order changes, multi-item return) also carries the checked change:
its inputs (``chg``: swaps, picks, address, method...) and its ``action_id`` (``cid``, a
digest of the exact change), so a confirm re-checks that very change and a token cannot
stand for another. Nothing is stored: any server process with the same key can check it,
and replaying a confirm is harmless because the write tools are idempotent (the existing
return, cancellation or action is returned, nothing new is written).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from decimal import Decimal
from typing import Any, Literal

import jwt
from pydantic import BaseModel, ConfigDict
from shopagent.tools.results_changes import ChangeAction

from shopagent.errors import ActionNotAllowed

AUDIENCE = "shopagent-mcp-confirmation"
ALGORITHM = "HS256"
DEFAULT_TTL_S = 15 * 60

Action = Literal["start_return", "cancel_order"] | ChangeAction


class ConfirmationExpired(ActionNotAllowed):
    """The confirmation token is too old."""

    hint = "call the propose tool again and confirm the new token"


class InvalidConfirmation(ActionNotAllowed):
    """The confirmation token was not issued here, was altered, or is for someone else."""

    hint = "confirm with the exact token a propose call returned to this shopper"


class Proposed(BaseModel):
    """What a confirmation token says was proposed."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    action: Action
    order_number: str
    sku: str | None = None
    condition: str | None = None
    refund_amount: Decimal
    """The refund shown; for a support action its signed amount (> 0 charged, < 0 refunded)."""
    expires_at: int
    reason: str | None = None
    """A cancellation's reason."""
    change_id: str | None = None
    """A support action's ``action_id``: the digest of the exact change proposed."""
    change: dict[str, Any] | None = None
    """A support action's inputs, to check it again on confirm."""


def derive_key(secret: str | None) -> bytes:
    """The signing key: derived from the shop's shopper-token secret (so every server process
    agrees), else random for this process (stdio: tokens live as long as the session)."""
    if not secret:
        return secrets.token_bytes(32)
    return hmac.new(secret.encode(), b"shopagent mcp confirmation v1", hashlib.sha256).digest()


class Confirmations:
    """Issues and checks confirmation tokens with one key."""

    def __init__(self, key: bytes, *, ttl_s: int = DEFAULT_TTL_S) -> None:
        self._key, self.ttl_s = key, ttl_s

    def issue(
        self,
        *,
        customer_id: str,
        action: Action,
        order_number: str,
        refund_amount: Decimal,
        sku: str | None = None,
        condition: str | None = None,
        reason: str | None = None,
        change_id: str | None = None,
        change: dict[str, Any] | None = None,
    ) -> tuple[str, int]:
        """``(token, expires_at)`` for this exact change."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": customer_id,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + self.ttl_s,
            "jti": uuid.uuid4().hex,
            "act": action,
            "ord": order_number,
            "sku": sku,
            "cond": condition,
            "refund": str(refund_amount),
        }
        extra = {"why": reason, "cid": change_id, "chg": change}
        claims |= {k: v for k, v in extra.items() if v is not None}
        return jwt.encode(claims, self._key, algorithm=ALGORITHM), now + self.ttl_s

    def check(self, token: str, *, customer_id: str, action: Action) -> Proposed:
        """The proposal ``token`` carries, when it was issued here to ``customer_id`` for
        ``action``; InvalidConfirmation / ConfirmationExpired otherwise."""
        if not token or len(token) > 4096:
            raise InvalidConfirmation("the confirmation token is missing or malformed")
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                options={"require": ["sub", "exp", "aud", "act", "ord", "refund"]},
            )
        except jwt.ExpiredSignatureError:
            raise ConfirmationExpired("the confirmation token has expired") from None
        except jwt.PyJWTError:
            raise InvalidConfirmation("the confirmation token is not valid") from None
        # one message for "someone else's" and "forged": nothing is revealed either way
        if claims["sub"] != customer_id or claims["act"] != action:
            raise InvalidConfirmation("the confirmation token is not valid")
        return Proposed(
            customer_id=claims["sub"],
            action=claims["act"],
            order_number=claims["ord"],
            sku=claims.get("sku"),
            condition=claims.get("cond"),
            refund_amount=Decimal(claims["refund"]),
            expires_at=int(claims["exp"]),
            reason=claims.get("why"),
            change_id=claims.get("cid"),
            change=claims.get("chg"),
        )
