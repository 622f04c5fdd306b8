"""The clock business rules are given (injected, never read from the system inside a rule)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime


def fixed_clock(iso: str | None) -> Callable[[], datetime]:
    """A clock returning ``iso`` (demos, evals) or the real UTC time."""
    if iso is None:
        return lambda: datetime.now(UTC)
    moment = datetime.fromisoformat(iso)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return lambda: moment
