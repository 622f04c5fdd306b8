"""The HTTP service on a real uvicorn server (loopback): threads API, SSE, auth, shopper
identity, ownership, limits, CORS, errors, metrics, logs, docs, widget, keys CLI."""

from __future__ import annotations

import io
import json
import logging
import sqlite3

import httpx
import pytest
from server_app import SECRET, TestServer, shopper_token, sse_events
from shopagent.agent.server.keys import KeyStore, hash_key
from shopagent.agent.server.logs import ContextFilter, JsonFormatter
from typer.testing import CliRunner


@pytest.fixture
def srv(tmp_path):
    server = TestServer(tmp_path)
    yield server
    server.close()


@pytest.fixture
def client(srv):
    with httpx.Client(base_url=srv.url, headers=srv.headers(), timeout=10) as c:
        yield c


def new_thread(client: httpx.Client, **kwargs) -> str:
    response = client.post("/v1/threads", **kwargs)
    assert response.status_code == 201, response.text
    return response.json()["thread_id"]


def say(client: httpx.Client, thread: str, message: str, **kwargs) -> dict:
    response = client.post(f"/v1/threads/{thread}/messages", json={"message": message}, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


# -- health, docs, widget ------------------------------------------------------------------
def test_health_and_readiness_need_no_key(srv) -> None:
    assert httpx.get(f"{srv.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{srv.url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {
        "agent": "ok",
        "checkpoints": "ok",
        "store": "ok",
        "keys": "ok",
    }


def test_openapi_docs_list_every_route(srv) -> None:
    spec = httpx.get(f"{srv.url}/openapi.json").json()
    for path in (
        "/v1/threads",
        "/v1/threads/{thread_id}",
        "/v1/threads/{thread_id}/messages",
        "/v1/threads/{thread_id}/confirmation",
        "/v1/chat/completions",
        "/v1/models",
        "/healthz",
        "/readyz",
        "/metrics",
    ):
        assert path in spec["paths"], path
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    docs = httpx.get(f"{srv.url}/docs")
    assert docs.status_code == 200
    # the Swagger UI comes from the service itself (no CDN: it must work offline)
    assert "cdn." not in docs.text and "/docs-assets/swagger-ui-bundle.js" in docs.text
    bundle = httpx.get(f"{srv.url}/docs-assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and "SwaggerUIBundle" in bundle.text


def test_widget_is_served(srv) -> None:
    page = httpx.get(f"{srv.url}/widget/")
    assert page.status_code == 200 and "widget.js" in page.text
    assert httpx.get(f"{srv.url}/widget/widget.js").status_code == 200
    assert httpx.get(f"{srv.url}/", follow_redirects=False).headers["location"] == "/widget/"


# -- authentication ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/threads"),
        ("GET", "/v1/threads/th_x"),
        ("GET", "/v1/threads/th_x/messages"),
        ("POST", "/v1/threads/th_x/messages"),
        ("GET", "/v1/threads/th_x/confirmation"),
        ("POST", "/v1/threads/th_x/confirmation"),
        ("POST", "/v1/chat/completions"),
        ("GET", "/v1/models"),
        ("GET", "/metrics"),
    ],
)
def test_every_api_route_needs_a_key(srv, method, path) -> None:
    for headers in ({}, {"Authorization": "Bearer sa_nope_nope"}, {"X-API-Key": "wrong"}):
        response = httpx.request(method, srv.url + path, headers=headers, json={})
        assert response.status_code == 401, (path, headers, response.text)
        error = response.json()["error"]
        assert error["code"] == "invalid_api_key" and error["request_id"]
        assert response.headers["www-authenticate"] == "Bearer"


def test_x_api_key_header_works_and_revocation_takes_effect(srv) -> None:
    record, key = srv.keys.create("second")
    assert httpx.post(f"{srv.url}/v1/threads", headers={"X-API-Key": key}).status_code == 201
    assert srv.keys.revoke(record.id)
    assert httpx.post(f"{srv.url}/v1/threads", headers={"X-API-Key": key}).status_code == 401


def test_keys_are_stored_hashed_and_managed_by_the_cli(tmp_path, monkeypatch) -> None:
    from shopagent.agent.server.cli import keys_app

    db = tmp_path / "keys.sqlite"
    monkeypatch.setenv("SHOPAGENT_KEYS_URL", str(db))
    runner = CliRunner()
    created = runner.invoke(keys_app, ["create", "acme", "--rate-limit", "30"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[0]
    assert secret.startswith("sa_")
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("keys.sqlite*"))
    assert secret.encode() not in raw
    stored = sqlite3.connect(db).execute("SELECT hash, rate_limit_per_minute FROM api_keys")
    assert stored.fetchall() == [(hash_key(secret), 30.0)]
    key_id = secret.split("_")[1]
    listed = runner.invoke(keys_app, ["list"])
    assert key_id in listed.stdout and "active" in listed.stdout and secret not in listed.stdout
    assert runner.invoke(keys_app, ["revoke", key_id]).exit_code == 0
    assert KeyStore(str(db), cache_s=0).verify(secret) is None
    assert runner.invoke(keys_app, ["revoke", key_id]).exit_code == 1
    # names are printed back to operators: no terminal escape codes, no novels
    for name in ("evil\x1b[2J", "line\nbreak", "x" * 101):
        refused = runner.invoke(keys_app, ["create", name])
        assert refused.exit_code == 2 and "printable" in refused.output, refused.output
    assert len(KeyStore(str(db), cache_s=0).list()) == 1


# -- threads -------------------------------------------------------------------------------
def test_thread_conversation_and_history(client) -> None:
    thread = new_thread(client)
    first = say(client, thread, "how much is the hearth classic kettle?")
    assert first["intent"] == "price_stock" and "$29.49" in first["answer"]
    assert [c["name"] for c in first["tool_calls"]] == ["search_products", "check_price_stock"]
    assert first["products"][0]["name"] == "Hearth Classic Kettle"
    assert first["products"][0]["stock"] == 3
    follow_up = say(client, thread, "is it in stock?")
    assert follow_up["tool_calls"][0]["args"] == {"skus": ["K-200"]}
    history = client.get(f"/v1/threads/{thread}/messages").json()["messages"]
    assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant"]
    assert history[2]["content"] == "is it in stock?"
    info = client.get(f"/v1/threads/{thread}").json()
    assert info["thread_id"] == thread and info["pending_confirmation"] is None


def test_client_chosen_thread_id(client) -> None:
    assert new_thread(client, json={"thread_id": "shop-42.chat"}) == "shop-42.chat"
    assert client.post("/v1/threads", json={"thread_id": "shop-42.chat"}).status_code == 409
    bad = client.post("/v1/threads", json={"thread_id": "no spaces/allowed"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_thread_id"


def test_another_key_cannot_see_or_continue_a_thread(srv, client) -> None:
    thread = new_thread(client)
    say(client, thread, "hello")
    _, other = srv.keys.create("other-shop")
    for method, path, body in (
        ("GET", f"/v1/threads/{thread}", None),
        ("GET", f"/v1/threads/{thread}/messages", None),
        ("POST", f"/v1/threads/{thread}/messages", {"message": "hi"}),
        ("POST", f"/v1/threads/{thread}/confirmation", {"approve": True}),
        ("GET", "/v1/threads/th_does_not_exist", None),
    ):
        response = httpx.request(method, srv.url + path, json=body, headers=srv.headers(other))
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["code"] == "thread_not_found"


def test_empty_or_oversized_message_is_refused(client) -> None:
    thread = new_thread(client)
    for body in ({"message": ""}, {"message": "x" * 4001}, {"text": "hi"}, {}):
        response = client.post(f"/v1/threads/{thread}/messages", json=body)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "invalid_body"
    blank = client.post(f"/v1/threads/{thread}/messages", json={"message": "   "})
    assert blank.status_code == 400 and "empty" in blank.json()["error"]["message"]


# -- shopper identity ----------------------------------------------------------------------
def test_signed_shopper_is_the_customer_tools_see(srv, client) -> None:
    ada = srv.headers(shopper="ada@example.com")
    thread = new_thread(client, headers=ada)
    answer = say(client, thread, "where is my order?", headers=ada)
    assert answer["intent"] == "order_status"
    assert [c["name"] for c in answer["tool_calls"]] == ["get_order_status"]
    assert "SA-100001" in answer["answer"] or "SA-100002" in answer["answer"]
    # the thread belongs to Ada now: not to the same key without her token, nor to Ben
    for headers in (srv.headers(), srv.headers(shopper="ben@example.com")):
        response = client.get(f"/v1/threads/{thread}/messages", headers=headers)
        assert response.status_code == 404


def test_anonymous_thread_without_token_reveals_no_orders(client) -> None:
    thread = new_thread(client)
    answer = say(client, thread, "where is my order?")
    assert answer["tool_calls"] == [] and answer["answer_source"] == "clarify"


@pytest.mark.parametrize(
    ("token", "code"),
    [
        (lambda: shopper_token("ada@example.com", secret="wrong-secret-wrong-secret-123456"), 401),
        (lambda: shopper_token("ada@example.com", ttl_s=-120), 401),
        (lambda: shopper_token("ada@example.com", audience="someone-else"), 401),
        (lambda: "not-a-jwt", 401),
        (lambda: shopper_token("nobody@example.com"), 403),
    ],
)
def test_untrusted_shopper_tokens_are_refused(srv, client, token, code) -> None:
    headers = {**srv.headers(), "X-Shopper-Token": token()}
    response = client.post("/v1/threads", headers=headers)
    assert response.status_code == code, response.text
    assert response.json()["error"]["code"] in {"invalid_shopper_token", "unknown_customer"}


def test_customer_named_in_the_body_is_not_trusted(client) -> None:
    thread = new_thread(client)
    response = client.post(
        f"/v1/threads/{thread}/messages",
        json={"message": "where is my order?", "customer_email": "ada@example.com"},
    )
    assert response.status_code == 422  # unknown fields are refused, not used


def test_shopper_tokens_are_refused_when_the_server_has_no_secret(tmp_path) -> None:
    srv = TestServer(tmp_path, shopper_token_secret=None)
    try:
        response = httpx.post(f"{srv.url}/v1/threads", headers=srv.headers(shopper="a@b.c"))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "shopper_tokens_disabled"
    finally:
        srv.close()


# -- streaming -----------------------------------------------------------------------------
def test_sse_stream_of_a_turn(client) -> None:
    thread = new_thread(client)
    with client.stream(
        "POST",
        f"/v1/threads/{thread}/messages",
        json={"message": "how much is the hearth classic kettle?", "stream": True},
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-thread-id"] == thread
        body = response.read().decode()
    events = sse_events(body)
    kinds = [k for k, _ in events]
    assert kinds[-1] == "final" and "token" in kinds
    assert kinds.index("tool_started") < kinds.index("tool_finished") < kinds.index("token")
    assert {d["node"] for k, d in events if k == "node"} >= {"understand", "act", "compose"}
    tools = [d["name"] for k, d in events if k == "tool_finished"]
    assert tools == ["search_products", "check_price_stock"]
    final = events[-1][1]
    streamed = "".join(d["text"] for k, d in events if k == "token")
    assert streamed == final["answer"] and "$29.49" in streamed
    assert final["products"][0]["sku"] == "K-200"


def test_accept_header_selects_streaming(client) -> None:
    thread = new_thread(client)
    response = client.post(
        f"/v1/threads/{thread}/messages",
        json={"message": "hello"},
        headers={"Accept": "text/event-stream"},
    )
    events = sse_events(response.text)
    assert events[-1][0] == "final" and "Test Goods" in events[-1][1]["answer"]


# -- confirmation --------------------------------------------------------------------------
def test_confirming_with_nothing_pending_is_a_conflict(client) -> None:
    thread = new_thread(client)
    say(client, thread, "hello")
    assert client.get(f"/v1/threads/{thread}/confirmation").json() is None
    for stream in (False, True):
        response = client.post(
            f"/v1/threads/{thread}/confirmation", json={"approve": True, "stream": stream}
        )
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "nothing_to_confirm"


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


# -- units ---------------------------------------------------------------------------------
def test_server_config_from_settings_and_environment(tmp_path, monkeypatch) -> None:
    from shopagent.agent.server.config import ServerConfig

    from shopagent.settings import Settings

    monkeypatch.setenv("SHOPAGENT_CORS_ORIGINS", '["https://shop.example"]')
    monkeypatch.setenv("SHOPAGENT_RATE_LIMIT_PER_MINUTE", "30")
    monkeypatch.setenv("SHOPAGENT_SHOPPER_TOKEN_SECRET", "s3cret-s3cret-s3cret-s3cret-s3cret")
    config = ServerConfig.from_settings(Settings(home=tmp_path), max_request_bytes=4096)
    assert config.cors_origins == ("https://shop.example",)
    assert config.rate_limit_per_minute == 30 and config.max_request_bytes == 4096
    assert config.keys_url == str(tmp_path / "keys.sqlite")
    assert "s3cret" not in repr(config)


def test_the_service_trusts_only_the_shopper_token_unless_told(monkeypatch) -> None:
    from shopagent.agent.server.entry import service_settings

    from shopagent.settings import Settings

    monkeypatch.delenv("SHOPAGENT_CHAT_VERIFICATION", raising=False)
    assert Settings().chat_verification  # the CLI and evals: email + order number verify
    assert not service_settings(Settings()).chat_verification
    monkeypatch.setenv("SHOPAGENT_CHAT_VERIFICATION", "true")
    assert service_settings(Settings()).chat_verification


def test_a_short_shopper_token_secret_is_refused(tmp_path) -> None:
    from shopagent.agent.server.config import ServerConfig

    with pytest.raises(ValueError, match="at least 32 bytes"):
        ServerConfig(keys_url=str(tmp_path / "k.sqlite"), shopper_token_secret="short-secret")


def test_invalid_settings_are_a_clear_cli_error(tmp_path, monkeypatch) -> None:
    from shopagent.agent.cli.main import app

    from shopagent.settings import get_settings

    monkeypatch.setenv("SHOPAGENT_HOME", str(tmp_path))
    monkeypatch.setenv("SHOPAGENT_SHOPPER_TOKEN_SECRET", "short")
    get_settings.cache_clear()
    try:
        served = CliRunner().invoke(app, ["serve", "--port", "1"])
        assert served.exit_code == 2 and "at least 32 bytes" in served.output, served.output
        assert "Traceback" not in served.output
        monkeypatch.setenv("SHOPAGENT_TURN_BUDGET_S", "soon")
        get_settings.cache_clear()
        searched = CliRunner().invoke(app, ["search", "kettle"])
        assert searched.exit_code == 2 and "turn_budget_s" in searched.output, searched.output
    finally:
        get_settings.cache_clear()  # nothing of this test's environment stays cached


def test_token_bucket_arithmetic() -> None:
    from shopagent.agent.server.ratelimit import take

    assert take(2.0, 0.0, 0.0, 1.0, 2) == (1.0, 0.0)
    assert take(0.0, 0.0, 0.5, 1.0, 2) == (0.5, 0.5)  # half a token: wait half a second
    assert take(0.0, 0.0, 100.0, 1.0, 2) == (1.0, 0.0)  # refill stops at the burst
    assert take(1.0, 5.0, 4.0, 1.0, 2) == (0.0, 0.0)  # a clock going back adds nothing


def test_rate_limiter_refills() -> None:
    from shopagent.agent.server.ratelimit import RateLimiter

    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    assert [limiter.allow("k", 60, 2) for _ in range(2)] == [0.0, 0.0]
    assert limiter.allow("k", 60, 2) == pytest.approx(1.0)
    now[0] += 1.0
    assert limiter.allow("k", 60, 2) == 0.0
    assert limiter.allow("other", 60, 2) == 0.0 and limiter.allow("k", 0, 1) == 0.0


def test_answer_pieces_rejoin_exactly() -> None:
    from shopagent.agent.server.turns import answer_pieces

    for text in ("", "one", "The kettle is $29.49.\nThree  in stock. ", " lead"):
        assert "".join(answer_pieces(text)) == text
    assert len(answer_pieces("a b c d e f g")) == 3


# -- concurrency and disconnects -----------------------------------------------------------
def test_turns_of_one_thread_run_one_at_a_time(srv, client) -> None:
    import concurrent.futures

    thread = new_thread(client)
    messages = ["tell me about the pulse headphones", "hello", "show me kettles", "hello"]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda m: say(client, thread, m), messages))
    assert all(a["answer"] for a in answers)
    history = client.get(f"/v1/threads/{thread}/messages").json()["messages"]
    assert len(history) == 8
    assert [m["role"] for m in history] == ["user", "assistant"] * 4


def test_a_client_leaving_mid_stream_does_not_block_the_thread(srv, client) -> None:
    thread = new_thread(client)
    with client.stream(
        "POST",
        f"/v1/threads/{thread}/messages",
        json={"message": "how much is the hearth classic kettle?", "stream": True},
    ) as response:
        next(response.iter_raw())  # the first bytes, then hang up
    answer = say(client, thread, "hello")
    assert "Test Goods" in answer["answer"]


def test_serve_refuses_workers_without_shared_checkpoints(monkeypatch) -> None:
    import typer
    from shopagent.agent.server.cli import register

    monkeypatch.delenv("SHOPAGENT_CHECKPOINT_URL", raising=False)
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 2 and "SHOPAGENT_CHECKPOINT_URL" in result.output
