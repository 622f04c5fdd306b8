"""The chat-model factory's OpenAI path against a real local server (uvicorn on loopback):
replies with usage, tool calls, retries, a missing usage block, async calls."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from llm_common import _settings
from shopagent.agent.models import openai_chat
from shopagent.agent.models.providers import build_chat_model

# --------------------------------------------------------------------------- openai: real server


class FakeOpenAI:
    """A tiny OpenAI-compatible server (POST /v1/chat/completions) run by uvicorn."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, Any]]] = []
        self.requests: list[dict[str, Any]] = []
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self._complete)
        self.url = ""

    async def _complete(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.requests.append({"body": body, "auth": request.headers.get("authorization")})
        if not self.script:
            return JSONResponse({"error": {"message": "script exhausted"}}, status_code=400)
        status, payload = self.script.pop(0)
        return JSONResponse(payload, status_code=status)

    def reply(self, message: dict[str, Any], usage: dict[str, int] | None = None) -> None:
        finish = "tool_calls" if message.get("tool_calls") else "stop"
        payload: dict[str, Any] = {
            "id": f"chatcmpl-{len(self.script)}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "test-model",
            "choices": [
                {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}
            ],
        }
        if usage is not None:
            payload["usage"] = {**usage, "total_tokens": sum(usage.values())}
        self.script.append((200, payload))

    def fail(self, status: int) -> None:
        self.script.append((status, {"error": {"message": "boom", "type": "server_error"}}))


@pytest.fixture(scope="module")
def openai_server() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(fake.app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "fake OpenAI server did not start"
        time.sleep(0.02)
    fake.url = f"http://127.0.0.1:{port}/v1"
    yield fake
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def openai_model(openai_server: FakeOpenAI, tmp_path: Path) -> Iterator[BaseChatModel]:
    openai_server.script.clear()
    openai_server.requests.clear()
    yield build_chat_model(
        "openai:test-model", _settings(tmp_path, openai_base_url=openai_server.url)
    )
    assert not openai_server.script, "scripted server responses left unused"


@tool
def check_stock(sku: str) -> str:
    """Stock level of a product."""
    return f"{sku}: 3 left"


def test_openai_text_reply_with_usage(
    openai_server: FakeOpenAI, openai_model: BaseChatModel
) -> None:
    openai_server.reply(
        {"content": "Hello from the server."}, {"prompt_tokens": 12, "completion_tokens": 5}
    )
    reply = openai_model.invoke([SystemMessage("be nice"), HumanMessage("hi")])
    assert isinstance(reply, AIMessage)
    assert reply.content == "Hello from the server."
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["input_tokens"] == 12
    assert reply.usage_metadata["output_tokens"] == 5
    assert reply.usage_metadata["total_tokens"] == 17
    sent = openai_server.requests[0]
    assert sent["body"]["model"] == "test-model"
    assert sent["body"]["messages"] == [
        {"role": "system", "content": "be nice"},
        {"role": "user", "content": "hi"},
    ]
    assert sent["body"]["temperature"] == 0.0
    assert sent["auth"] == f"Bearer {openai_chat._PLACEHOLDER_API_KEY}"


def test_openai_tool_calls(openai_server: FakeOpenAI, openai_model: BaseChatModel) -> None:
    openai_server.reply(
        {
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "check_stock", "arguments": '{"sku": "TENT-2P"}'},
                }
            ],
        },
        {"prompt_tokens": 40, "completion_tokens": 9},
    )
    openai_server.reply({"content": "3 left."}, {"prompt_tokens": 60, "completion_tokens": 3})
    bound = openai_model.bind_tools([check_stock])

    first = bound.invoke("is TENT-2P in stock?")
    assert first.tool_calls == [
        {"name": "check_stock", "args": {"sku": "TENT-2P"}, "id": "call_1", "type": "tool_call"}
    ]
    assert first.usage_metadata["total_tokens"] == 49
    tools_sent = openai_server.requests[0]["body"]["tools"]
    assert tools_sent[0]["function"]["name"] == "check_stock"

    second = bound.invoke(
        [
            HumanMessage("is TENT-2P in stock?"),
            first,
            ToolMessage("TENT-2P: 3 left", tool_call_id="call_1"),
        ]
    )
    assert second.content == "3 left."
    assert openai_server.requests[1]["body"]["messages"][-1] == {
        "role": "tool",
        "content": "TENT-2P: 3 left",
        "tool_call_id": "call_1",
    }


def test_openai_retries_a_server_error(
    openai_server: FakeOpenAI, openai_model: BaseChatModel
) -> None:
    openai_server.fail(500)
    openai_server.reply(
        {"content": "second time lucky"}, {"prompt_tokens": 3, "completion_tokens": 3}
    )
    reply = openai_model.invoke("hi")
    assert reply.content == "second time lucky"
    assert len(openai_server.requests) == 2  # one retry, by the openai client


def test_openai_gives_up_after_max_retries(
    openai_server: FakeOpenAI, openai_model: BaseChatModel
) -> None:
    import openai

    for _ in range(openai_chat.OPENAI_MAX_RETRIES + 1):
        openai_server.fail(503)
    with pytest.raises(openai.InternalServerError):
        openai_model.invoke("hi")
    assert len(openai_server.requests) == openai_chat.OPENAI_MAX_RETRIES + 1


def test_openai_missing_usage_is_estimated(
    openai_server: FakeOpenAI, openai_model: BaseChatModel
) -> None:
    openai_server.reply({"content": "twelve chars"})  # an OpenAI-compatible server without usage
    reply = openai_model.invoke("sixteen chars!!!")
    assert reply.usage_metadata == {"input_tokens": 8, "output_tokens": 3, "total_tokens": 11}
    assert reply.response_metadata["usage_estimated"] is True


async def test_openai_async(openai_server: FakeOpenAI, openai_model: BaseChatModel) -> None:
    openai_server.reply({"content": "async hi"}, {"prompt_tokens": 2, "completion_tokens": 2})
    reply = await openai_model.ainvoke("hi")
    assert reply.content == "async hi" and reply.usage_metadata["total_tokens"] == 4
