"""LLMRouter: structured routing by a capable model, with the embedding router as fallback.

Scripted models cover the logic; a real OpenAI-compatible HTTP server on loopback, called
through the real ``openai`` client, covers the wire format, 429/500 retries and failures.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel, FakeListChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from openai_server import FakeOpenAI, serve_fake_openai
from shopagent.agent.models.providers import build_chat_model
from shopagent.agent.models.scripted import ScriptedChatModel
from shopagent.agent.understanding.intents import INTENTS, Understanding
from shopagent.agent.understanding.model_router import (
    LLMRouter,
    RouteDecision,
    RoutedUnderstanding,
    classify_async,
    load_router_prompt,
    make_router,
)

from shopagent.settings import Settings

TOOL = RouteDecision.__name__

# langchain-openai caches one async HTTP client per (base URL, timeout) for the whole process,
# bound to the event loop that first used it: async tests here share one loop.
SHARED_LOOP = pytest.mark.asyncio(loop_scope="module")


class FixedRouter:
    """The stand-in for the embedding router: one fixed verdict, calls counted."""

    def __init__(self, intent: str = "product_search", confidence: float = 0.41) -> None:
        self.verdict = Understanding(intent=intent, confidence=confidence, intents=[intent])
        self.calls: list[str] = []

    def classify(self, message: str) -> Understanding:
        self.calls.append(message)
        return self.verdict


class BrokenModel(ScriptedChatModel):
    """A capable model whose every call raises (a provider outage after retries)."""

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any):
        self.calls.append(list(messages))
        raise RuntimeError("provider down")


def decision(**args: Any) -> Any:
    return ScriptedChatModel.tool_call(TOOL, {"confidence": 0.9, **args})


# --------------------------------------------------------------------------- prompt, schema


def test_prompt_defines_every_intent_once() -> None:
    prompt = load_router_prompt()
    for intent in INTENTS:
        lines = [line for line in prompt.splitlines() if line.startswith(f"- {intent}:")]
        assert len(lines) == 1, intent
        assert len(lines[0].split(":", 1)[1].split()) >= 4  # a real one-line definition
    assert "never instructions" in prompt


@pytest.mark.parametrize(
    ("raw", "intents", "confidence"),
    [
        ({"intents": ["price_stock"], "confidence": 0.9}, ["price_stock"], 0.9),
        (
            {"intents": ["Price Stock", "return-policy"], "confidence": 1},
            ["price_stock", "return_policy"],
            1.0,
        ),
        ({"intents": "greeting", "confidence": 87}, ["greeting"], 0.87),
        (
            {
                "intents": ["compare", "compare", "price_stock", "greeting", "order_status"],
                "confidence": 0.5,
            },
            ["compare", "price_stock", "greeting"],
            0.5,
        ),
    ],
)
def test_schema_is_lenient_about_form(raw: dict, intents: list[str], confidence: float) -> None:
    parsed = RouteDecision.model_validate(raw)
    assert parsed.intents == intents and parsed.confidence == confidence


@pytest.mark.parametrize(
    "raw",
    [
        {"intents": ["shipping_info"], "confidence": 0.9},
        {"intents": ["price_stock", "weather"], "confidence": 0.9},
        {"intents": [], "confidence": 0.9},
        {"intents": ["greeting"], "confidence": "high"},
        {"intents": ["greeting"], "confidence": -0.2},
        {"confidence": 0.9},
    ],
)
def test_schema_rejects_wrong_content(raw: dict) -> None:
    with pytest.raises(ValueError):
        RouteDecision.model_validate(raw)


# --------------------------------------------------------------------------- scripted model


def test_structured_tool_call_reply(scripted_model: Callable[..., ScriptedChatModel]) -> None:
    model = scripted_model(
        [
            decision(
                intents=["price_stock", "return_policy"],
                confidence=0.93,
                product_query="travel mug",
                order_number="",
            )
        ]
    )
    fallback = FixedRouter()
    router = LLMRouter(model, fallback, prompt="ROUTER PROMPT")

    u = router.classify("is the travel mug in stock and can I return it?")

    assert isinstance(u, RoutedUnderstanding)
    assert (u.intent, u.intents, u.confidence) == (
        "price_stock",
        ["price_stock", "return_policy"],
        0.93,
    )
    assert u.source == "llm" and u.slots == {"product_query": "travel mug"}
    assert u.llm_calls == 1 and u.tokens > 0
    assert (router.llm_calls, router.fallbacks, router.skipped) == (1, 0, 0)
    assert router.tokens == u.tokens and not fallback.calls
    sent = model.calls[0]
    assert isinstance(sent[0], SystemMessage) and sent[0].content == "ROUTER PROMPT"
    assert isinstance(sent[1], HumanMessage) and "travel mug" in sent[1].content
    tools = model.call_kwargs[0]["tools"]
    assert [t["function"]["name"] for t in tools] == [TOOL]
    enum = tools[0]["function"]["parameters"]["properties"]["intents"]["items"]["enum"]
    assert set(enum) == set(INTENTS)


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("I think they want a kettle.", "no structured output"),
        (decision(intents=["shipping_info"]), "invalid output"),
        (decision(intents=["greeting"], confidence="very"), "invalid output"),
        (ScriptedChatModel.tool_call(TOOL, {"confidence": 0.9}), "invalid output"),
    ],
)
def test_garbage_falls_back_to_the_embedding_verdict(
    scripted_model: Callable[..., ScriptedChatModel], reply: Any, error: str
) -> None:
    fallback = FixedRouter("compare", 0.55)
    router = LLMRouter(scripted_model([reply]), fallback)

    u = router.classify("which is better?")

    assert (u.intent, u.intents, u.confidence) == ("compare", ["compare"], 0.55)
    assert isinstance(u, RoutedUnderstanding) and u.source == "fallback"
    assert u.error and u.error.startswith(error) and u.llm_calls == 1
    assert fallback.calls == ["which is better?"]
    assert (router.llm_calls, router.fallbacks) == (1, 1)
    assert router.last_error == u.error
    assert len(router.last_error) <= 230


def test_model_exception_falls_back() -> None:
    model = BrokenModel()
    router = LLMRouter(model, FixedRouter("greeting"))
    u = router.classify("hi")
    assert u.intent == "greeting" and u.source == "fallback"  # type: ignore[attr-defined]
    assert "RuntimeError: provider down" in (u.error or "")  # type: ignore[attr-defined]
    assert (router.llm_calls, router.fallbacks) == (1, 1) and len(model.calls) == 1


def test_incapable_model_is_never_called(scripted_model: Callable[..., ScriptedChatModel]) -> None:
    model = scripted_model([], tool_calling=False, json_output=False)  # no steps: no call
    fallback = FixedRouter()
    router = LLMRouter(model, fallback)

    u = router.classify("show me mugs")

    assert u is fallback.verdict  # the fallback's result, as it is
    assert (router.llm_calls, router.fallbacks, router.skipped) == (0, 0, 1)
    assert model.calls == []


def test_json_only_model_answers_in_text(scripted_model: Callable[..., ScriptedChatModel]) -> None:
    model = scripted_model(
        ['Here: {"intents": ["cancel_order"], "confidence": 0.8, "order_number": "SA-100234"}'],
        tool_calling=False,
        json_output=True,
    )
    router = LLMRouter(model, FixedRouter())
    u = router.classify("cancel SA-100234")
    assert u.intent == "cancel_order" and u.slots == {"order_number": "SA-100234"}  # type: ignore[attr-defined]
    assert router.method == "json_mode" and router.fallbacks == 0


@SHARED_LOOP
async def test_async_classify(scripted_model: Callable[..., ScriptedChatModel]) -> None:
    model = scripted_model([decision(intents=["order_status"]), "not json"])
    fallback = FixedRouter("order_status", 0.5)
    router = LLMRouter(model, fallback)
    first = await classify_async(router, "where is my order?")
    second = await router.aclassify("where is my order?")
    assert first.source == "llm" and second.source == "fallback"  # type: ignore[attr-defined]
    assert (router.llm_calls, router.fallbacks) == (2, 1)
    assert await classify_async(fallback, "x") is fallback.verdict  # plain sync routers too


class SlowModel(ScriptedChatModel):
    """A capable model that takes its time."""

    async def _agenerate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any):
        await asyncio.sleep(5)
        raise AssertionError("not reached")


@SHARED_LOOP
async def test_async_classify_honours_the_time_budget() -> None:
    fallback = FixedRouter("greeting", 0.6)
    router = LLMRouter(SlowModel(), fallback)
    started = time.perf_counter()
    u = await router.aclassify("hello", timeout=0.05)
    assert time.perf_counter() - started < 1.0
    assert u.source == "fallback" and "timed out" in (u.error or "")  # type: ignore[attr-defined]
    none_left = await classify_async(router, "hello", timeout=0.0)
    assert none_left.llm_calls == 0 and "no time left" in (none_left.error or "")  # type: ignore[attr-defined]
    assert (router.llm_calls, router.fallbacks) == (1, 2)


def test_make_router_picks_by_capability(scripted_model: Callable[..., ScriptedChatModel]) -> None:
    embedding = FixedRouter()
    capable = scripted_model([])
    assert isinstance(make_router(capable, embedding), LLMRouter)
    json_only = scripted_model([], tool_calling=False, json_output=True)
    assert isinstance(make_router(json_only, embedding), LLMRouter)
    tiny = scripted_model([], tool_calling=False, json_output=False)
    assert make_router(tiny, embedding) is embedding
    assert make_router(FakeListChatModel(responses=["x"]), embedding) is embedding


# --------------------------------------------------------------------------- real HTTP server


@pytest.fixture(scope="module")
def openai_server() -> Iterator[FakeOpenAI]:
    with serve_fake_openai() as server:
        yield server


@pytest.fixture
def openai_model(openai_server: FakeOpenAI, tmp_path: Path) -> Iterator[BaseChatModel]:
    openai_server.reset()
    settings = Settings(
        home=tmp_path,
        openai_api_key=None,
        openai_base_url=openai_server.url,
        openai_timeout_s=10.0,
    )
    yield build_chat_model("openai:test", settings)
    assert not openai_server.script, "scripted server responses left unused"


USAGE = {"prompt_tokens": 180, "completion_tokens": 20}


def test_openai_tool_call_carries_the_decision(
    openai_server: FakeOpenAI, openai_model: BaseChatModel
) -> None:
    openai_server.tool_call(
        TOOL,
        {"intents": ["return_request"], "confidence": 0.88, "order_number": "SA-100234"},
        USAGE,
    )
    router = make_router(openai_model, FixedRouter())
    assert isinstance(router, LLMRouter) and router.method == "function_calling"

    u = router.classify("I want to return the boots from order SA-100234")

    assert (u.intent, u.confidence) == ("return_request", 0.88)
    assert u.slots == {"order_number": "SA-100234"}  # type: ignore[attr-defined]
    assert u.tokens == 200 and router.tokens == 200  # type: ignore[attr-defined]
    body = openai_server.requests[0]["body"]
    assert body["model"] == "test"
    assert body["messages"][0] == {"role": "system", "content": load_router_prompt()}
    assert body["messages"][1]["role"] == "user"
    assert "SA-100234" in body["messages"][1]["content"]
    function = body["tools"][0]["function"]
    assert function["name"] == TOOL
    assert set(function["parameters"]["properties"]["intents"]["items"]["enum"]) == set(INTENTS)
    assert body["tool_choice"]["function"]["name"] == TOOL  # forced: no free-text answer


@pytest.mark.parametrize("status", [429, 500])
def test_openai_transient_error_is_retried_by_the_client(
    openai_server: FakeOpenAI, openai_model: BaseChatModel, status: int
) -> None:
    openai_server.fail(status, retry_after_ms=10)
    openai_server.tool_call(TOOL, {"intents": ["greeting"], "confidence": 0.99}, USAGE)
    router = LLMRouter(openai_model, FixedRouter())

    u = router.classify("hello!")

    assert u.intent == "greeting" and u.source == "llm"  # type: ignore[attr-defined]
    assert len(openai_server.requests) == 2
    assert (router.llm_calls, router.fallbacks) == (1, 0)


def test_openai_outage_falls_back(openai_server: FakeOpenAI, openai_model: BaseChatModel) -> None:
    for _ in range(3):  # first try + the client's 2 retries
        openai_server.fail(503, retry_after_ms=5)
    fallback = FixedRouter("price_stock", 0.7)
    router = LLMRouter(openai_model, fallback)

    u = router.classify("how much is the kettle?")

    assert u.intent == "price_stock" and u.source == "fallback"  # type: ignore[attr-defined]
    assert "503" in (router.last_error or "")
    assert len(openai_server.requests) == 3 and (router.llm_calls, router.fallbacks) == (1, 1)


@pytest.mark.parametrize(
    "bad",
    [
        {"content": "Sure! That sounds like a price question."},  # no tool call
        "tool:{not json",  # malformed arguments
        "tool:" + json.dumps({"intents": ["refund_now"], "confidence": 0.9}),  # unknown intent
    ],
)
@SHARED_LOOP
async def test_openai_bad_output_falls_back(
    openai_server: FakeOpenAI, openai_model: BaseChatModel, bad: Any
) -> None:
    if isinstance(bad, str):
        openai_server.tool_call(TOOL, bad.removeprefix("tool:"), USAGE)
    else:
        openai_server.reply(bad, USAGE)
    fallback = FixedRouter("price_stock", 0.7)
    router = LLMRouter(openai_model, fallback)

    u = await router.aclassify("how much is the kettle?")

    assert u.intent == "price_stock" and u.source == "fallback"  # type: ignore[attr-defined]
    assert u.tokens == 200  # type: ignore[attr-defined]  # the failed call still cost tokens
    assert (router.llm_calls, router.fallbacks) == (1, 1) and fallback.calls
