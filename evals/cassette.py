"""Record/replay of model calls, so evals of hosted models are reproducible and free in CI.

:class:`CassetteChatModel` wraps the real chat model. Every call is keyed by the sha256 of a
canonical JSON of the full request: the model spec, the messages (type, content, tool calls,
tool name), the bound tools and the parameters (generation settings plus call keywords such
as ``stop``). A cassette is a directory with one JSON file per key.

* ``record``: a stored reply is replayed; a miss calls the inner model and stores its reply.
* ``replay``: there is no inner model at all; a miss is recorded in :attr:`misses` and
  raises :class:`CassetteMiss`. The runner checks ``misses`` after every turn and stops the
  run (the graph turns a failing model call into a template answer, which must not pass
  silently).

Build wrappers with :func:`cassette_model`: it reports the inner model's tool-calling
capability, so the agent configures itself (router, prompt history, retries) exactly as it
would for the unwrapped model.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field, PrivateAttr
from shopagent.agent.models.capabilities import ModelCapabilities

from shopagent.errors import ShopAgentError

CassetteMode = Literal["record", "replay"]
FORMAT_VERSION = 1


class CassetteMiss(ShopAgentError):
    """A replay run met a model request that the cassette does not hold."""

    hint = (
        "re-record the cassette with `shopagent eval run --record DIR` (the prompt, model, "
        "tools or parameters changed since it was recorded)"
    )


def canonical_messages(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """Messages as plain data: type, content, tool calls (name and args, no random ids)."""
    out = []
    for m in messages:
        item: dict[str, Any] = {"type": m.type, "content": m.content}
        if isinstance(m, AIMessage) and m.tool_calls:
            item["tool_calls"] = [{"name": c["name"], "args": c["args"]} for c in m.tool_calls]
        if isinstance(m, ToolMessage):
            item["name"] = m.name
        out.append(item)
    return out


def request_key(request: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of a request."""
    text = json.dumps(
        request, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Cassette:
    """A directory of recorded replies, one ``<key>.json`` file each."""

    def __init__(self, directory: Path, mode: CassetteMode) -> None:
        self.directory = Path(directory)
        self.mode = mode
        self._lock = threading.Lock()
        if mode == "replay" and not self.directory.is_dir():
            raise CassetteMiss(f"cassette directory {self.directory} does not exist")
        self.directory.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored entry for ``key``, or None."""
        path = self.path(key)
        if not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def put(self, key: str, request: dict[str, Any], response: dict[str, Any]) -> None:
        """Store an entry (written atomically)."""
        entry = {"version": FORMAT_VERSION, "key": key, "request": request, "response": response}
        text = json.dumps(entry, ensure_ascii=False, indent=1, sort_keys=True, default=str)
        with self._lock:
            tmp = self.path(key).with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(self.path(key))

    def __len__(self) -> int:
        return sum(1 for _ in self.directory.glob("*.json"))


def _dump_reply(message: AIMessage) -> dict[str, Any]:
    return {
        "content": message.content,
        "tool_calls": [
            {"name": c["name"], "args": c["args"], "id": c.get("id")} for c in message.tool_calls
        ],
        "usage_metadata": dict(message.usage_metadata or {}),
        "response_metadata": {
            k: v for k, v in message.response_metadata.items() if isinstance(v, str | int | float)
        },
    }


def _load_reply(data: dict[str, Any]) -> AIMessage:
    return AIMessage(
        content=data.get("content", ""),
        tool_calls=[
            {"name": c["name"], "args": c["args"], "id": c.get("id") or f"call_{i}"}
            for i, c in enumerate(data.get("tool_calls", []))
        ],
        usage_metadata=data.get("usage_metadata") or None,
        response_metadata={**data.get("response_metadata", {}), "cassette": True},
    )


class CassetteChatModel(BaseChatModel):
    """A chat model that answers from a cassette, recording misses from ``inner``.

    ``spec`` and ``params`` are part of every key, so the same prompt to another model or
    with other generation settings is a different request.
    """

    spec: str
    params: dict[str, Any] = Field(default_factory=dict)
    inner: BaseChatModel | None = None
    json_output: bool = False
    """What the wrapped model's probe found (recorded in the cassette's meta.json)."""
    declared_only: ClassVar[bool] = True
    """Never probed: the wrapper reports the wrapped model's probed capabilities."""
    _cassette: Cassette = PrivateAttr()
    _misses: list[str] = PrivateAttr(default_factory=list)
    _stats: dict[str, int] = PrivateAttr(default_factory=lambda: {"hits": 0, "recorded": 0})

    def __init__(self, cassette: Cassette, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if cassette.mode == "record" and self.inner is None:
            raise ValueError("record mode needs an inner model")
        self._cassette = cassette

    @property
    def _llm_type(self) -> str:
        return "cassette"

    @property
    def model_name(self) -> str:
        return self.spec

    def model_capabilities(self) -> ModelCapabilities:
        """The wrapped model's capabilities (tool calling: the class; see below)."""
        return ModelCapabilities(
            tool_calling=isinstance(self, ToolCallingCassetteChatModel),
            json_output=self.json_output,
            streaming=False,
            name=self.spec,
            local=False,
        )

    @property
    def cassette(self) -> Cassette:
        return self._cassette

    @property
    def misses(self) -> list[str]:
        """Keys of requests a replay could not answer (cleared by :meth:`take_misses`)."""
        return list(self._misses)

    def take_misses(self) -> list[str]:
        misses, self._misses[:] = list(self._misses), []
        return misses

    @property
    def stats(self) -> dict[str, int]:
        """``hits`` (answered from the cassette) and ``recorded`` (new entries)."""
        return dict(self._stats)

    def request(
        self, messages: Sequence[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """The canonical request a key is computed from."""
        call = {k: v for k, v in kwargs.items() if k != "tools"}
        if stop:
            call["stop"] = list(stop)
        return {
            "model": self.spec,
            "messages": canonical_messages(messages),
            "tools": kwargs.get("tools") or [],
            "params": {**self.params, **call},
        }

    def _lookup(self, request: dict[str, Any]) -> tuple[str, AIMessage | None]:
        key = request_key(request)
        entry = self._cassette.get(key)
        if entry is not None:
            self._stats["hits"] += 1
            return key, _load_reply(entry["response"])
        if self._cassette.mode == "replay":
            self._misses.append(key)
            last = request["messages"][-1]["content"] if request["messages"] else ""
            raise CassetteMiss(
                f"cassette {self._cassette.directory} has no reply for request {key[:12]} "
                f"(model {self.spec}; last message: {str(last)[:120]!r})"
            )
        return key, None

    def _inner_for(self, kwargs: dict[str, Any]) -> Any:
        assert self.inner is not None
        tools = kwargs.get("tools")
        rest = {k: v for k, v in kwargs.items() if k != "tools"}
        model: Any = self.inner.bind_tools(tools) if tools else self.inner
        return model.bind(**rest) if rest else model

    def _store(self, key: str, request: dict[str, Any], reply: Any) -> AIMessage:
        message = reply if isinstance(reply, AIMessage) else AIMessage(content=str(reply))
        self._cassette.put(key, request, _dump_reply(message))
        self._stats["recorded"] += 1
        return message

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = self.request(messages, stop, kwargs)
        key, reply = self._lookup(request)
        if reply is None:
            reply = self._store(key, request, self._inner_for(kwargs).invoke(messages, stop=stop))
        return ChatResult(generations=[ChatGeneration(message=reply)])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = self.request(messages, stop, kwargs)
        key, reply = self._lookup(request)
        if reply is None:
            answer = await self._inner_for(kwargs).ainvoke(messages, stop=stop)
            reply = self._store(key, request, answer)
        return ChatResult(generations=[ChatGeneration(message=reply)])


class ToolCallingCassetteChatModel(CassetteChatModel):
    """The cassette for a model with tool calling: ``bind_tools`` works (and is part of the
    key). :func:`shopagent.agent.models.capabilities.capabilities` reports tool calling from
    the class, so the wrapper of a model without it is a plain :class:`CassetteChatModel`."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        """Bind tools as plain OpenAI tool schemas (they become part of the key)."""
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)


def cassette_model(
    cassette: Cassette,
    *,
    spec: str,
    tool_calling: bool,
    params: dict[str, Any] | None = None,
    inner: BaseChatModel | None = None,
    json_output: bool = False,
) -> CassetteChatModel:
    """A cassette wrapper that reports the same (probed) capabilities as the model it
    stands for, so the agent configures itself (router, history, retries) the same way."""
    cls = ToolCallingCassetteChatModel if tool_calling else CassetteChatModel
    return cls(cassette, spec=spec, params=params or {}, inner=inner, json_output=json_output)
