"""What a chat model can do. Graph nodes branch on this, never on model classes.

Every model ShopAgent builds declares its capabilities with a ``model_capabilities()``
method (the provider knows what its backend supports); models from elsewhere are judged by
which LangChain methods they override.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableBinding


@dataclass(frozen=True)
class ModelCapabilities:
    """What a chat model can do; graph nodes branch on this, not on model classes."""

    tool_calling: bool  # bind_tools works and the model emits structured tool calls
    json_output: bool  # with_structured_output / JSON mode is supported
    streaming: bool  # .stream() yields tokens incrementally
    name: str  # the spec it was built from, e.g. "local", "openai:gpt-4o-mini"
    local: bool  # inference runs on this machine (no data leaves it)


def capabilities(model: Any) -> ModelCapabilities:
    """Capabilities of a chat model (bound models too: the result of ``bind_tools``/``bind``)."""
    inner = model
    while isinstance(inner, RunnableBinding):
        inner = inner.bound
    declared = getattr(inner, "model_capabilities", None)
    if callable(declared):
        return declared()
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
