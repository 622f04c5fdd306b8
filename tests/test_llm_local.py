"""The bundled SmolLM2 through the chat-model factory (marked real_model): answers with usage,
determinism and stop, agent message shapes, streaming, tools refused, caching, hf: dirs."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from shopagent.agent.models.capabilities import ModelCapabilities, capabilities
from shopagent.agent.models.gguf import (
    LOCAL_MODEL_NAME,
    MARKER_NAME,
    ensure_local_model,
    local_model_status,
)
from shopagent.agent.models.providers import build_chat_model
from test_llm_openai import check_stock

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
