"""The same graph on a hosted-style backend: `openai:` through the real openai client against
a real OpenAI-compatible server on loopback (LLM routing with tool calls, 429, verification
retry), with every other part real or in-memory."""

from __future__ import annotations

import pytest
from factories import IN_WINDOW, tiny_store
from langgraph.checkpoint.memory import InMemorySaver
from openai_server import serve_fake_openai
from shopagent.agent.service import ShopAgent
from shopagent.tools.catalog import InMemoryCatalog
from shopagent.tools.inventory import InMemoryInventory
from shopagent.tools.store.db import StoreDB

from shopagent.settings import Settings


@pytest.fixture
def server():
    with serve_fake_openai() as fake:
        yield fake


async def test_multi_turn_dialog_on_openai_backend(server, tmp_path) -> None:
    db = StoreDB.in_memory(tiny_store())
    settings = Settings(
        home=tmp_path, model="openai:test-model", openai_base_url=server.url, turn_budget_s=30
    )
    agent = await ShopAgent.open(
        settings,
        db=db,
        inventory=InMemoryInventory(db),
        catalog=InMemoryCatalog(tiny_store().products),
        checkpointer=InMemorySaver(),
        clock=lambda: IN_WINDOW,
    )
    async with agent:
        assert agent.model_name == "openai:test-model"
        # turn 1: the model routes (tool call), then phrases the answer
        server.tool_call(
            "RouteDecision",
            {
                "intents": ["price_stock"],
                "confidence": 0.95,
                "product_query": "hearth classic kettle",
            },
        )
        server.reply({"content": "The Hearth Classic Kettle costs $29.49; we have 3 in stock."})
        first = await agent.ask("how much is the hearth classic kettle?", thread_id="t")
        assert first.answer_source == "model" and first.llm_calls == 2
        assert [c["name"] for c in first.tool_calls] == ["search_products", "check_price_stock"]

        # turn 2: multi-intent with "it"; a 429 on routing is retried by the client; the
        # first answer invents a price, is rejected, and the retry is faithful
        server.fail(429, retry_after_ms=5)
        server.tool_call(
            "RouteDecision", {"intents": ["price_stock", "return_policy"], "confidence": 0.9}
        )
        server.reply({"content": "The Hearth Classic Kettle is on sale for $9.99!"})
        server.reply(
            {
                "content": "The Hearth Classic Kettle has 3 in stock, and you can "
                "return it unused within 30 days."
            }
        )
        second = await agent.ask(
            "is it in stock and can I return it if I don't like it?", thread_id="t"
        )
        names = [c["name"] for c in second.tool_calls]
        assert names == ["check_price_stock", "lookup_return_policy"]
        assert second.tool_calls[0]["args"] == {"skus": ["K-200"]}
        assert second.answer_source == "model" and "9.99" not in second.answer
        assert second.llm_calls == 3  # route + rejected answer + accepted answer
        assert not server.script  # every scripted reply was used

    routed = server.requests[0]["body"]
    assert routed["model"] == "test-model" and routed.get("tools")
