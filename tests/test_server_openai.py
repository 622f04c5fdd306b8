"""The OpenAI-compatible endpoint, driven by the real ``openai`` client over loopback."""

from __future__ import annotations

import httpx
import openai
import pytest
from server_app import TestServer, shopper_token, sse_events


@pytest.fixture
def srv(tmp_path):
    server = TestServer(tmp_path)
    yield server
    server.close()


def client_for(srv, key: str | None = None, **headers: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{srv.url}/v1", api_key=key or srv.key, default_headers=headers, max_retries=0
    )


def test_non_streaming_completion_with_user_as_thread(srv) -> None:
    client = client_for(srv)
    first = client.chat.completions.create(
        model="shopagent",
        messages=[{"role": "user", "content": "how much is the hearth classic kettle?"}],
        user="shopper-1",
    )
    assert first.object == "chat.completion" and first.model == "shopagent"
    assert first.choices[0].message.role == "assistant"
    assert "$29.49" in first.choices[0].message.content
    assert first.choices[0].finish_reason == "stop"
    assert first.usage.total_tokens > 0
    extras = first.model_extra["shopagent"]
    assert extras["intent"] == "price_stock" and extras["products"][0]["sku"] == "K-200"
    # the same `user` continues the same thread: "it" is the kettle
    second = client.chat.completions.create(
        model="shopagent",
        messages=[
            {"role": "user", "content": "how much is the hearth classic kettle?"},
            {"role": "assistant", "content": first.choices[0].message.content},
            {"role": "user", "content": "is it in stock?"},
        ],
        user="shopper-1",
    )
    assert second.model_extra["shopagent"]["thread_id"] == extras["thread_id"]
    assert "Hearth Classic Kettle" in second.choices[0].message.content
    history = httpx.get(
        f"{srv.url}/v1/threads/{extras['thread_id']}/messages", headers=srv.headers()
    ).json()["messages"]
    assert [m["content"] for m in history if m["role"] == "user"] == [
        "how much is the hearth classic kettle?",
        "is it in stock?",
    ]


def test_streaming_completion(srv) -> None:
    client = client_for(srv)
    stream = client.chat.completions.create(
        model="shopagent",
        messages=[{"role": "user", "content": "how much is the hearth classic kettle?"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "The Hearth Classic Kettle is $29.49 with 3 in stock."
    content_chunks = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(content_chunks) > 1  # streamed in pieces
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop" and finishes.count("stop") == 1
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0
    assert len({c.id for c in chunks}) == 1


def test_streaming_wire_format_ends_with_done(srv) -> None:
    response = httpx.post(
        f"{srv.url}/v1/chat/completions",
        headers=srv.headers(),
        json={
            "model": "shopagent",
            "stream": True,
            "messages": [{"role": "user", "content": "hi"}],
        },
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    assert events[-1][1] == "[DONE]"
    assert all(d["object"] == "chat.completion.chunk" for _, d in events[:-1])
    assert response.headers["x-thread-id"]


def test_thread_header_and_shopper_token(srv) -> None:
    headers = srv.headers(shopper="ada@example.com")
    thread = httpx.post(f"{srv.url}/v1/threads", headers=headers).json()["thread_id"]
    client = client_for(
        srv, **{"X-Thread-Id": thread, "X-Shopper-Token": shopper_token("ada@example.com")}
    )
    answer = client.chat.completions.create(
        model="shopagent", messages=[{"role": "user", "content": "where is my order?"}]
    )
    assert answer.model_extra["shopagent"]["thread_id"] == thread
    assert answer.model_extra["shopagent"]["intent"] == "order_status"
    assert "SA-10000" in answer.choices[0].message.content
    # without Ada's token the same thread is not found
    with pytest.raises(openai.NotFoundError):
        client_for(srv, **{"X-Thread-Id": thread}).chat.completions.create(
            model="shopagent", messages=[{"role": "user", "content": "where is my order?"}]
        )


def test_users_of_different_keys_do_not_share_threads(srv) -> None:
    _, other_key = srv.keys.create("other")
    ask = [{"role": "user", "content": "hello"}]
    a = client_for(srv).chat.completions.create(model="shopagent", messages=ask, user="u1")
    b = client_for(srv, other_key).chat.completions.create(
        model="shopagent", messages=ask, user="u1"
    )
    assert a.model_extra["shopagent"]["thread_id"] != b.model_extra["shopagent"]["thread_id"]


def test_openai_errors(srv) -> None:
    with pytest.raises(openai.AuthenticationError) as bad_key:
        client_for(srv, "sa_bad_key").chat.completions.create(
            model="shopagent", messages=[{"role": "user", "content": "hi"}]
        )
    assert bad_key.value.body["code"] == "invalid_api_key"
    with pytest.raises(openai.BadRequestError):
        client_for(srv).chat.completions.create(
            model="shopagent", messages=[{"role": "system", "content": "be nice"}]
        )
    with pytest.raises(openai.UnprocessableEntityError):
        client_for(srv).chat.completions.create(model="shopagent", messages=[])


def test_models_list(srv) -> None:
    models = client_for(srv).models.list()
    assert [m.id for m in models.data] == ["shopagent"]
