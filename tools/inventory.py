"""Implementations of the :class:`~shopagent.tools.protocols.Inventory` protocol (live price and
stock).

* :class:`HttpInventory` asks the inventory API (``POST /v1/quotes``, see
  :mod:`shopagent.tools.inventory_api`) through the project's
  :class:`~shopagent.tools.http.HttpClient`, with a
  short per-SKU TTL cache and a circuit breaker. Every failure surfaces as
  :class:`~shopagent.errors.InventoryUnavailable`; stale data is never served.
* :class:`InMemoryInventory` answers from a dict or straight from a :class:`StoreDB` (tests).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Literal

from pydantic import ValidationError
from shopagent.tools.http import HttpClient, UpstreamHTTPError
from shopagent.tools.results import StockQuote
from shopagent.tools.store.db import StoreDB

from shopagent.errors import ConfigError, InventoryUnavailable, UpstreamError

logger = logging.getLogger("shopagent.inventory")

#: Most SKUs the API accepts in one ``POST /v1/quotes`` (larger requests are split).
MAX_SKUS_PER_REQUEST = 200

Clock = Callable[[], float]
BreakerState = Literal["closed", "open", "half-open"]


def _unique(skus: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(s for s in skus if s))


def db_quotes(
    db: StoreDB, skus: Iterable[str], *, as_of: datetime | None = None
) -> dict[str, StockQuote]:
    """Current quotes for the known SKUs among ``skus``, read from the store database.

    ``as_of`` (default: now, UTC) is when the values were read. Negative stock counts
    (oversold) are reported as 0 units available.
    """
    wanted = _unique(skus)
    when = as_of or datetime.now(UTC)
    rows = {row["sku"]: row for row in db.sku_rows(wanted)}
    return {
        sku: StockQuote(
            sku=sku,
            price=Decimal(rows[sku]["price"]),
            currency=rows[sku]["currency"],
            stock=max(0, int(rows[sku]["stock"])),
            as_of=when,
        )
        for sku in wanted
        if sku in rows
    }


class CircuitBreaker:
    """Closed → (``threshold`` consecutive failures) → open: calls fail fast for
    ``cooldown_s`` → half-open: one trial call; success closes, failure re-opens."""

    def __init__(self, *, threshold: int = 3, cooldown_s: float = 10.0, clock: Clock) -> None:
        if threshold < 1:
            raise ValueError("threshold must be >= 1")
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self.failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.cooldown_s:
            return "half-open"
        return "open"

    def retry_in(self) -> float:
        """Seconds until the breaker lets a trial call through (0 when it would now)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self.cooldown_s - (self._clock() - self._opened_at))

    def acquire(self) -> bool:
        """Whether a call may proceed now (marks the half-open trial as in flight)."""
        state = self.state
        if state == "closed":
            return True
        if state == "half-open" and not self._trial_in_flight:
            self._trial_in_flight = True
            return True
        return False

    def success(self) -> None:
        self.failures = 0
        self._opened_at = None
        self._trial_in_flight = False

    def failure(self) -> None:
        self.failures += 1
        was_trial, self._trial_in_flight = self._trial_in_flight, False
        if was_trial or self.failures >= self.threshold:
            self._opened_at = self._clock()

    def release(self) -> None:
        """End a call that proved nothing about the service's health (e.g. a 4xx)."""
        self._trial_in_flight = False


class HttpInventory:
    """Live price/stock from the inventory API, with a TTL cache and a circuit breaker.

    * Quotes (and "unknown SKU" answers) are cached per SKU for ``ttl_s`` seconds of
      ``clock``; an entry older than that is never served — it is fetched again, and if
      that fails the call raises.
    * After ``breaker_threshold`` consecutive failed calls the breaker opens: calls that
      need the API fail fast with :class:`InventoryUnavailable` for ``breaker_cooldown_s``;
      then one trial call is let through (half-open) and its outcome closes or re-opens it.
      Client errors (4xx other than 429) do not count: they say nothing about availability.
    """

    def __init__(
        self,
        client: HttpClient,
        *,
        ttl_s: float = 2.0,
        clock: Clock = time.monotonic,
        breaker_threshold: int = 3,
        breaker_cooldown_s: float = 10.0,
        timeout: float | None = None,
    ) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self.timeout = timeout
        self._clock = clock
        self.breaker = CircuitBreaker(
            threshold=breaker_threshold, cooldown_s=breaker_cooldown_s, clock=clock
        )
        self._cache: dict[str, tuple[float, StockQuote | None]] = {}

    def __repr__(self) -> str:
        return f"HttpInventory({self.client.base_url!r}, ttl_s={self.ttl_s})"

    async def aclose(self) -> None:
        await self.client.aclose()

    async def __aenter__(self) -> HttpInventory:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def clear_cache(self) -> None:
        self._cache.clear()

    def _fresh(self, sku: str, now: float) -> tuple[bool, StockQuote | None]:
        entry = self._cache.get(sku)
        if entry is None:
            return False, None
        fetched_at, quote = entry
        if now - fetched_at >= self.ttl_s:
            del self._cache[sku]
            return False, None
        return True, quote

    async def quotes(self, skus: Sequence[str]) -> dict[str, StockQuote]:
        """Current quotes for the known SKUs among ``skus`` (unknown ones are absent).

        Raises InventoryUnavailable when the API cannot answer (or the breaker is open).
        """
        wanted = _unique(skus)
        now = self._clock()
        found: dict[str, StockQuote] = {}
        to_fetch: list[str] = []
        for sku in wanted:
            hit, quote = self._fresh(sku, now)
            if not hit:
                to_fetch.append(sku)
            elif quote is not None:
                found[sku] = quote
        for start in range(0, len(to_fetch), MAX_SKUS_PER_REQUEST):
            batch = to_fetch[start : start + MAX_SKUS_PER_REQUEST]
            stamp = self._clock()  # the values are at least this old: expire conservatively
            fetched = await self._fetch(batch)
            for sku in batch:
                quote = fetched.get(sku)
                self._cache[sku] = (stamp, quote)
                if quote is not None:
                    found[sku] = quote
        return {sku: found[sku] for sku in wanted if sku in found}

    async def _fetch(self, skus: list[str]) -> dict[str, StockQuote]:
        url = self.client.base_url
        if not self.breaker.acquire():
            raise InventoryUnavailable(
                f"inventory API at {url} is failing ({self.breaker.failures} failed calls in "
                f"a row); not calling it for another {self.breaker.retry_in():.1f}s "
                "(circuit breaker open)"
            )
        try:
            body = await self.client.post_json("/v1/quotes", {"skus": skus}, timeout=self.timeout)
            quotes = _parse_quotes(body, skus)
        except UpstreamError as exc:
            status = exc.status if isinstance(exc, UpstreamHTTPError) else None
            if status is not None and 400 <= status < 500 and status != 429:
                self.breaker.release()  # a 4xx: the API is up, the request was wrong
            else:
                self.breaker.failure()
            raise InventoryUnavailable(
                f"inventory API at {url} could not give prices/stock for "
                f"{_skus_text(skus)}: {exc.args[0] if exc.args else exc}"
            ) from exc
        except (ValidationError, ValueError, TypeError, KeyError) as exc:
            self.breaker.failure()
            raise InventoryUnavailable(
                f"inventory API at {url} returned a malformed quotes response: {exc}"
            ) from exc
        except BaseException:
            self.breaker.release()  # cancelled: no verdict on the service
            raise
        self.breaker.success()
        return quotes


def _skus_text(skus: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(skus[:limit])
    more = f" and {len(skus) - limit} more" if len(skus) > limit else ""
    return f"{shown}{more}"


def _parse_quotes(body: Any, asked: Sequence[str]) -> dict[str, StockQuote]:
    if not isinstance(body, Mapping) or not isinstance(body.get("quotes"), list):
        raise ValueError(f"expected an object with a 'quotes' list, got {str(body)[:200]!r}")
    wanted = set(asked)
    quotes = (StockQuote.model_validate(item) for item in body["quotes"])
    return {q.sku: q for q in quotes if q.sku in wanted}


class InMemoryInventory:
    """An Inventory for tests: from a dict of quotes, or live from a :class:`StoreDB`.

    Set ``fail`` (also later, as an attribute) to make every call raise
    InventoryUnavailable. ``calls`` records the SKUs asked for on each call.
    """

    def __init__(self, quotes: Mapping[str, StockQuote] | StoreDB, *, fail: bool = False) -> None:
        self.source = quotes if isinstance(quotes, StoreDB) else dict(quotes)
        self.fail = fail
        self.calls: list[list[str]] = []

    async def quotes(self, skus: Sequence[str]) -> dict[str, StockQuote]:
        wanted = _unique(skus)
        self.calls.append(wanted)
        if self.fail:
            raise InventoryUnavailable("inventory unavailable (InMemoryInventory fail=True)")
        if isinstance(self.source, StoreDB):
            return db_quotes(self.source, wanted)
        return {sku: self.source[sku] for sku in wanted if sku in self.source}


def inventory_from_url(
    url: str, *, timeout_s: float, retries: int, ttl_s: float = 2.0
) -> HttpInventory:
    """An HttpInventory for the API at ``url``.

    Each attempt is bounded by ``timeout_s`` (settings: ``inventory_timeout_s``); ``retries``
    re-tries are made (``inventory_retries``); a whole call is bounded by the time for every
    attempt plus 2 s of waiting.
    """
    try:
        client = HttpClient(
            url,
            timeout=timeout_s,
            retries=retries,
            deadline_s=timeout_s * (retries + 1) + 2.0,
            backoff_base_s=0.1,
            backoff_max_s=1.0,
            retry_after_max_s=2.0,
        )
    except ValueError as exc:
        raise ConfigError(
            f"invalid inventory API URL {url!r}: {exc}",
            hint="set SHOPAGENT_INVENTORY_URL to http(s)://host:port, or unset it",
        ) from exc
    return HttpInventory(client, ttl_s=ttl_s)
