"""HttpClient: the retry rules (respx, exact). Real behaviour against a real uvicorn server:
tests/test_http_real.py."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx
from http_common import BASE, fast_client
from shopagent.tools.http import HttpClient, UpstreamHTTPError
from shopagent.tools.http_errors import parse_retry_after

from shopagent.errors import UpstreamError

# -- Retry-After parsing -------------------------------------------------------------------
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 3 ", 3.0),
        ("0.25", 0.25),
        ("0", 0.0),
        ("-5", 0.0),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
        ("Sat, 01 Mar 2025 12:00:30 GMT", 30.0),
        ("Sat, 01 Mar 2025 11:00:00 GMT", 0.0),  # in the past
        (None, None),
        ("", None),
        ("soon", None),
        ("nan", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


# -- retry rules (respx) -------------------------------------------------------------------
@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE) as router:
        yield router


async def test_retry_after_seconds_is_honoured_then_succeeds(mock: respx.MockRouter) -> None:
    route = mock.get("/v1/thing").mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "7"}),
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    client, sleep = fast_client(deadline_s=60)
    async with client:
        assert await client.get_json("/v1/thing") == {"ok": True}
    assert route.call_count == 3
    assert sleep.waits == [7.0, 2.0]  # Retry-After, not the (much smaller) backoff


async def test_retry_after_http_date_and_cap(mock: respx.MockRouter) -> None:
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=4), usegmt=True)
    mock.get("/a").mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": soon}),
            httpx.Response(503, headers={"Retry-After": "3600"}),
            httpx.Response(200, json=[1, 2]),
        ]
    )
    client, sleep = fast_client(retry_after_max_s=5.0, deadline_s=60)
    async with client:
        assert await client.get_json("a") == [1, 2]
    date_wait, capped_wait = sleep.waits
    assert 2.0 <= date_wait <= 4.0  # whole seconds in the header, some time has passed
    assert capped_wait == 5.0


async def test_exponential_backoff_with_jitter_is_bounded(mock: respx.MockRouter) -> None:
    route = mock.get("/x").mock(return_value=httpx.Response(500))
    client, sleep = fast_client(retries=4)
    async with client:
        with pytest.raises(UpstreamHTTPError):
            await client.get_json("/x")
    assert route.call_count == 5
    bounds = [(0.05, 0.1), (0.1, 0.2), (0.15, 0.3), (0.15, 0.3)]  # base 0.1 doubling, cap 0.3
    assert len(sleep.waits) == 4
    for wait, (low, high) in zip(sleep.waits, bounds, strict=True):
        assert low <= wait <= high


async def test_gives_up_with_url_status_and_attempts(
    mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    route = mock.post("/v1/quotes").mock(
        return_value=httpx.Response(503, json={"detail": "maintenance"})
    )
    client, sleep = fast_client(retries=2)
    with caplog.at_level(logging.WARNING, logger="shopagent.http"):
        async with client:
            with pytest.raises(UpstreamError) as info:
                await client.post_json("/v1/quotes", {"skus": ["A"]})
    err = info.value
    assert isinstance(err, UpstreamHTTPError)
    assert route.call_count == 3 == err.attempts
    assert err.status == 503 and err.url == f"{BASE}/v1/quotes" and err.retryable
    message = str(err)
    assert f"POST {BASE}/v1/quotes" in message
    assert "HTTP 503" in message and "maintenance" in message
    assert "after 3 attempt(s)" in message
    assert len(sleep.waits) == 2
    retry_logs = [r for r in caplog.records if r.name == "shopagent.http" and "retrying" in r.msg]
    assert len(retry_logs) == 2
    assert "attempt 1/3" in retry_logs[0].getMessage()


@pytest.mark.parametrize("status", [400, 401, 404, 409, 422])
async def test_client_errors_are_not_retried(mock: respx.MockRouter, status: int) -> None:
    route = mock.get("/v1/skus/NOPE").mock(
        return_value=httpx.Response(status, json={"detail": "unknown SKU 'NOPE'"})
    )
    client, sleep = fast_client()
    async with client:
        with pytest.raises(UpstreamHTTPError) as info:
            await client.get_json("/v1/skus/NOPE")
    assert route.call_count == 1
    assert sleep.waits == []
    assert info.value.status == status and info.value.attempts == 1
    assert not info.value.retryable
    assert f"HTTP {status}" in str(info.value) and "unknown SKU 'NOPE'" in str(info.value)


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("connection refused"),
        httpx.ConnectTimeout("connect timed out"),
        httpx.ReadTimeout("read timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("connection reset by peer"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_transport_failures_are_retried(mock: respx.MockRouter, exc: httpx.HTTPError) -> None:
    route = mock.get("/r").mock(side_effect=[exc, exc, httpx.Response(200, json={"n": 1})])
    client, sleep = fast_client()
    async with client:
        assert await client.get_json("/r") == {"n": 1}
    assert route.call_count == 3
    assert len(sleep.waits) == 2


async def test_exhausted_transport_failure_names_the_exception(
    mock: respx.MockRouter,
) -> None:
    mock.get("/r").mock(side_effect=httpx.ConnectError("connection refused"))
    client, _ = fast_client(retries=1)
    async with client:
        with pytest.raises(UpstreamHTTPError) as info:
            await client.get_json("/r", params={"q": "x y"})
    err = info.value
    assert err.status is None and err.attempts == 2
    assert f"GET {BASE}/r?q=x+y failed after 2 attempt(s)" in str(err)
    assert "ConnectError: connection refused" in str(err)


async def test_deadline_stops_a_retry_that_would_overrun(mock: respx.MockRouter) -> None:
    route = mock.get("/slow").mock(return_value=httpx.Response(503, headers={"Retry-After": "5"}))
    client, sleep = fast_client(retries=5, deadline_s=2.0)
    async with client:
        with pytest.raises(UpstreamHTTPError) as info:
            await client.get_json("/slow")
    assert route.call_count == 1  # waiting 5 s would pass the 2 s deadline
    assert sleep.waits == []
    assert "deadline" in str(info.value)


async def test_non_json_success_is_an_upstream_error(mock: respx.MockRouter) -> None:
    route = mock.get("/html").mock(return_value=httpx.Response(200, text="<html>hi"))
    client, _ = fast_client()
    async with client:
        with pytest.raises(UpstreamHTTPError, match="not JSON"):
            await client.get_json("/html")
    assert route.call_count == 1


async def test_base_url_path_and_params_are_joined(mock: respx.MockRouter) -> None:
    route = mock.get("/api/v1/skus/A", params={"x": "1"}).mock(
        return_value=httpx.Response(200, json={})
    )
    client, _ = fast_client(f"{BASE}/api")
    async with client:
        assert await client.get_json("/v1/skus/A", params={"x": "1"}) == {}
    assert route.call_count == 1


async def test_other_transport_errors_are_upstream_errors_not_retried(
    mock: respx.MockRouter,
) -> None:
    route = mock.get("/p").mock(side_effect=httpx.ProxyError("proxy said no"))
    client, sleep = fast_client()
    async with client:
        with pytest.raises(UpstreamHTTPError, match="ProxyError: proxy said no") as info:
            await client.get_json("/p")
    assert route.call_count == 1 and sleep.waits == [] and info.value.attempts == 1


def test_constructor_validates_and_defaults_the_deadline() -> None:
    client = HttpClient(BASE, timeout=2.0, retries=3, backoff_max_s=1.0)
    assert client.max_attempts == 4
    assert client.deadline_s == pytest.approx(2.0 * 4 + 1.0 * 3)
    for bad in ({"timeout": 0}, {"retries": -1}, {"deadline_s": 0}):
        with pytest.raises(ValueError):
            HttpClient(BASE, **bad)  # type: ignore[arg-type]
    for url in ("localhost:8000", "ftp://host/", "/v1"):
        with pytest.raises(ValueError, match="not an http"):
            HttpClient(url)
