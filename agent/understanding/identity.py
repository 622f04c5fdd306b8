"""In-chat identity: which verification a message attempts, and the per-thread rate limit.

Pure rules over slots, the shop's allowed methods and an injected clock; the lookups
themselves are the ``Orders`` tool's (ownership is checked in its SQL).

Methods (``settings.verification_methods``):

* ``email_order``: the email on the account plus one of its order numbers;
* ``email_zip``: the email plus the account's zip code;
* ``name_zip``: the customer's full name plus their zip code (for shoppers who do not know
  which email they used). The name is matched against the store's customers with that zip
  code, so no name pattern is needed.

A thread that failed ``max_failures`` times within ``window_s`` is locked: further attempts
are refused without a lookup (even a correct one), so guessing names or enumerating zip codes
gets nowhere.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from shopagent.agent.understanding.slots import Slots

Method = Literal["email_order", "email_zip", "name_zip"]
METHODS: tuple[Method, ...] = ("email_order", "email_zip", "name_zip")


def attempted_method(slots: Slots, allowed: tuple[str, ...], *, verified: bool) -> Method | None:
    """The verification the message attempts under the shop's ``allowed`` methods, or None.

    An email with an order number (or a zip code) is an email method; a zip code without an
    email is a name + zip attempt (the name is looked for in the message), but only for a
    shopper not verified yet: a verified customer mentioning a zip code is not re-verified.
    """
    if slots.email:
        if slots.order_number and "email_order" in allowed:
            return "email_order"
        if slots.zip_code and "email_zip" in allowed:
            return "email_zip"
        return None
    if slots.zip_code and not verified and "name_zip" in allowed:
        return "name_zip"
    return None


def recent_failures(failures: list[str], now: datetime, window_s: float) -> list[str]:
    """The failed attempts (ISO times) that still count at ``now``."""
    since = now - timedelta(seconds=window_s)
    kept = []
    for stamp in failures:
        try:
            when = datetime.fromisoformat(stamp)
        except (TypeError, ValueError):
            continue
        if when.tzinfo is None and now.tzinfo is not None:
            when = when.replace(tzinfo=now.tzinfo)
        if since < when <= now:
            kept.append(stamp)
    return kept


def is_locked(failures: list[str], now: datetime, max_failures: int, window_s: float) -> bool:
    """Whether the thread has used up its failed attempts."""
    return len(recent_failures(failures, now, window_s)) >= max_failures


def with_failure(failures: list[str], now: datetime, window_s: float) -> list[str]:
    """``failures`` plus one at ``now`` (expired ones dropped)."""
    return [*recent_failures(failures, now, window_s), now.isoformat()]
