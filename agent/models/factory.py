"""The one chat-model factory: every model in ShopAgent is built here from a spec string.

Specs (``settings.model`` / ``--model``):

* ``local`` - the bundled SmolLM2-135M-Instruct, converted once from GGUF (see
  :mod:`shopagent.agent.models.local`) and run with transformers on CPU.
* ``hf:<hub id or local path>`` - any causal LM with a chat template: a model directory, a
  ``.gguf`` file (or a directory holding exactly one), or a hub id already in the local HF
  cache. Always offline.
* ``openai:<model>`` - ``langchain_openai.ChatOpenAI`` against OpenAI or any
  OpenAI-compatible server (vLLM, Ollama, llama.cpp server) via ``settings.openai_base_url``.

Tests build :class:`shopagent.agent.models.scripted.ScriptedChatModel` directly; ``scripted`` is
not a spec.

Every AIMessage returned by a model from this factory carries ``usage_metadata``. Ask
:func:`capabilities` what a model can do (tool calling, JSON output, streaming) instead of
checking its class.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import RunnableBinding
from langchain_huggingface import ChatHuggingFace, HuggingFacePipeline
from pydantic import PrivateAttr, SecretStr
from shopagent.agent.models.local import (
    convert_gguf,
    ensure_local_model,
    gguf_cache_dir,
    load_pretrained,
)
from shopagent.agent.models.scripted import ScriptedChatModel

from shopagent.errors import ConfigError, ModelUnavailable
from shopagent.settings import Settings

log = logging.getLogger(__name__)

VALID_SPECS = "local, hf:<hub id or local path>, openai:<model>"
OPENAI_MAX_RETRIES = 2  # the openai client's own retry layer (backoff 0.5 s, 1 s, ...)
_PLACEHOLDER_API_KEY = "not-needed"  # local OpenAI-compatible servers ignore the key
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class ModelCapabilities:
    """What a chat model can do; graph nodes branch on this, not on model classes."""

    tool_calling: bool  # bind_tools works and the model emits structured tool calls
    json_output: bool  # with_structured_output / JSON mode is supported
    streaming: bool  # .stream() yields tokens incrementally
    name: str  # the spec it was built from, e.g. "local", "openai:gpt-4o-mini"
    local: bool  # inference runs on this machine (no data leaves it)


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model spec."""

    kind: Literal["local", "hf", "openai"]
    target: str = ""  # hub id / path for hf, model name for openai, "" for local

    def __str__(self) -> str:
        return self.kind if self.kind == "local" else f"{self.kind}:{self.target}"


def parse_spec(spec: str) -> ModelSpec:
    """Parse and validate a model spec string; ConfigError with a hint if invalid."""
    text = (spec or "").strip()
    kind, sep, target = text.partition(":")
    kind, target = kind.strip().lower(), target.strip()
    if not text:
        raise ConfigError("no chat model configured", hint=f"set SHOPAGENT_MODEL to {VALID_SPECS}")
    if kind == "scripted":
        raise ConfigError(
            f"model spec {text!r}: scripted models are built in tests only",
            hint=f"use agent.scripted.ScriptedChatModel in tests; otherwise one of {VALID_SPECS}",
        )
    if kind == "local" and not sep:
        return ModelSpec("local")
    if kind in ("hf", "openai") and sep:
        if not target:
            example = "hf:HuggingFaceTB/SmolLM2-360M-Instruct" if kind == "hf" else "openai:gpt-4o"
            raise ConfigError(f"model spec {text!r} names no model", hint=f"for example {example}")
        return ModelSpec(kind, target)  # type: ignore[arg-type]
    raise ConfigError(f"unknown model spec {text!r}", hint=f"valid forms: {VALID_SPECS}")


def build_chat_model(spec: str, settings: Settings) -> BaseChatModel:
    """Build the chat model named by ``spec`` (see module doc).

    Raises ConfigError for bad specs or missing credentials and ModelUnavailable when the
    model files are missing; both carry a fix hint. Local models are cached in-process,
    so building the same spec again is instant.
    """
    parsed = parse_spec(spec)
    if parsed.kind == "local":
        return _build_transformers(str(parsed), ensure_local_model(settings), settings)
    if parsed.kind == "hf":
        return _build_transformers(
            str(parsed), _resolve_hf_target(parsed.target, settings), settings
        )
    return _build_openai(parsed.target, settings)


def capabilities(model: Any) -> ModelCapabilities:
    """Capabilities of a model built by :func:`build_chat_model` (or a ScriptedChatModel).

    Accepts bound models too (the result of ``bind_tools``/``bind``).
    """
    inner = model
    while isinstance(inner, RunnableBinding):
        inner = inner.bound
    if isinstance(inner, ScriptedChatModel):
        return ModelCapabilities(
            tool_calling=inner.tool_calling,
            json_output=inner.json_output,
            streaming=inner.streaming,
            name=inner.model_name,
            local=True,
        )
    if isinstance(inner, LocalChatModel):
        return ModelCapabilities(
            tool_calling=False, json_output=False, streaming=True, name=inner.spec, local=True
        )
    if _is_chat_openai(inner):
        return ModelCapabilities(
            tool_calling=True,
            json_output=True,
            streaming=True,
            name=f"openai:{inner.model_name}",
            local=_is_loopback_url(inner.openai_api_base),
        )
    if not isinstance(inner, BaseChatModel):
        raise TypeError(f"not a chat model: {type(model).__name__}")
    cls = type(inner)
    return ModelCapabilities(
        tool_calling=cls.bind_tools is not BaseChatModel.bind_tools,
        json_output=False,
        streaming=cls._stream is not BaseChatModel._stream,
        name=str(getattr(inner, "model_name", None) or inner._llm_type),
        local=False,
    )


def clear_model_cache() -> None:
    """Forget in-process loaded local models (tests; frees memory)."""
    with _LOADED_LOCK:
        _LOADED.clear()


# --------------------------------------------------------------------------- token usage


def _usage(input_tokens: int, output_tokens: int) -> UsageMetadata:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }


def _estimate_tokens(text: str) -> int:
    """Rough token count (~4 characters a token) when no tokenizer is available offline."""
    return math.ceil(len(text) / 4) if text else 0


def _message_text(message: BaseMessage) -> str:
    text = message.text
    if isinstance(message, AIMessage) and message.tool_calls:
        calls = [{"name": c["name"], "args": c["args"]} for c in message.tool_calls]
        text = f"{text}\n{json.dumps(calls, ensure_ascii=False)}".strip()
    return text


def _estimate_usage(messages: Sequence[BaseMessage], reply: BaseMessage) -> UsageMetadata:
    prompt = sum(_estimate_tokens(_message_text(m)) + 4 for m in messages)
    return _usage(prompt, _estimate_tokens(_message_text(reply)))


# --------------------------------------------------------------------------- transformers


@dataclass
class _Loaded:
    model: Any
    tokenizer: Any
    lock: threading.Lock  # one generation at a time per loaded model


_LOADED: dict[tuple[str, str], _Loaded] = {}
_LOADED_LOCK = threading.Lock()


def _load_cached(spec: str, source: str | Path) -> _Loaded:
    key = (spec, str(source))
    with _LOADED_LOCK:
        entry = _LOADED.get(key)
        if entry is None:
            model, tokenizer = load_pretrained(source)
            if not getattr(tokenizer, "chat_template", None):
                raise ModelUnavailable(
                    f"{spec}: the model has no chat template",
                    hint="pick an instruct/chat model (one whose tokenizer has a chat template)",
                )
            entry = _Loaded(model, tokenizer, threading.Lock())
            _LOADED[key] = entry
        return entry


def _looks_like_path(target: str) -> bool:
    return (
        target.startswith(("/", "./", "../", "~", "."))
        or target.lower().endswith(".gguf")
        or "\\" in target
        or target.count("/") > 1
    )


def _resolve_hf_target(target: str, settings: Settings) -> str:
    """A loadable directory or hub id for ``hf:<target>``; converts GGUF files once."""
    path = Path(target).expanduser()
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise ConfigError(
                f"hf:{target} is a file but not a .gguf checkpoint",
                hint="point hf: at a model directory (with config.json) or at a .gguf file",
            )
        return str(convert_gguf(path, gguf_cache_dir(path, settings)))
    if path.is_dir():
        if (path / "config.json").is_file():
            return str(path.resolve())
        ggufs = sorted(path.glob("*.gguf"))
        if len(ggufs) == 1:
            return str(convert_gguf(ggufs[0], gguf_cache_dir(ggufs[0], settings)))
        if ggufs:
            names = ", ".join(g.name for g in ggufs)
            raise ConfigError(
                f"hf:{target} holds several .gguf files ({names})",
                hint=f"name one, e.g. --model hf:{ggufs[0]}",
            )
        raise ModelUnavailable(
            f"hf:{target} has neither config.json nor a .gguf file",
            hint="point hf: at a transformers model directory or a .gguf file",
        )
    if _looks_like_path(target):
        raise ModelUnavailable(
            f"model path not found: {target}",
            hint="hf: takes a model directory, a .gguf file, or a hub id in the local HF cache",
        )
    return target  # a hub id, loaded from the local Hugging Face cache only


def _build_transformers(spec: str, source: str | Path, settings: Settings) -> LocalChatModel:
    from transformers import pipeline

    entry = _load_cached(spec, source)
    # No repetition penalty: in transformers it also penalises prompt tokens, so the model
    # stops copying names and prices from the facts. The verifier rejects generation loops.
    generation: dict[str, Any] = {"max_new_tokens": settings.max_new_tokens}
    if settings.temperature > 0:
        generation.update(do_sample=True, temperature=settings.temperature)
    else:
        generation["do_sample"] = False  # greedy: deterministic answers
    if entry.tokenizer.pad_token_id is None:
        generation["pad_token_id"] = entry.tokenizer.eos_token_id
    pipe = pipeline(
        "text-generation",
        model=entry.model,
        tokenizer=entry.tokenizer,
        return_full_text=False,
        **generation,
    )
    chat = LocalChatModel(
        llm=HuggingFacePipeline(pipeline=pipe, model_id=str(source)),
        tokenizer=entry.tokenizer,
        model_id=str(source),
        spec=spec,
        max_tokens=settings.max_new_tokens,
        temperature=settings.temperature,
    )
    chat._lock = entry.lock
    return chat


def _to_template_message(message: BaseMessage) -> dict[str, str]:
    """One message in the plain role/content form every chat template understands."""
    if isinstance(message, SystemMessage):
        return {"role": "system", "content": message.text}
    if isinstance(message, HumanMessage):
        return {"role": "user", "content": message.text}
    if isinstance(message, AIMessage):
        return {"role": "assistant", "content": _message_text(message)}
    if isinstance(message, ToolMessage):
        # Small local models have no tool role; show the result as user-side context.
        name = f" {message.name}" if message.name else ""
        return {"role": "user", "content": f"[tool{name} result]\n{message.text}"}
    if isinstance(message, ChatMessage):
        return {"role": message.role, "content": message.text}
    raise ValueError(f"unsupported message type for a local model: {type(message).__name__}")


def _cut_at_stop(text: str, stop: Sequence[str] | None) -> tuple[str, bool]:
    """``text`` up to the first stop sequence (excluded), and whether one was found."""
    cuts = [i for i in (text.find(s) for s in stop or () if s) if i >= 0]
    return (text[: min(cuts)], True) if cuts else (text, False)


class LocalChatModel(ChatHuggingFace):
    """ChatHuggingFace over a local transformers pipeline, made fit for an agent graph.

    Compared with ChatHuggingFace (langchain-huggingface 1.2) it: accepts any message
    order (ChatHuggingFace insists the last message is a HumanMessage and rejects
    ToolMessages), reports exact ``usage_metadata`` from the generated token ids, honours
    ``stop`` sequences, supports ``ainvoke``/``astream`` (ChatHuggingFace raises
    NotImplementedError for pipelines), counts tokens with the model's own tokenizer
    (no GPT-2 download), and serialises generation on a shared model with a lock.
    It has no tool calling or JSON mode: those raise NotImplementedError instead of being
    silently ignored.
    """

    spec: str = "local"
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "shopagent-transformers"

    # -- prompt ---------------------------------------------------------------

    def _to_chat_prompt(self, messages: list[BaseMessage]) -> str:
        if not messages:
            raise ValueError("at least one message is required")
        return self.tokenizer.apply_chat_template(
            [_to_template_message(m) for m in messages], tokenize=False, add_generation_prompt=True
        )

    def get_token_ids(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    # -- generation -------------------------------------------------------------

    def _call_kwargs(self, stop: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        call: dict[str, Any] = {"return_tensors": True, "add_special_tokens": False}
        limit = kwargs.get("max_new_tokens") or kwargs.get("max_tokens")
        if limit:
            call["max_new_tokens"] = int(limit)
        if stop:
            call["stop_sequence"] = list(stop)
        return call

    def _finish(
        self, prompt: str, token_ids: list[int], stop: list[str] | None, limit: int | None
    ) -> tuple[str, UsageMetadata, dict[str, Any]]:
        n_in = len(self.get_token_ids(prompt))
        new_ids = token_ids[n_in:]
        text, stopped = _cut_at_stop(self.tokenizer.decode(new_ids, skip_special_tokens=True), stop)
        hit_limit = limit is not None and len(new_ids) >= limit and not stopped
        metadata = {
            "model_name": self.model_id,
            "model_provider": "huggingface",
            "finish_reason": "length" if hit_limit else "stop",
        }
        return text, _usage(n_in, len(new_ids)), metadata

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        prompt = self._to_chat_prompt(messages)
        call = self._call_kwargs(stop, kwargs)
        with self._lock:
            output = self.llm.pipeline(prompt, **call)
        token_ids = list(output[0]["generated_token_ids"])
        limit = call.get("max_new_tokens", self.max_tokens)
        text, usage, metadata = self._finish(prompt, token_ids, stop, limit)
        message = AIMessage(content=text.strip(), usage_metadata=usage, response_metadata=metadata)
        return ChatResult(
            generations=[ChatGeneration(message=message)],
            llm_output={"model_name": self.model_id, "token_usage": dict(usage)},
        )

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return await BaseChatModel._agenerate(self, messages, stop, run_manager, **kwargs)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        from transformers import TextIteratorStreamer

        prompt = self._to_chat_prompt(messages)
        call = self._call_kwargs(stop, kwargs)
        limit = call.get("max_new_tokens", self.max_tokens)
        streamer = TextIteratorStreamer(
            self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=300
        )
        result: dict[str, Any] = {}

        def work() -> None:
            try:
                with self._lock:
                    result["output"] = self.llm.pipeline(prompt, streamer=streamer, **call)
            except BaseException as exc:  # re-raised in the consumer below
                result["error"] = exc
                streamer.end()

        # The worker holds the model lock, not this generator: a consumer that stops early
        # cannot leave the model locked. Generation then runs to its (bounded) end alone.
        worker = threading.Thread(target=work, name="shopagent-generate", daemon=True)
        worker.start()
        # Hold back a tail as long as the longest stop sequence, so it is never emitted.
        holdback = max((len(s) for s in stop or ()), default=1) - 1
        pending, stopped = "", False
        for piece in streamer:
            if stopped:
                continue  # drain until generation ends
            pending += piece
            pending, stopped = _cut_at_stop(pending, stop)
            emit_upto = len(pending) if stopped else max(0, len(pending) - holdback)
            if emit_upto:
                yield ChatGenerationChunk(message=AIMessageChunk(content=pending[:emit_upto]))
                pending = pending[emit_upto:]
        worker.join()
        if "error" in result:
            raise result["error"]
        if pending and not stopped:
            yield ChatGenerationChunk(message=AIMessageChunk(content=pending))
        token_ids = list(result["output"][0]["generated_token_ids"])
        _, usage, metadata = self._finish(prompt, token_ids, stop, limit)
        yield ChatGenerationChunk(
            message=AIMessageChunk(content="", usage_metadata=usage, chunk_position="last"),
            generation_info=metadata,
        )

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        # ChatHuggingFace's _astream only knows inference endpoints; run _stream in a thread.
        async for chunk in BaseChatModel._astream(self, messages, stop, run_manager, **kwargs):
            yield chunk

    # -- unsupported features fail loudly ----------------------------------------

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"model {self.spec!r} has no tool calling; check "
            "shopagent.agent.models.factory.capabilities(model).tool_calling before binding tools"
        )

    def with_structured_output(self, schema: Any = None, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"model {self.spec!r} has no JSON/structured output; check "
            "shopagent.agent.models.factory.capabilities(model).json_output, "
            "or prompt for JSON and parse the text"
        )


# --------------------------------------------------------------------------- openai


def _is_loopback_url(url: str | None) -> bool:
    host = urlsplit(url or "").hostname or ""
    return host in _LOOPBACK_HOSTS or host.startswith("127.")


def _is_chat_openai(model: Any) -> bool:
    import sys

    module = sys.modules.get("langchain_openai")
    return module is not None and isinstance(model, module.ChatOpenAI)


@functools.cache
def _openai_chat_class() -> type[BaseChatModel]:
    """ChatOpenAI that always reports usage (imported lazily: langchain_openai is slow)."""
    from langchain_openai import ChatOpenAI

    class OpenAIChatModel(ChatOpenAI):
        """ChatOpenAI whose replies always carry usage_metadata.

        Servers that omit ``usage`` (some OpenAI-compatible ones) get an estimate,
        flagged with ``response_metadata["usage_estimated"] = True``.
        """

        @staticmethod
        def _fill_usage(messages: list[BaseMessage], result: ChatResult) -> ChatResult:
            for generation in result.generations:
                message = generation.message
                if isinstance(message, AIMessage) and not message.usage_metadata:
                    message.usage_metadata = _estimate_usage(messages, message)
                    message.response_metadata["usage_estimated"] = True
            return result

        def _generate(
            self,
            messages: list[BaseMessage],
            stop: list[str] | None = None,
            run_manager: CallbackManagerForLLMRun | None = None,
            **kwargs: Any,
        ) -> ChatResult:
            result = super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)
            return self._fill_usage(messages, result)

        async def _agenerate(
            self,
            messages: list[BaseMessage],
            stop: list[str] | None = None,
            run_manager: AsyncCallbackManagerForLLMRun | None = None,
            **kwargs: Any,
        ) -> ChatResult:
            result = await super()._agenerate(
                messages, stop=stop, run_manager=run_manager, **kwargs
            )
            return self._fill_usage(messages, result)

        def _stream(
            self,
            messages: list[BaseMessage],
            stop: list[str] | None = None,
            run_manager: CallbackManagerForLLMRun | None = None,
            **kwargs: Any,
        ) -> Iterator[ChatGenerationChunk]:
            text, seen_usage = "", False
            for chunk in super()._stream(messages, stop=stop, run_manager=run_manager, **kwargs):
                seen_usage = seen_usage or bool(chunk.message.usage_metadata)
                text += chunk.text
                yield chunk
            if not seen_usage:
                yield _estimated_usage_chunk(messages, text)

        async def _astream(
            self,
            messages: list[BaseMessage],
            stop: list[str] | None = None,
            run_manager: AsyncCallbackManagerForLLMRun | None = None,
            **kwargs: Any,
        ) -> AsyncIterator[ChatGenerationChunk]:
            text, seen_usage = "", False
            stream = super()._astream(messages, stop=stop, run_manager=run_manager, **kwargs)
            async for chunk in stream:
                seen_usage = seen_usage or bool(chunk.message.usage_metadata)
                text += chunk.text
                yield chunk
            if not seen_usage:
                yield _estimated_usage_chunk(messages, text)

    return OpenAIChatModel


def _estimated_usage_chunk(messages: list[BaseMessage], text: str) -> ChatGenerationChunk:
    usage = _estimate_usage(messages, AIMessage(content=text))
    return ChatGenerationChunk(
        message=AIMessageChunk(
            content="", usage_metadata=usage, response_metadata={"usage_estimated": True}
        )
    )


def _build_openai(model_name: str, settings: Settings) -> BaseChatModel:
    """ChatOpenAI with credentials taken from settings only (never from os.environ here)."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    base_url = (settings.openai_base_url or "").strip()
    if not key and not base_url:
        raise ConfigError(
            f"openai:{model_name} needs an API key or an OpenAI-compatible base URL",
            hint=(
                "set SHOPAGENT_OPENAI_API_KEY (or OPENAI_API_KEY); for a local server such as "
                "vLLM or Ollama set SHOPAGENT_OPENAI_BASE_URL, e.g. http://127.0.0.1:11434/v1"
            ),
        )
    cls = _openai_chat_class()
    return cls(
        model=model_name,
        api_key=SecretStr(key or _PLACEHOLDER_API_KEY),
        base_url=base_url or "https://api.openai.com/v1",
        timeout=settings.openai_timeout_s,
        max_retries=OPENAI_MAX_RETRIES,
        temperature=settings.temperature,
        stream_usage=True,
    )
