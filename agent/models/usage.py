"""Token usage for every reply: exact where the backend reports it, estimated otherwise."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGenerationChunk


def usage(input_tokens: int, output_tokens: int) -> UsageMetadata:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }


def estimate_tokens(text: str) -> int:
    """Rough token count (~4 characters a token) when no tokenizer is available offline."""
    return math.ceil(len(text) / 4) if text else 0


def message_text(message: BaseMessage) -> str:
    text = message.text
    if isinstance(message, AIMessage) and message.tool_calls:
        calls = [{"name": c["name"], "args": c["args"]} for c in message.tool_calls]
        text = f"{text}\n{json.dumps(calls, ensure_ascii=False)}".strip()
    return text


def estimate_usage(messages: Sequence[BaseMessage], reply: BaseMessage) -> UsageMetadata:
    prompt = sum(estimate_tokens(message_text(m)) + 4 for m in messages)
    return usage(prompt, estimate_tokens(message_text(reply)))


def estimated_usage_chunk(messages: list[BaseMessage], text: str) -> ChatGenerationChunk:
    usage = estimate_usage(messages, AIMessage(content=text))
    return ChatGenerationChunk(
        message=AIMessageChunk(
            content="", usage_metadata=usage, response_metadata={"usage_estimated": True}
        )
    )
