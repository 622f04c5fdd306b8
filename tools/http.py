"""The project's one HTTP client: JSON over httpx with one bounded retry layer (tenacity).

Every outbound call of ShopAgent goes through :class:`HttpClient`. It retries what is worth
retrying — connection failures, timeouts, dropped connections, 429 and 5xx — with
exponential backoff and jitter, honours ``Retry-After`` (seconds or an HTTP date, capped),
and bounds each call twice: by a number of attempts and by an overall deadline. When it
gives up it raises :class:`UpstreamHTTPError` (an :class:`~shopagent.errors.UpstreamError`) that
names the URL, what failed and after how many attempts.

``post_json`` is retried like ``get_json``: use it only for idempotent requests (queries
such as ``POST /v1/quotes``), never for requests that create or change something.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx
from shopagent.tools.http_call import Call, Clock, Sleep
from shopagent.tools.http_errors import RetryableStatus, UpstreamHTTPError, retryable
from tenacity import AsyncRetrying, retry_if_exception

__all__ = ["HttpClient", "UpstreamHTTPError"]

logger = logging.getLogger("shopagent.http")


class HttpClient:
    """A JSON HTTP client around one ``httpx.AsyncClient`` with bounded retries.

    * ``timeout``: per-attempt timeout in seconds (connect, read, write, pool — and a hard
      bound on the whole attempt); ``get_json``/``post_json`` can override it per call.
    * ``retries``: re-tries after the first attempt (so ``retries + 1`` attempts at most).
    * ``deadline_s``: overall budget of one call, attempts and waits included; a retry whose
      wait would pass the deadline is not made. Default: room for every attempt to time
      out plus the maximal backoff between them.
    * ``backoff_base_s`` / ``backoff_max_s``: exponential backoff with jitter — before retry
      *n* it waits a random time in ``[b/2, b]`` with ``b = min(max, base * 2**(n-1))``.
    * ``retry_after_max_s``: cap on a server's ``Retry-After`` (used instead of backoff).
    * ``sleep``, ``clock``, ``rng``, ``transport``: injectable for tests.

    Use as ``async with HttpClient(url) as client: ...`` or call :meth:`aclose`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 5.0,
        retries: int = 3,
        deadline_s: float | None = None,
        backoff_base_s: float = 0.2,
        backoff_max_s: float = 2.0,
        retry_after_max_s: float = 10.0,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be > 0")
        if retries < 0:
            raise ValueError("retries must be >= 0")
        if backoff_base_s < 0 or backoff_max_s < 0 or retry_after_max_s < 0:
            raise ValueError("backoff and Retry-After caps must be >= 0")
        parsed = httpx.URL(str(base_url))
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.base_url = str(base_url).rstrip("/") + "/"
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff_base_s = float(backoff_base_s)
        self.backoff_max_s = float(backoff_max_s)
        self.retry_after_max_s = float(retry_after_max_s)
        if deadline_s is None:
            deadline_s = self.timeout * self.max_attempts + self.backoff_max_s * self.retries
        if deadline_s <= 0:
            raise ValueError("deadline_s must be > 0")
        self.deadline_s = float(deadline_s)
        self._headers = {"accept": "application/json", **dict(headers or {})}
        self._transport = transport
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    @property
    def max_attempts(self) -> int:
        return self.retries + 1

    def __repr__(self) -> str:
        return (
            f"HttpClient({self.base_url!r}, timeout={self.timeout}, retries={self.retries}, "
            f"deadline_s={self.deadline_s})"
        )

    # -- lifecycle ---------------------------------------------------------------------
    def _http(self) -> httpx.AsyncClient:
        """The underlying client, bound to the running event loop.

        httpx connections belong to the loop that opened them; if the client is used from
        a new loop (e.g. a CLI calling ``asyncio.run`` per turn) a fresh client is made.
        """
        loop = asyncio.get_running_loop()
        if self._client is None or self._client.is_closed or self._client_loop is not loop:
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=self.timeout,
                headers=self._headers,
                transport=self._transport,
            )
            self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        """Close the underlying client (a no-op when it belongs to another, ended loop)."""
        client, loop = self._client, self._client_loop
        self._client, self._client_loop = None, None
        if client is None or client.is_closed:
            return
        if loop is not asyncio.get_running_loop():
            # Its connections belong to a loop that is gone; they cannot be closed from
            # here (the sockets are released when the objects are collected).
            logger.debug("dropping an HTTP client of another event loop without closing it")
            return
        await client.aclose()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- public API --------------------------------------------------------------------
    async def get_json(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """GET ``path`` (relative to the base URL) and return the decoded JSON body."""
        return await self.request_json("GET", path, params=params, timeout=timeout)

    async def post_json(self, path: str, json: Any, timeout: float | None = None) -> Any:
        """POST ``json`` to ``path`` and return the decoded JSON body (idempotent calls only)."""
        return await self.request_json("POST", path, json=json, timeout=timeout)

    async def request_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        timeout: float | None = None,
    ) -> Any:
        """One JSON call with retries; raises :class:`UpstreamHTTPError` when it fails."""
        call = self._call(method, path, params, json, timeout)
        try:
            response = await self._retrying(call)(call.attempt)
        except (httpx.HTTPError, RetryableStatus) as exc:
            raise call.failed(exc, retried=retryable(exc)) from exc
        return call.decode(response)

    def _call(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        timeout: float | None,
    ) -> Call:
        """A new call: its per-attempt timeout, the full URL, and the clock started."""
        per_try = self.timeout if timeout is None else float(timeout)
        if per_try <= 0:
            raise ValueError("timeout must be > 0")
        method = method.upper()
        client = self._http()
        url = str(client.build_request(method, path.lstrip("/"), params=params).url)
        return Call(
            client=client,
            method=method,
            path=path.lstrip("/"),
            url=url,
            params=params,
            json=json,
            per_try=per_try,
            start=self._clock(),
            deadline_s=self.deadline_s,
            max_attempts=self.max_attempts,
            retry_after_max_s=self.retry_after_max_s,
            backoff=self.backoff,
            clock=self._clock,
        )

    def _retrying(self, call: Call) -> AsyncRetrying:
        """The retry loop of one call: tenacity driven by the call's own decisions."""
        return AsyncRetrying(
            retry=retry_if_exception(retryable),
            wait=call.wait,
            stop=call.stop,
            before_sleep=call.before_sleep,
            sleep=self._sleep,
            reraise=True,
        )

    def backoff(self, attempt_number: int) -> float:
        """The jittered exponential wait after failed attempt ``attempt_number`` (1-based)."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2 ** max(0, attempt_number - 1))
        return self._rng.uniform(ceiling / 2, ceiling)
