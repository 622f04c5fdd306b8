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
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from shopagent.errors import UpstreamError

logger = logging.getLogger("shopagent.http")

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

#: Transport failures worth another attempt: connect errors and refusals, connect / read /
#: write / pool timeouts, resets (``ReadError``) and dropped connections
#: (``RemoteProtocolError``, e.g. "Server disconnected without sending a response").
RETRYABLE_EXCEPTIONS: tuple[type[BaseException], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


def is_retryable_status(status: int) -> bool:
    """429 Too Many Requests and every 5xx are retried; everything else is final."""
    return status == 429 or 500 <= status <= 599


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value, or None when absent/invalid.

    Accepts delay-seconds (``"120"``; fractions such as ``"0.5"`` are tolerated) and an
    HTTP date (``"Wed, 21 Oct 2015 07:28:00 GMT"``). A date in the past means 0.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / inf
            return None
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


class UpstreamHTTPError(UpstreamError):
    """An HTTP call failed (after retries, or at once for a non-retryable status).

    ``status`` is the last HTTP status (None when no response arrived), ``attempts`` how
    many requests were made, ``url`` and ``method`` what was called.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        url: str,
        attempts: int,
        status: int | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.url = url
        self.attempts = attempts
        self.status = status
        self.retryable = retryable


class _RetryableStatus(Exception):
    """Internal: a response whose status (429 / 5xx) deserves another attempt."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.retry_after = parse_retry_after(response.headers.get("retry-after"))


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, (_RetryableStatus, *RETRYABLE_EXCEPTIONS))


def _body_snippet(response: httpx.Response, limit: int = 200) -> str:
    try:
        data = response.json()
    except ValueError:
        text = response.text.strip()
    else:
        text = str(data.get("detail", data)) if isinstance(data, dict) else str(data)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe_status(response: httpx.Response) -> str:
    phrase = f" {response.reason_phrase}" if response.reason_phrase else ""
    snippet = _body_snippet(response)
    return f"HTTP {response.status_code}{phrase}" + (f": {snippet}" if snippet else "")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, _RetryableStatus):
        return _describe_status(exc.response)
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


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
        per_try = self.timeout if timeout is None else float(timeout)
        if per_try <= 0:
            raise ValueError("timeout must be > 0")
        method = method.upper()
        client = self._http()
        url = str(client.build_request(method, path.lstrip("/"), params=params).url)
        start = self._clock()
        deadline = start + self.deadline_s
        attempts = 0
        gave_up_for_deadline = False

        async def attempt() -> httpx.Response:
            nonlocal attempts
            # Never past the deadline (a small floor: a sleep may overshoot it slightly).
            limit = min(per_try, max(deadline - self._clock(), 0.05))
            attempts += 1
            request = client.build_request(
                method,
                path.lstrip("/"),
                params=params,
                json=json,
                timeout=httpx.Timeout(limit),
            )
            try:
                # httpx bounds each phase; this bounds the whole attempt (slow trickles).
                async with asyncio.timeout(limit * 1.05 + 0.05):
                    response = await client.send(request)
            except TimeoutError as exc:  # the hard per-attempt bound (slow trickle)
                raise httpx.ReadTimeout(
                    f"no complete response within {limit:.2f}s", request=request
                ) from exc
            except httpx.TimeoutException as exc:
                if str(exc).strip():
                    raise
                raise type(exc)(f"timed out after {limit:.2f}s", request=request) from exc
            if response.is_success:
                return response
            if is_retryable_status(response.status_code):
                raise _RetryableStatus(response)
            raise UpstreamHTTPError(
                f"{method} {url} failed: {_describe_status(response)} (not retried)",
                method=method,
                url=url,
                attempts=attempts,
                status=response.status_code,
            )

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _RetryableStatus) and exc.retry_after is not None:
                return min(exc.retry_after, self.retry_after_max_s)
            return self.backoff(state.attempt_number)

        def stop(state: RetryCallState) -> bool:
            nonlocal gave_up_for_deadline
            if state.attempt_number >= self.max_attempts:
                return True
            if self._clock() + (state.upcoming_sleep or 0.0) >= deadline:
                gave_up_for_deadline = True
                return True
            return False

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            honoured = isinstance(exc, _RetryableStatus) and exc.retry_after is not None
            logger.warning(
                "%s %s attempt %d/%d failed (%s); retrying in %.2fs%s",
                method,
                url,
                state.attempt_number,
                self.max_attempts,
                _describe(exc) if exc else "?",
                state.upcoming_sleep,
                " (Retry-After)" if honoured else "",
            )

        retrying = AsyncRetrying(
            retry=retry_if_exception(_retryable),
            wait=wait,
            stop=stop,
            before_sleep=before_sleep,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            response = await retrying(attempt)
        except httpx.HTTPError as exc:
            if isinstance(exc, RETRYABLE_EXCEPTIONS):
                raise self._gave_up(
                    method, url, exc, attempts, start, gave_up_for_deadline
                ) from exc
            raise UpstreamHTTPError(  # e.g. a proxy error or an undecodable body
                f"{method} {url} failed: {_describe(exc)} (not retried)",
                method=method,
                url=url,
                attempts=attempts,
            ) from exc
        except _RetryableStatus as exc:
            raise self._gave_up(method, url, exc, attempts, start, gave_up_for_deadline) from exc
        try:
            return response.json()
        except ValueError as exc:
            raise UpstreamHTTPError(
                f"{method} {url} returned HTTP {response.status_code} with a body that is not "
                f"JSON: {_body_snippet(response)!r}",
                method=method,
                url=url,
                attempts=attempts,
                status=response.status_code,
            ) from exc

    def _gave_up(
        self,
        method: str,
        url: str,
        exc: BaseException,
        attempts: int,
        start: float,
        for_deadline: bool,
    ) -> UpstreamHTTPError:
        """The error for a call whose retryable failures exhausted attempts or deadline."""
        elapsed = self._clock() - start
        why = (
            f"; the next retry would pass the {self.deadline_s:g}s deadline" if for_deadline else ""
        )
        status = exc.response.status_code if isinstance(exc, _RetryableStatus) else None
        logger.warning(
            "%s %s gave up after %d attempt(s): %s", method, url, attempts, _describe(exc)
        )
        return UpstreamHTTPError(
            f"{method} {url} failed after {attempts} attempt(s) in {elapsed:.2f}s: "
            f"{_describe(exc)}{why}",
            method=method,
            url=url,
            attempts=attempts,
            status=status,
            retryable=True,
        )

    def backoff(self, attempt_number: int) -> float:
        """The jittered exponential wait after failed attempt ``attempt_number`` (1-based)."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2 ** max(0, attempt_number - 1))
        return self._rng.uniform(ceiling / 2, ceiling)
