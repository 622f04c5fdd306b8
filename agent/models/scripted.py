"""A scripted chat model for testing graph logic without a real LLM.

    model = ScriptedChatModel([
        ("order status", ScriptedChatModel.tool_call("get_order", {"order_id": "A-1001"})),
        (lambda prompt: "A-1001" in prompt, "Your order A-1001 has shipped."),
        "Anything else?",
    ])

Each step is a reply (``str`` or ``AIMessage``) or a ``(matcher, reply)`` pair. A matcher is
a substring or a ``callable(prompt) -> bool`` checked against the text of the last human or
system message of the call. Calls consume steps in order; an extra call, a matcher mismatch
or (via :meth:`ScriptedChatModel.assert_consumed`) an unused step fails with AssertionError.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Union

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field, PrivateAttr
from shopagent.agent.models.capabilities import ModelCapabilities

Matcher = Union[str, Callable[[str], bool]]  # noqa: UP007 - a runtime alias
Reply = Union[str, AIMessage]  # noqa: UP007
Step = Union[Reply, tuple[Matcher, Reply]]  # noqa: UP007

_EXCERPT = 160
_ids = itertools.count(1)


def _excerpt(text: str, limit: int = _EXCERPT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _prompt_text(messages: Sequence[BaseMessage]) -> str:
    """Text of the last human or system message (what matchers check)."""
    for message in reversed(messages):
        if isinstance(message, HumanMessage | SystemMessage):
            return message.text
    return ""


def _describe(matcher: Matcher) -> str:
    if isinstance(matcher, str):
        return f"prompt containing {matcher!r}"
    name = getattr(matcher, "__name__", type(matcher).__name__)
    return f"prompt satisfying {name}"


def _count_words(text: str) -> int:
    return len(text.split())


def _check_step(index: int, step: Any) -> tuple[Matcher | None, Reply]:
    if isinstance(step, tuple):
        if len(step) != 2:
            raise TypeError(f"scripted step #{index}: expected (matcher, reply), got {step!r}")
        matcher, reply = step
        if not (isinstance(matcher, str) or callable(matcher)):
            raise TypeError(f"scripted step #{index}: matcher must be str or callable")
    else:
        matcher, reply = None, step
    if not isinstance(reply, str | AIMessage):
        raise TypeError(f"scripted step #{index}: reply must be str or AIMessage, got {reply!r}")
    return matcher, reply


class ScriptedChatModel(BaseChatModel):
    """A BaseChatModel that replays scripted replies and checks it is called as expected.

    ``calls`` records the message list of every call; ``call_kwargs`` the keyword arguments
    (e.g. the ``tools`` bound with :meth:`bind_tools`); ``bound_tools`` every tool list
    passed to :meth:`bind_tools`. The capability flags are reported by
    ``shopagent.agent.models.capabilities.capabilities`` so graph code can be tested against weaker
    models too.
    """

    steps: list[Any] = Field(default_factory=list)
    model_name: str = "scripted"
    tool_calling: bool = True
    json_output: bool = True
    streaming: bool = False
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    call_kwargs: list[dict[str, Any]] = Field(default_factory=list)
    bound_tools: list[list[dict[str, Any]]] = Field(default_factory=list)
    _position: int = PrivateAttr(default=0)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def model_capabilities(self) -> ModelCapabilities:
        """The flags this script was built with (tests weaken them on purpose)."""
        return ModelCapabilities(
            tool_calling=self.tool_calling,
            json_output=self.json_output,
            streaming=self.streaming,
            name=self.model_name,
            local=True,
        )

    def __init__(self, steps: Iterable[Step] = (), **kwargs: Any) -> None:
        steps = list(steps)
        for index, step in enumerate(steps, 1):
            _check_step(index, step)
        super().__init__(steps=steps, **kwargs)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def remaining(self) -> int:
        """Number of scripted steps not used yet."""
        return len(self.steps) - self._position

    @staticmethod
    def tool_call(
        name: str, args: dict[str, Any] | None = None, *, id: str | None = None, content: str = ""
    ) -> AIMessage:
        """An AIMessage calling one tool, e.g. ``tool_call("search", {"query": "boots"})``."""
        call_id = id or f"call_{next(_ids)}"
        return AIMessage(
            content=content, tool_calls=[{"name": name, "args": dict(args or {}), "id": call_id}]
        )

    def assert_consumed(self) -> None:
        """Raise AssertionError if some scripted steps were never used."""
        if self.remaining:
            unused = [_excerpt(repr(step), 80) for step in self.steps[self._position :]]
            raise AssertionError(
                f"{self.remaining} scripted step(s) not used after {len(self.calls)} call(s): "
                + "; ".join(unused)
            )

    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: str | dict | bool | None = None,
        **kwargs: Any,
    ) -> Any:
        """Record the tools and return this model bound to them (same script, same calls)."""
        if not self.tool_calling:
            raise NotImplementedError(
                f"scripted model {self.model_name!r} is configured without tool calling"
            )
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        self.bound_tools.append(formatted)
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    def _next_reply(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> AIMessage:
        with self._lock:
            self.calls.append(list(messages))
            self.call_kwargs.append(dict(kwargs))
            number = len(self.calls)
            prompt = _prompt_text(messages)
            if self._position >= len(self.steps):
                raise AssertionError(f"unexpected model call #{number}: {_excerpt(prompt)!r}")
            matcher, reply = _check_step(self._position + 1, self.steps[self._position])
            if matcher is not None:
                ok = matcher in prompt if isinstance(matcher, str) else bool(matcher(prompt))
                if not ok:
                    raise AssertionError(
                        f"model call #{number} (scripted step #{self._position + 1}): "
                        f"expected {_describe(matcher)}, got {_excerpt(prompt)!r}"
                    )
            self._position += 1
        message = (
            AIMessage(content=reply) if isinstance(reply, str) else reply.model_copy(deep=True)
        )
        if message.usage_metadata is None:
            message.usage_metadata = self._usage(messages, message)
        message.response_metadata.setdefault("model_name", self.model_name)
        return message

    @staticmethod
    def _usage(messages: list[BaseMessage], reply: AIMessage) -> UsageMetadata:
        """Deterministic word counts stand in for token counts."""
        prompt = sum(_count_words(m.text) for m in messages)
        output = _count_words(reply.text) + sum(1 + len(call["args"]) for call in reply.tool_calls)
        return {
            "input_tokens": prompt,
            "output_tokens": output,
            "total_tokens": prompt + output,
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._next_reply(messages, kwargs))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        # No thread hop: the script is consumed in call order, deterministically.
        return self._generate(messages, stop, **kwargs)
