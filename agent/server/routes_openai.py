"""An OpenAI-compatible ``POST /v1/chat/completions`` (streaming and not) and ``/v1/models``.

The assistant keeps each conversation server-side, so only the newest ``user`` message of
``messages`` is answered; earlier messages are not replayed. Which conversation:

1. header ``X-Thread-Id``: a thread of this key (created by the threads API, or created now);
2. else the request's ``user`` field: a stable thread per (key, user);
3. else a new thread for this one request.

The thread id is returned in the ``X-Thread-Id`` response header and in ``shopagent.thread_id``.
A pending return/cancel confirmation is answered by a plain next message ("yes"/"no").
The shopper's identity comes from ``X-Shopper-Token`` only (pass it with the client's
``default_headers``), never from the body.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, ConfigDict, Field
from shopagent.agent.server.auth import CallerDep, KeyDep
from shopagent.agent.server.errors import ApiError
from shopagent.agent.server.logs import request_id_var
from shopagent.agent.server.sse import frame, sse_response
from shopagent.agent.server.turns import ServerRuntime, new_thread_id, with_cards
from shopagent.agent.service import validate_message
from starlette.responses import JSONResponse

router = APIRouter(prefix="/v1", tags=["openai"])
MODEL_ID = "shopagent"


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """The OpenAI request; sampling parameters are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1, max_length=1000)
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = Field(None, max_length=256, description="Your id for the conversation.")
    n: int = 1


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "shopagent"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def _text(message: ChatMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    parts = message.content or []
    return "".join(str(p.get("text", "")) for p in parts if p.get("type") == "text")


def _last_user_message(body: ChatCompletionRequest) -> str:
    for message in reversed(body.messages):
        if message.role == "user":
            text = _text(message)
            if text.strip():
                return validate_message(text)  # refused before a thread is created
            break
    raise ApiError(400, "no_user_message", "the last user message is missing or empty")


def _thread_for(rt: ServerRuntime, caller, body: ChatCompletionRequest, header: str | None) -> str:
    if header:
        return rt.owned_thread(header.strip(), caller, create=True)
    if body.user:
        digest = hashlib.sha256(f"{caller.key.id}:{body.user}".encode()).hexdigest()[:32]
        return rt.owned_thread(f"oai_{digest}", caller, create=True)
    return rt.owned_thread(new_thread_id(), caller, create=True)


def _usage(result: dict[str, Any], prompt: str) -> dict[str, int]:
    completion = len(result.get("answer", "").split())
    prompt_tokens = max(0, int(result.get("tokens") or 0) - completion) or len(prompt.split())
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion,
    }


def _extras(result: dict[str, Any]) -> dict[str, Any]:
    keep = ("thread_id", "intent", "answer_source", "confirmation", "products", "latency_ms")
    return {k: result.get(k) for k in keep}


@router.get("/models", response_model=ModelList, summary="The one model: `shopagent`")
async def list_models(key: KeyDep) -> ModelList:
    return ModelList(data=[ModelCard(id=MODEL_ID, created=1_700_000_000)])


@router.post(
    "/chat/completions",
    summary="OpenAI-compatible chat completion (JSON, or SSE with `stream: true`)",
    description=__doc__,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def chat_completions(
    request: Request,
    body: ChatCompletionRequest,
    caller: CallerDep,
    x_thread_id: Annotated[str | None, Header()] = None,
):
    rt: ServerRuntime = request.app.state.server
    if body.n != 1:
        raise ApiError(400, "unsupported_n", "only n=1 is supported")
    message = _last_user_message(body)
    thread_id = _thread_for(rt, caller, body, x_thread_id)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    headers = {"X-Thread-Id": thread_id}
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        chunks = _chunks(rt, caller, thread_id, message, completion_id, created, include_usage)
        return sse_response(chunks, heartbeat_s=rt.config.heartbeat_s, headers=headers)
    result = with_cards(await rt.ask(thread_id, message, caller))
    answer = {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": MODEL_ID,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": result["answer"], "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": _usage(result, message),
        "system_fingerprint": None,
        "shopagent": _extras(result),
    }
    return JSONResponse(answer, headers=headers)


async def _chunks(
    rt: ServerRuntime,
    caller,
    thread_id: str,
    message: str,
    completion_id: str,
    created: int,
    include_usage: bool,
) -> AsyncIterator[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        body = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            **extra,
        }
        return frame(body)

    yield chunk({"role": "assistant", "content": ""})
    final: dict[str, Any] | None = None
    try:
        async for batch in rt.stream_batches(thread_id, message, caller):
            pieces = [chunk({"content": e["text"]}) for e in batch if e.get("type") == "token"]
            if pieces:
                yield b"".join(pieces)
            for event in batch:
                if event.get("type") == "final":
                    final = event
            errors = [e for e in batch if e.get("type") == "error"]
            if errors:
                event = errors[0]
                yield frame(
                    {"error": {"message": event.get("message"), "type": "api_error",
                               "code": event.get("code"), "request_id": event.get("request_id")}}
                )  # fmt: skip
                yield frame("[DONE]")
                return
    except ApiError as exc:
        yield frame({"error": {"message": exc.message, "type": "api_error", "code": exc.code,
                               "request_id": request_id_var.get()}})  # fmt: skip
        yield frame("[DONE]")
        return
    tail = [chunk({}, "stop", shopagent=_extras(final or {}))]
    if include_usage and final is not None:
        usage = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL_ID,
            "choices": [],
            "usage": _usage(final, message),
        }
        tail.append(frame(usage))
    tail.append(frame("[DONE]"))
    yield b"".join(tail)
