"""Record/replay of model calls keyed by the full request."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from pydantic import BaseModel
from shopagent.agent.models.capabilities import capabilities
from shopagent.agent.models.scripted import ScriptedChatModel
from shopagent.evals.cassette import (
    Cassette,
    CassetteChatModel,
    CassetteMiss,
    cassette_model,
    request_key,
)

PROMPT = [SystemMessage("You are a shop assistant."), HumanMessage("How much is the kettle?")]


class Lookup(BaseModel):
    """Look up a product."""

    query: str


async def test_record_then_replay_without_inner_model(tmp_path: Path, scripted_model) -> None:
    inner = scripted_model(["The kettle is $29.49."])
    recorder = cassette_model(
        Cassette(tmp_path, "record"),
        spec="local",
        tool_calling=False,
        params={"temperature": 0},
        inner=inner,
    )
    first = await recorder.ainvoke(PROMPT)
    again = await recorder.ainvoke(PROMPT)  # a hit: the scripted model is not called twice
    assert first.content == again.content == "The kettle is $29.49."
    assert recorder.stats == {"hits": 1, "recorded": 1} and len(recorder.cassette) == 1

    player = cassette_model(
        Cassette(tmp_path, "replay"), spec="local", tool_calling=False, params={"temperature": 0}
    )
    reply = await player.ainvoke(PROMPT)
    assert reply.content == "The kettle is $29.49."
    assert reply.usage_metadata and reply.usage_metadata["total_tokens"] > 0
    assert reply.response_metadata["cassette"] is True


async def test_replay_miss_is_loud_and_remembered(tmp_path: Path) -> None:
    player = CassetteChatModel(Cassette(tmp_path, "replay"), spec="local")
    with pytest.raises(CassetteMiss, match="has no reply for request"):
        await player.ainvoke(PROMPT)
    assert len(player.take_misses()) == 1 and player.misses == []
    with pytest.raises(CassetteMiss, match="does not exist"):
        Cassette(tmp_path / "missing", "replay")
    with pytest.raises(ValueError, match="needs an inner model"):
        CassetteChatModel(Cassette(tmp_path, "record"), spec="local")


def test_key_covers_model_messages_tools_and_params(tmp_path: Path) -> None:
    model = CassetteChatModel(Cassette(tmp_path, "replay"), spec="local", params={"t": 0})
    base = model.request(PROMPT, None, {})
    assert request_key(base) == request_key(model.request(list(PROMPT), None, {}))
    variants = [
        model.request(PROMPT[:1], None, {}),
        model.request(PROMPT, ["\n"], {}),
        model.request(PROMPT, None, {"max_tokens": 5}),
        model.request(PROMPT, None, {"tools": [{"type": "function", "function": {"name": "x"}}]}),
        CassetteChatModel(Cassette(tmp_path, "replay"), spec="openai:x").request(PROMPT, None, {}),
    ]
    keys = {request_key(v) for v in variants}
    assert len(keys) == len(variants) and request_key(base) not in keys


async def test_tool_calls_round_trip_and_random_ids_do_not_matter(tmp_path: Path) -> None:
    call = ScriptedChatModel.tool_call("Lookup", {"query": "kettle"})
    inner = ScriptedChatModel([call])
    recorder = cassette_model(
        Cassette(tmp_path, "record"), spec="openai:x", tool_calling=True, inner=inner
    )
    bound = recorder.bind_tools([Lookup])
    reply = await bound.ainvoke(PROMPT)
    assert reply.tool_calls[0]["args"] == {"query": "kettle"}
    assert inner.bound_tools and inner.bound_tools[0][0]["function"]["name"] == "Lookup"

    player = cassette_model(Cassette(tmp_path, "replay"), spec="openai:x", tool_calling=True)
    history = [*PROMPT, AIMessage("", tool_calls=[{**call.tool_calls[0], "id": "other-id"}])]
    replayed = await player.bind_tools([Lookup]).ainvoke(PROMPT)
    assert replayed.tool_calls[0]["name"] == "Lookup"
    with pytest.raises(CassetteMiss):  # a different conversation is a different request
        await player.bind_tools([Lookup]).ainvoke(history)


def test_wrapper_reports_the_inner_models_tool_calling(tmp_path: Path) -> None:
    """The agent picks router, history and retries from capabilities: a wrapped tiny model
    must not look like a tool-calling one."""
    plain = cassette_model(Cassette(tmp_path, "replay"), spec="local", tool_calling=False)
    capable = cassette_model(Cassette(tmp_path, "replay"), spec="openai:x", tool_calling=True)
    assert capabilities(plain).tool_calling is False
    assert capabilities(capable).tool_calling is True
    assert capabilities(plain).name == "local"
    with pytest.raises(NotImplementedError):
        plain.bind_tools([Lookup])
