"""Intent routing by a capable chat model, with the embedding router as the safety net.

:class:`LLMRouter` asks the model for a structured verdict (:class:`RouteDecision`: 1-3
intents from :data:`shopagent.agent.understanding.intents.INTENTS`, a confidence, optional product
words and order
number) with ``model.with_structured_output`` - a tool call for models with tool calling,
JSON mode otherwise. A model that can do neither is never called: the fallback router
answers. When the model fails (an exception after the client's own retries, no tool call,
malformed JSON, an unknown intent) the fallback router's verdict is used and counted.

:func:`make_router` picks the LLM router for capable models and the embedding router for
local/tiny ones (the bundled SmolLM2 has neither tool calling nor JSON output).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from importlib import resources
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field, ValidationError, field_validator
from shopagent.agent.models.capabilities import ModelCapabilities, capabilities
from shopagent.agent.understanding.intents import INTENTS, Intent, IntentRouter, Understanding

log = logging.getLogger("shopagent.router")

MAX_INTENTS = 3


def load_router_prompt(version: str = "v1") -> str:
    """The router prompt ``prompts/router.<version>.md``."""
    return (
        resources.files("shopagent.prompts")
        .joinpath(f"router.{version}.md")
        .read_text(encoding="utf-8")
    )


class RouteDecision(BaseModel):
    """Route one customer message: its intents (most important first) and what it names."""

    intents: list[Intent] = Field(
        min_length=1,
        max_length=MAX_INTENTS,
        description="1 to 3 distinct intents, the most important first.",
    )
    confidence: float = Field(ge=0.0, le=1.0, description="How sure you are, 0 to 1.")
    product_query: str | None = Field(
        None, description="The product words of the message, if it names a product."
    )
    order_number: str | None = Field(
        None, description="The order number exactly as written, if the message has one."
    )

    @field_validator("intents", mode="before")
    @classmethod
    def _normalise_intents(cls, value: Any) -> Any:
        """Tolerate case, spaces/hyphens, duplicates and extras; unknown names still fail."""
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            return value
        out: list[Any] = []
        for item in value:
            name = re.sub(r"[\s\-]+", "_", item.strip().lower()) if isinstance(item, str) else item
            if name not in out:
                out.append(name)
        return out[:MAX_INTENTS]

    @field_validator("confidence", mode="before")
    @classmethod
    def _percent_to_fraction(cls, value: Any) -> Any:
        if isinstance(value, int | float) and 1 < value <= 100:
            return value / 100
        return value

    @field_validator("product_query", "order_number", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value


class RoutedUnderstanding(Understanding):
    """An :class:`Understanding` with where it came from and what it cost."""

    source: Literal["llm", "fallback"] = "llm"
    slots: dict[str, str] = Field(default_factory=dict)
    """``product_query`` / ``order_number`` when the model gave them."""
    llm_calls: int = 0
    tokens: int = 0
    error: str | None = None
    """Why the model's verdict was not used (``source == "fallback"``)."""


class LLMRouter:
    """:class:`shopagent.agent.understanding.intents.IntentRouter` backed by a chat model's
    structured output.

    Counters for reports: ``llm_calls`` (model invocations), ``fallbacks`` (verdicts taken
    from the fallback router because the model failed), ``skipped`` (messages routed by the
    fallback without calling an incapable model), ``tokens`` and ``last_error``.
    """

    def __init__(
        self,
        model: Any,
        fallback: IntentRouter,
        prompt: str | None = None,
        *,
        caps: ModelCapabilities | None = None,
    ) -> None:
        self.model = model
        self.fallback = fallback
        self.prompt = prompt if prompt is not None else load_router_prompt()
        caps = caps or capabilities(model)
        self.capable = caps.tool_calling or caps.json_output
        self.method = "function_calling" if caps.tool_calling else "json_mode"
        self.llm_calls = 0
        self.fallbacks = 0
        self.skipped = 0
        self.tokens = 0
        self.last_error: str | None = None
        self._structured: Any = None
        self._lock = threading.Lock()

    # -- public -------------------------------------------------------------------------------

    def classify(self, message: str) -> Understanding:
        """The model's verdict on ``message``; the fallback router's when it has none."""
        if not self.capable:
            return self._skip(message)
        messages = self._messages(message)
        self._count(llm_calls=1)
        try:
            runnable = self._runnable()
            out = runnable.invoke(messages) if runnable else self._invoke_text_json(messages)
        except Exception as exc:  # a failing model must never fail the turn
            return self._fall_back(message, f"model call failed: {_short(exc)}")
        return self._result(message, out)

    async def aclassify(self, message: str, *, timeout: float | None = None) -> Understanding:
        """:meth:`classify` without blocking the event loop on the model call.

        ``timeout`` (seconds, e.g. what is left of the turn's budget) bounds the model call,
        retries included; past it the fallback router answers.
        """
        if not self.capable:
            return self._skip(message)
        if timeout is not None and timeout <= 0:
            return self._fall_back(message, "no time left for the model", calls=0)
        messages = self._messages(message)
        self._count(llm_calls=1)
        try:
            runnable = self._runnable()
            call = runnable.ainvoke(messages) if runnable else self._ainvoke_text_json(messages)
            out = await asyncio.wait_for(call, timeout)
        except TimeoutError:
            limit = f" after {timeout:.1f} s" if timeout is not None else ""
            return self._fall_back(message, f"model call timed out{limit}")
        except Exception as exc:
            return self._fall_back(message, f"model call failed: {_short(exc)}")
        return self._result(message, out)

    # -- internals ------------------------------------------------------------------------------

    def _messages(self, message: str) -> list[BaseMessage]:
        return [SystemMessage(self.prompt), HumanMessage(message)]

    def _count(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def _runnable(self) -> Any:
        """The structured-output runnable, or None for models that only do JSON as text."""
        if self._structured is None:
            try:
                self._structured = self.model.with_structured_output(
                    RouteDecision, method=self.method, include_raw=True
                )
            except NotImplementedError:
                self._structured = False  # JSON-capable but no structured-output helper
        return self._structured or None

    def _invoke_text_json(self, messages: list[BaseMessage]) -> dict[str, Any]:
        return self._parse_text(self.model.invoke(messages))

    async def _ainvoke_text_json(self, messages: list[BaseMessage]) -> dict[str, Any]:
        return self._parse_text(await self.model.ainvoke(messages))

    @staticmethod
    def _parse_text(raw: AIMessage) -> dict[str, Any]:
        """``include_raw``-shaped result from a reply carrying the JSON as text."""
        text = str(raw.content)
        start, end = text.find("{"), text.rfind("}")
        try:
            if start < 0 or end < start:
                raise ValueError("no JSON object in the reply")
            parsed = RouteDecision.model_validate(json.loads(text[start : end + 1]))
        except (ValueError, ValidationError) as exc:
            return {"raw": raw, "parsed": None, "parsing_error": exc}
        return {"raw": raw, "parsed": parsed, "parsing_error": None}

    def _result(self, message: str, out: dict[str, Any]) -> Understanding:
        raw = out.get("raw")
        usage = getattr(raw, "usage_metadata", None) or {}
        tokens = int(usage.get("total_tokens", 0))
        self._count(tokens=tokens)
        parsed = out.get("parsed")
        if isinstance(parsed, dict):  # some integrations return dicts
            try:
                parsed = RouteDecision.model_validate(parsed)
            except ValidationError as exc:
                out = {**out, "parsing_error": exc}
                parsed = None
        if not isinstance(parsed, RouteDecision):
            error = out.get("parsing_error")
            reason = f"invalid output: {_short(error)}" if error else "no structured output"
            return self._fall_back(message, reason, tokens=tokens)
        slots = {
            key: value
            for key, value in (
                ("product_query", parsed.product_query),
                ("order_number", parsed.order_number),
            )
            if value
        }
        return RoutedUnderstanding(
            intent=parsed.intents[0],
            confidence=round(parsed.confidence, 4),
            intents=parsed.intents,
            source="llm",
            slots=slots,
            llm_calls=1,
            tokens=tokens,
        )

    def _skip(self, message: str) -> Understanding:
        self._count(skipped=1)
        return self.fallback.classify(message)

    def _fall_back(
        self, message: str, reason: str, *, tokens: int = 0, calls: int = 1
    ) -> Understanding:
        log.info("router falling back to %s: %s", type(self.fallback).__name__, reason)
        self._count(fallbacks=1)
        with self._lock:
            self.last_error = reason
        u = self.fallback.classify(message)
        return RoutedUnderstanding(
            intent=u.intent,
            confidence=u.confidence,
            intents=u.intents,
            source="fallback",
            llm_calls=calls,
            tokens=tokens,
            error=reason,
        )


def _short(exc: BaseException, limit: int = 200) -> str:
    """``Type: first line of the message`` (validation errors are many lines long)."""
    lines = str(exc).strip().splitlines()
    detail = " ".join(line.strip() for line in lines[:3]) if lines else ""
    text = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def make_router(
    model: Any, embedding_router: IntentRouter, caps: ModelCapabilities | None = None
) -> IntentRouter:
    """:class:`LLMRouter` over ``embedding_router`` for a model with tool calling or JSON
    output; ``embedding_router`` itself for local/tiny models that have neither.

    ``caps``: what the model can actually do (the capability probe,
    :func:`shopagent.agent.models.probe.probed`); without it the model's declared
    capabilities are taken."""
    caps = caps or capabilities(model)
    if caps.tool_calling or caps.json_output:
        return LLMRouter(model, embedding_router, caps=caps)
    return embedding_router


async def classify_async(
    router: IntentRouter, message: str, *, timeout: float | None = None
) -> Understanding:
    """``router``'s verdict from async code: ``aclassify`` (bounded by ``timeout``) when the
    router has one, else its synchronous ``classify``."""
    aclassify = getattr(router, "aclassify", None)
    if aclassify is not None:
        return await aclassify(message, timeout=timeout)
    return router.classify(message)


__all__ = [
    "INTENTS",
    "LLMRouter",
    "RouteDecision",
    "RoutedUnderstanding",
    "classify_async",
    "load_router_prompt",
    "make_router",
]
