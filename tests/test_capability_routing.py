"""Routing and acting follow what the model can actually do (its capability probe), never
the backend class: one ``openai:`` spec behind a capable server and behind one that refuses
tools and JSON mode, opened as the service opens it (``ShopAgent.open``), and the eval
runner's router and cassette."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import IN_WINDOW, tiny_store
from langgraph.checkpoint.memory import InMemorySaver
from openai_server import FakeOpenAI, serve_fake_openai
from shopagent.agent.models.capabilities import capabilities
from shopagent.agent.models.probe import cache_path_for
from shopagent.agent.service import ShopAgent
from shopagent.agent.understanding.model_router import LLMRouter
from shopagent.evals.cassette import Cassette, cassette_model
from shopagent.tools.catalog import InMemoryCatalog
from shopagent.tools.inventory import InMemoryInventory
from shopagent.tools.store.db import StoreDB

from shopagent.settings import Settings


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with serve_fake_openai() as fake:
        yield fake


async def open_agent(server: FakeOpenAI, home: Path, **settings: object) -> ShopAgent:
    db = StoreDB.in_memory(tiny_store())
    config = Settings(home=home, model="openai:test-model", openai_base_url=server.url, **settings)
    return await ShopAgent.open(
        config,
        db=db,
        inventory=InMemoryInventory(db),
        catalog=InMemoryCatalog(tiny_store().products),
        checkpointer=InMemorySaver(),
        clock=lambda: IN_WINDOW,
    )


async def test_a_capable_server_gets_the_model_router_and_tool_mode(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    agent = await open_agent(server, tmp_path, act_mode="tools")
    async with agent:
        ctx = agent.context
        assert isinstance(ctx.router, LLMRouter) and ctx.router.method == "function_calling"
        assert ctx.tool_calling_act and ctx.compose_attempts == 2
    assert len(server.probes) == 2  # one tool probe, one JSON probe; then cached
    cached = json.loads(cache_path_for(Settings(home=tmp_path)).read_text())
    assert cached[f"openai:test-model@{server.url}"]["tool_calling"] is True
    again = await open_agent(server, tmp_path, act_mode="tools")
    async with again:
        assert again.context.tool_calling_act
    assert len(server.probes) == 2


async def test_a_server_without_tools_or_json_gets_the_trained_router_and_fixed_tools(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    server.answer_probes = False
    server.fail(400)  # "tools" rejected
    server.reply({"content": "Sure!"})  # JSON mode ignored
    agent = await open_agent(server, tmp_path, act_mode="tools")
    async with agent:
        ctx = agent.context
        assert capabilities(ctx.model).tool_calling  # the class guess says yes ...
        assert not isinstance(ctx.router, LLMRouter)  # ... the probe says no
        assert not ctx.tool_calling_act and ctx.compose_attempts == 1 and ctx.history_turns == 0
        result = await agent.ask("hi there")
        assert result.llm_calls <= 1  # routing never asked the model
    assert len(server.requests) == 2 + result.llm_calls


async def test_json_mode_only_routes_with_json(server: FakeOpenAI, tmp_path: Path) -> None:
    server.answer_probes = False
    server.reply({"content": "I would call it with 7."})  # no tool call
    server.reply({"content": '{"ok": true}'})
    agent = await open_agent(server, tmp_path, act_mode="tools")
    async with agent:
        ctx = agent.context
        assert isinstance(ctx.router, LLMRouter) and ctx.router.method == "json_mode"
        assert not ctx.tool_calling_act


def test_a_cassette_reports_the_probed_capabilities(tmp_path: Path) -> None:
    plain = cassette_model(
        Cassette(tmp_path, "replay"), spec="openai:x", tool_calling=False, json_output=True
    )
    caps = capabilities(plain)
    assert (caps.tool_calling, caps.json_output, caps.name) == (False, True, "openai:x")
    tools = cassette_model(Cassette(tmp_path, "replay"), spec="openai:x", tool_calling=True)
    assert capabilities(tools).tool_calling and not capabilities(tools).json_output
