"""The HTTP service on a real uvicorn server: rate and size limits, CORS, errors without
internals, metrics, JSON logs, and return / cancel confirmations."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest
import server_api_common
from server_api_common import new_thread, say
from server_app import SECRET, TestServer, sse_events
from shopagent.agent.server.logs import ContextFilter, JsonFormatter

# shared fixtures
client = server_api_common.client
srv = server_api_common.srv


# -- limits, CORS, errors ------------------------------------------------------------------
def test_per_key_rate_limit(tmp_path) -> None:
    srv = TestServer(tmp_path, rate_limit_per_minute=60, rate_limit_burst=3)
    try:
        _, slow = srv.keys.create("slow", rate_limit_per_minute=1)
        statuses = [
            httpx.get(f"{srv.url}/v1/models", headers=srv.headers(slow)).status_code
            for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        limited = httpx.get(f"{srv.url}/v1/models", headers=srv.headers(slow))
        assert limited.json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["retry-after"]) >= 1
        # another key has its own bucket
        assert httpx.get(f"{srv.url}/v1/models", headers=srv.headers()).status_code == 200
    finally:
        srv.close()


def test_request_size_limit(tmp_path) -> None:
    srv = TestServer(tmp_path, max_request_bytes=2048)
    try:
        url = f"{srv.url}/v1/threads/th_x/messages"
        big = json.dumps({"message": "x" * 3000}).encode()
        declared = httpx.post(url, content=big, headers=srv.headers())
        assert declared.status_code == 413
        assert declared.json()["error"]["code"] == "request_too_large"

        def chunks():
            yield big[:1000]
            yield big[1000:]

        chunked = httpx.post(url, content=chunks(), headers=srv.headers())
        assert chunked.status_code == 413
    finally:
        srv.close()


def test_cors_allows_only_configured_origins(tmp_path) -> None:
    srv = TestServer(tmp_path, cors_origins=("https://shop.example",))
    try:
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-shopper-token",
        }
        ok = httpx.options(
            f"{srv.url}/v1/threads", headers={"Origin": "https://shop.example", **preflight}
        )
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "https://shop.example"
        bad = httpx.options(
            f"{srv.url}/v1/threads", headers={"Origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in bad.headers
    finally:
        srv.close()


def test_widget_key_only_from_its_origin(srv) -> None:
    _, widget_key = srv.keys.create("widget", origins=["https://shop.example"])
    headers = srv.headers(widget_key)
    assert httpx.get(f"{srv.url}/v1/models", headers=headers).status_code == 403
    allowed = {**headers, "Origin": "https://shop.example"}
    assert httpx.get(f"{srv.url}/v1/models", headers=allowed).status_code == 200


def test_unexpected_errors_never_leak_a_stack_trace(srv, client, monkeypatch) -> None:
    async def boom(*args, **kwargs):
        raise RuntimeError("secret internals at /srv/app.py line 42")

    monkeypatch.setattr(srv.agent, "ask", boom)
    thread = new_thread(client)
    response = client.post(f"/v1/threads/{thread}/messages", json={"message": "hello"})
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_error" and error["request_id"]
    assert "secret" not in response.text and "Traceback" not in response.text
    assert response.headers["x-request-id"] == error["request_id"]


def test_stream_errors_are_events_without_internals(srv, client, monkeypatch) -> None:
    async def boom(*args, **kwargs):
        yield {"type": "node", "node": "understand", "tool_calls": []}
        raise RuntimeError("secret internals")

    monkeypatch.setattr(srv.agent, "stream", boom)
    thread = new_thread(client)
    response = client.post(
        f"/v1/threads/{thread}/messages", json={"message": "hello", "stream": True}
    )
    events = sse_events(response.text)
    assert events[-1][0] == "error" and events[-1][1]["code"] == "internal_error"
    assert "secret" not in response.text


def test_unknown_route_and_method_use_the_error_shape(client) -> None:
    missing = client.get("/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = client.delete("/v1/threads")
    assert wrong.status_code == 405 and "error" in wrong.json()


# -- observability -------------------------------------------------------------------------
def test_metrics_count_turns_tools_and_tokens(srv, client) -> None:
    thread = new_thread(client)
    say(client, thread, "how much is the hearth classic kettle?")
    assert httpx.get(f"{srv.url}/metrics").status_code == 401
    text = client.get("/metrics").text
    assert 'shopagent_turn_latency_seconds_count{intent="price_stock"} 1.0' in text
    assert 'shopagent_tool_calls_total{ok="true",tool="check_price_stock"} 1.0' in text
    assert "shopagent_model_tokens_total" in text
    assert 'shopagent_turns_total{answer_source="model",intent="price_stock"} 1.0' in text
    assert 'route="/v1/threads/{thread_id}/messages"' in text


def test_json_logs_carry_request_and_thread_ids(srv, client) -> None:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("shopagent")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        thread = new_thread(client)
        response = client.post(
            f"/v1/threads/{thread}/messages",
            json={"message": "hello"},
            headers={"X-Request-Id": "req-abc-123"},
        )
        assert response.headers["x-request-id"] == "req-abc-123"
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    records = [json.loads(line) for line in buffer.getvalue().splitlines()]
    turn = next(r for r in records if r["msg"] == "turn answered")
    assert turn["request_id"] == "req-abc-123" and turn["thread_id"] == thread
    assert turn["intent"] == "greeting" and "hello" not in json.dumps(turn)
    access = [r for r in records if r["logger"] == "shopagent.access"]
    assert any(r["status"] == 200 and r["request_id"] == "req-abc-123" for r in access)
    assert all(0 < r["duration_ms"] < 60_000 for r in access)
    assert all(r["key_id"] for r in access if r["route"].startswith("/v1"))


def test_shopper_secret_is_not_in_the_openapi_or_errors(srv) -> None:
    spec = httpx.get(f"{srv.url}/openapi.json").text
    assert SECRET not in spec


# -- return / cancel confirmation ----------------------------------------------------------
def _returns(srv) -> list[dict]:
    return srv.db.returns_of("C1")


@pytest.mark.parametrize("stream", [False, True])
def test_return_confirmation_approved(srv, client, stream) -> None:
    from server_app import RETURN_MSG

    ada = srv.headers(shopper="ada@example.com")
    thread = new_thread(client, headers=ada)
    proposal = say(client, thread, RETURN_MSG, headers=ada)
    confirmation = proposal["confirmation"]
    assert confirmation["action"] == "start_return"
    assert confirmation["order_number"] == "SA-100002"
    assert proposal["answer"] == confirmation["question"] and "$109.65" in proposal["answer"]
    pending = client.get(f"/v1/threads/{thread}/confirmation", headers=ada).json()
    assert pending["order_number"] == "SA-100002"
    assert client.get(f"/v1/threads/{thread}", headers=ada).json()["pending_confirmation"]
    assert _returns(srv) == []
    # another shopper cannot answer it
    ben = srv.headers(shopper="ben@example.com")
    denied = client.post(f"/v1/threads/{thread}/confirmation", json={"approve": True}, headers=ben)
    assert denied.status_code == 404 and _returns(srv) == []
    response = client.post(
        f"/v1/threads/{thread}/confirmation", json={"approve": True, "stream": stream}, headers=ada
    )
    assert response.status_code == 200
    if stream:
        events = sse_events(response.text)
        assert ("tool_finished", "start_return") in [(k, d.get("name")) for k, d in events]
        done = events[-1][1]
    else:
        done = response.json()
    assert done["confirmation"] is None and "R-SA-100002-H-400" in done["answer"]
    assert [r["sku"] for r in _returns(srv)] == ["H-400"]
    again = client.post(f"/v1/threads/{thread}/confirmation", json={"approve": True}, headers=ada)
    assert again.status_code == 409 and len(_returns(srv)) == 1


def test_return_confirmation_declined_writes_nothing(srv, client) -> None:
    from server_app import RETURN_MSG

    ada = srv.headers(shopper="ada@example.com")
    thread = new_thread(client, headers=ada)
    say(client, thread, RETURN_MSG, headers=ada)
    response = client.post(
        f"/v1/threads/{thread}/confirmation", json={"approve": False}, headers=ada
    )
    assert "haven't started" in response.json()["answer"] and _returns(srv) == []


def test_confirmation_is_streamed_as_an_event(srv, client) -> None:
    from server_app import RETURN_MSG

    ada = srv.headers(shopper="ada@example.com")
    thread = new_thread(client, headers=ada)
    response = client.post(
        f"/v1/threads/{thread}/messages", json={"message": RETURN_MSG, "stream": True}, headers=ada
    )
    events = sse_events(response.text)
    kinds = [k for k, _ in events]
    assert kinds[-2:] == ["confirmation", "final"]
    confirmation = events[-2][1]
    assert confirmation["action"] == "start_return" and confirmation["order_number"] == "SA-100002"


def test_cancel_answered_by_a_plain_next_message(srv, client) -> None:
    ben = srv.headers(shopper="ben@example.com")
    thread = new_thread(client, headers=ben)
    proposal = say(client, thread, "cancel my order", headers=ben)
    assert proposal["confirmation"]["action"] == "cancel_order"
    done = say(client, thread, "yes", headers=ben)
    assert done["confirmation"] is None
    assert srv.db.order_of("C2", "SA-100003").status == "cancelled"
