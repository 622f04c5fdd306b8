"""``openai:<model>``: OpenAI or any OpenAI-compatible server (vLLM, Ollama, llama.cpp)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import SecretStr
from shopagent.agent.models.capabilities import ModelCapabilities
from shopagent.agent.models.usage import estimate_usage, estimated_usage_chunk

from shopagent.errors import ConfigError
from shopagent.settings import Settings

OPENAI_MAX_RETRIES = 2  # the openai client's own retry layer (backoff 0.5 s, 1 s, ...)
_PLACEHOLDER_API_KEY = "not-needed"  # local OpenAI-compatible servers ignore the key
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


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

        def model_capabilities(self) -> ModelCapabilities:
            """What the OpenAI chat API offers (tools, JSON mode, streaming)."""
            return ModelCapabilities(
                tool_calling=True,
                json_output=True,
                streaming=True,
                name=f"openai:{self.model_name}",
                local=_is_loopback_url(self.openai_api_base),
            )

        @staticmethod
        def _fill_usage(messages: list[BaseMessage], result: ChatResult) -> ChatResult:
            for generation in result.generations:
                message = generation.message
                if isinstance(message, AIMessage) and not message.usage_metadata:
                    message.usage_metadata = estimate_usage(messages, message)
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
                yield estimated_usage_chunk(messages, text)

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
                yield estimated_usage_chunk(messages, text)

    return OpenAIChatModel


def build_openai(model_name: str, settings: Settings) -> BaseChatModel:
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
