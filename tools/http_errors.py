"""What the HTTP client retries and how it words a failure.

Which transport failures and statuses deserve another attempt, the ``Retry-After`` parser,
the error every failed call raises (:class:`UpstreamHTTPError`), and short descriptions of
a failed attempt for log lines and error messages.
"""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime

import httpx

from shopagent.errors import UpstreamError

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


class RetryableStatus(Exception):
    """Internal: a response whose status (429 / 5xx) deserves another attempt."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.retry_after = parse_retry_after(response.headers.get("retry-after"))


def retryable(exc: BaseException) -> bool:
    """Whether a failed attempt deserves another one."""
    return isinstance(exc, (RetryableStatus, *RETRYABLE_EXCEPTIONS))


def body_snippet(response: httpx.Response, limit: int = 200) -> str:
    """The start of a response body (a JSON ``detail`` when there is one), on one line."""
    try:
        data = response.json()
    except ValueError:
        text = response.text.strip()
    else:
        text = str(data.get("detail", data)) if isinstance(data, dict) else str(data)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_status(response: httpx.Response) -> str:
    """``HTTP 503 Service Unavailable: <body snippet>``."""
    phrase = f" {response.reason_phrase}" if response.reason_phrase else ""
    snippet = body_snippet(response)
    return f"HTTP {response.status_code}{phrase}" + (f": {snippet}" if snippet else "")


def describe(exc: BaseException) -> str:
    """A failed attempt in a few words: its status, or the exception's type and text."""
    if isinstance(exc, RetryableStatus):
        return describe_status(exc.response)
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
