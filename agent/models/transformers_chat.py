"""Chat models run with transformers on this machine: ``local`` (the bundled SmolLM2) and
``hf:<hub id or path>`` (any causal LM with a chat template, offline)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from langchain_huggingface import ChatHuggingFace, HuggingFacePipeline
from pydantic import PrivateAttr
from shopagent.agent.models.capabilities import ModelCapabilities
from shopagent.agent.models.gguf import convert_gguf, gguf_cache_dir, load_pretrained
from shopagent.agent.models.usage import message_text, usage

from shopagent.errors import ConfigError, ModelUnavailable
from shopagent.settings import Settings


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


def clear_loaded_models() -> None:
    """Forget in-process loaded models (tests; frees memory)."""
    with _LOADED_LOCK:
        _LOADED.clear()


def _looks_like_path(target: str) -> bool:
    return (
        target.startswith(("/", "./", "../", "~", "."))
        or target.lower().endswith(".gguf")
        or "\\" in target
        or target.count("/") > 1
    )


def resolve_hf_target(target: str, settings: Settings) -> str:
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


def build_transformers(spec: str, source: str | Path, settings: Settings) -> LocalChatModel:
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
        return {"role": "assistant", "content": message_text(message)}
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

    def model_capabilities(self) -> ModelCapabilities:
        """Local transformers chat: streaming, no tool calling, no JSON mode."""
        return ModelCapabilities(
            tool_calling=False, json_output=False, streaming=True, name=self.spec, local=True
        )

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
        return text, usage(n_in, len(new_ids)), metadata

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
            "shopagent.agent.models.capabilities.capabilities(model).tool_calling "
            "before binding tools"
        )

    def with_structured_output(self, schema: Any = None, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"model {self.spec!r} has no JSON/structured output; check "
            "shopagent.agent.models.capabilities.capabilities(model).json_output, "
            "or prompt for JSON and parse the text"
        )
