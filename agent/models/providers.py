"""The one provider map: every model in ShopAgent is built here from a spec string.

Specs (``settings.model`` / ``--model``):

* ``local`` - the bundled SmolLM2-135M-Instruct, converted once from GGUF (see
  :mod:`shopagent.agent.models.gguf`) and run with transformers on CPU.
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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from langchain_core.language_models import BaseChatModel
from shopagent.agent.models.gguf import ensure_local_model
from shopagent.agent.models.openai_chat import build_openai
from shopagent.agent.models.transformers_chat import (
    build_transformers,
    clear_loaded_models,
    resolve_hf_target,
)

from shopagent.errors import ConfigError
from shopagent.settings import Settings


@dataclass(frozen=True)
class Provider:
    """How one spec prefix becomes a chat model. Keys and URLs are read only in ``build``;
    the model it returns declares its capabilities (``model_capabilities()``)."""

    prefix: str
    build: Callable[[str, str, Settings], BaseChatModel]
    """``(spec, target, settings) -> model``."""
    target: Literal["none", "required"]
    example: str


PROVIDERS: dict[str, Provider] = {
    "local": Provider(
        "local",
        lambda spec, _target, s: build_transformers(spec, ensure_local_model(s), s),
        target="none",
        example="local",
    ),
    "hf": Provider(
        "hf",
        lambda spec, target, s: build_transformers(spec, resolve_hf_target(target, s), s),
        target="required",
        example="hf:HuggingFaceTB/SmolLM2-360M-Instruct",
    ),
    "openai": Provider(
        "openai",
        lambda _spec, target, s: build_openai(target, s),
        target="required",
        example="openai:gpt-4o",
    ),
}
VALID_SPECS = "local, hf:<hub id or local path>, openai:<model>"


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model spec."""

    kind: str
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
            hint=f"build a ScriptedChatModel in tests; otherwise one of {VALID_SPECS}",
        )
    provider = PROVIDERS.get(kind)
    if provider is None or (provider.target == "none") == bool(sep):
        raise ConfigError(f"unknown model spec {text!r}", hint=f"valid forms: {VALID_SPECS}")
    if provider.target == "required" and not target:
        raise ConfigError(
            f"model spec {text!r} names no model", hint=f"for example {provider.example}"
        )
    return ModelSpec(kind, target)


def build_chat_model(spec: str, settings: Settings) -> BaseChatModel:
    """Build the chat model named by ``spec`` (see module doc).

    Raises ConfigError for bad specs or missing credentials and ModelUnavailable when the
    model files are missing; both carry a fix hint. Local models are cached in-process,
    so building the same spec again is instant.
    """
    parsed = parse_spec(spec)
    return PROVIDERS[parsed.kind].build(str(parsed), parsed.target, settings)


def clear_model_cache() -> None:
    """Forget in-process loaded local models (tests; frees memory)."""
    clear_loaded_models()
