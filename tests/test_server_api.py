"""The HTTP service on a real uvicorn server (loopback): health, docs, widget, auth and the
keys CLI, threads and ownership, shopper identity, SSE, confirmation. Limits, CORS, errors,
metrics and logs: tests/test_server_api_limits.py; units: tests/test_server_api_units.py."""

from __future__ import annotations

import sqlite3

import httpx
import pytest
import server_api_common
from server_api_common import new_thread, say
from server_app import TestServer, shopper_token, sse_events
from shopagent.agent.server.keys import KeyStore, hash_key
from typer.testing import CliRunner

# shared fixtures
client = server_api_common.client
srv = server_api_common.srv


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
