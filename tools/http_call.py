"""One JSON call of the HTTP client in flight: its attempts and its retry decisions.

:class:`Call` holds what one ``HttpClient.request_json`` call sends and the bounds it runs
under; its methods are the steps tenacity drives: make one attempt (bounded by the call's
deadline), choose the wait before the next one, decide when to stop, log the retry, and
word the error when the call gives up or the body is not JSON.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from shopagent.tools.http_errors import (
    RetryableStatus,
    UpstreamHTTPError,
    body_snippet,
    describe,
    describe_status,
    is_retryable_status,
)
from tenacity import RetryCallState

logger = logging.getLogger("shopagent.http")

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


@dataclass
class Call:
    """One JSON call: the request, its bounds, and how many attempts it has made so far."""

    client: httpx.AsyncClient
    method: str
    path: str
    url: str
    params: Mapping[str, Any] | None
    json: Any
    per_try: float
    start: float
    deadline_s: float
    max_attempts: int
    retry_after_max_s: float
    backoff: Callable[[int], float]
    clock: Clock
    attempts: int = 0
    gave_up_for_deadline: bool = False

    @property
    def deadline(self) -> float:
        return self.start + self.deadline_s

    # -- one attempt -------------------------------------------------------------------
    async def attempt(self) -> httpx.Response:
        """Send the request once; a retryable status raises :class:`RetryableStatus`."""
        # Never past the deadline (a small floor: a sleep may overshoot it slightly).
        limit = min(self.per_try, max(self.deadline - self.clock(), 0.05))
        self.attempts += 1
        request = self.client.build_request(
            self.method,
            self.path,
            params=self.params,
            json=self.json,
            timeout=httpx.Timeout(limit),
        )
        response = await self._send(request, limit)
        if response.is_success:
            return response
        if is_retryable_status(response.status_code):
            raise RetryableStatus(response)
        raise UpstreamHTTPError(
            f"{self.method} {self.url} failed: {describe_status(response)} (not retried)",
            method=self.method,
            url=self.url,
            attempts=self.attempts,
            status=response.status_code,
        )

    async def _send(self, request: httpx.Request, limit: float) -> httpx.Response:
        try:
            # httpx bounds each phase; this bounds the whole attempt (slow trickles).
            async with asyncio.timeout(limit * 1.05 + 0.05):
                return await self.client.send(request)
        except TimeoutError as exc:  # the hard per-attempt bound (slow trickle)
            raise httpx.ReadTimeout(
                f"no complete response within {limit:.2f}s", request=request
            ) from exc
        except httpx.TimeoutException as exc:
            if str(exc).strip():
                raise
            raise type(exc)(f"timed out after {limit:.2f}s", request=request) from exc

    # -- retry decisions (tenacity callbacks) ------------------------------------------
    def wait(self, state: RetryCallState) -> float:
        """A server's ``Retry-After`` (capped) when it sent one, else jittered backoff."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableStatus) and exc.retry_after is not None:
            return min(exc.retry_after, self.retry_after_max_s)
        return self.backoff(state.attempt_number)

    def stop(self, state: RetryCallState) -> bool:
        """Stop after the last attempt, or when the next wait would pass the deadline."""
        if state.attempt_number >= self.max_attempts:
            return True
        if self.clock() + (state.upcoming_sleep or 0.0) >= self.deadline:
            self.gave_up_for_deadline = True
            return True
        return False

    def before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        honoured = isinstance(exc, RetryableStatus) and exc.retry_after is not None
        logger.warning(
            "%s %s attempt %d/%d failed (%s); retrying in %.2fs%s",
            self.method,
            self.url,
            state.attempt_number,
            self.max_attempts,
            describe(exc) if exc else "?",
            state.upcoming_sleep,
            " (Retry-After)" if honoured else "",
        )

    # -- outcomes ----------------------------------------------------------------------
    def failed(self, exc: BaseException, retried: bool) -> UpstreamHTTPError:
        """The error for a failed call: retries exhausted (``retried``), or a final error
        such as a proxy error or an undecodable body."""
        if retried:
            return self._gave_up(exc)
        return UpstreamHTTPError(
            f"{self.method} {self.url} failed: {describe(exc)} (not retried)",
            method=self.method,
            url=self.url,
            attempts=self.attempts,
        )

    def _gave_up(self, exc: BaseException) -> UpstreamHTTPError:
        """The error for a call whose retryable failures exhausted attempts or deadline."""
        elapsed = self.clock() - self.start
        why = (
            f"; the next retry would pass the {self.deadline_s:g}s deadline"
            if self.gave_up_for_deadline
            else ""
        )
        status = exc.response.status_code if isinstance(exc, RetryableStatus) else None
        logger.warning(
            "%s %s gave up after %d attempt(s): %s",
            self.method,
            self.url,
            self.attempts,
            describe(exc),
        )
        return UpstreamHTTPError(
            f"{self.method} {self.url} failed after {self.attempts} attempt(s) in "
            f"{elapsed:.2f}s: {describe(exc)}{why}",
            method=self.method,
            url=self.url,
            attempts=self.attempts,
            status=status,
            retryable=True,
        )

    def decode(self, response: httpx.Response) -> Any:
        """The decoded JSON body of a successful response."""
        try:
            return response.json()
        except ValueError as exc:
            raise UpstreamHTTPError(
                f"{self.method} {self.url} returned HTTP {response.status_code} with a body "
                f"that is not JSON: {body_snippet(response)!r}",
                method=self.method,
                url=self.url,
                attempts=self.attempts,
                status=response.status_code,
            ) from exc
