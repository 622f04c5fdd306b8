"""The threads API: create a thread, post a message (JSON or SSE), read history, answer a
pending confirmation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, ConfigDict, Field
from shopagent.agent.server.auth import CallerDep
from shopagent.agent.server.confirmations import Confirmation
from shopagent.agent.server.errors import ApiError
from shopagent.agent.server.logs import request_id_var
from shopagent.agent.server.sse import frame, sse_response
from shopagent.agent.server.turns import ServerRuntime, with_cards
from shopagent.agent.service import MAX_MESSAGE_CHARS, validate_message
from starlette.responses import JSONResponse

router = APIRouter(prefix="/v1/threads", tags=["threads"])

STREAM_DOC = (
    "With `stream: true` (or `Accept: text/event-stream`) the answer is a Server-Sent Events "
    "stream: `node`, `tool_started`, `tool_finished`, `token` (verified answer text), "
    "`confirmation` (a yes/no is needed), then `final` (the turn, as in the JSON answer) or "
    "`error`."
)


class ThreadCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    thread_id: str | None = Field(
        None, description="Your own id (1-64 of [A-Za-z0-9_.:-]); default: generated."
    )


class ThreadOut(BaseModel):
    thread_id: str
    created_at: str | None = None
    customer: str | None = Field(None, description="The signed-in shopper owning the thread.")
    pending_confirmation: Confirmation | None = None


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    stream: bool = False


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: bool = Field(description="true: go ahead; false: do not.")
    stream: bool = False


class ProductCard(BaseModel):
    product_id: str
    name: str
    brand: str = ""
    category: str = ""
    sku: str = ""
    price: str = ""
    currency: str = "USD"
    stock: int | None = None


class TurnOut(BaseModel):
    """One answered turn (``TurnResult`` plus product cards)."""

    model_config = ConfigDict(extra="allow")

    answer: str
    intent: str
    thread_id: str
    answer_source: str = ""
    confirmation: Confirmation | None = None
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    products: list[ProductCard] = Field(default_factory=list)
    latency_ms: float = 0.0


class MessagesOut(BaseModel):
    thread_id: str
    messages: list[dict[str, str]]


def _rt(request: Request) -> ServerRuntime:
    return request.app.state.server


def _wants_stream(flag: bool, accept: str | None) -> bool:
    return flag or "text/event-stream" in (accept or "")


async def _primed(
    batches: AsyncIterator[list[dict[str, Any]]],
) -> AsyncIterator[list[dict[str, Any]]]:
    """``batches`` with the first one computed now (what it raises is raised here)."""
    first = await anext(batches)

    async def chained() -> AsyncIterator[list[dict[str, Any]]]:
        yield first
        async for batch in batches:
            yield batch

    return chained()


async def _frames(batches: AsyncIterator[list[dict[str, Any]]]) -> AsyncIterator[bytes]:
    """SSE frames, one write per batch of events known at the same moment."""
    try:
        async for batch in batches:
            yield b"".join(frame(event, event=event.pop("type")) for event in batch)
    except ApiError as exc:
        yield frame(
            {"status": exc.status, "code": exc.code, "message": exc.message,
             "request_id": request_id_var.get()},
            event="error",
        )  # fmt: skip


@router.post("", status_code=201, response_model=ThreadOut, summary="Create a thread")
async def create_thread(request: Request, caller: CallerDep, body: ThreadCreate | None = None):
    rt = _rt(request)
    thread_id = rt.create_thread(caller, body.thread_id if body else None)
    owner = rt.keys.thread(thread_id)
    return ThreadOut(thread_id=thread_id, created_at=owner.created_at if owner else None,
                     customer=caller.customer)  # fmt: skip


@router.get("/{thread_id}", response_model=ThreadOut, summary="A thread and its pending action")
async def get_thread(request: Request, thread_id: str, caller: CallerDep):
    rt = _rt(request)
    rt.owned_thread(thread_id, caller)
    owner = rt.keys.thread(thread_id)
    return ThreadOut(
        thread_id=thread_id,
        created_at=owner.created_at if owner else None,
        customer=owner.customer if owner else None,
        pending_confirmation=await rt.pending(thread_id),
    )


@router.get("/{thread_id}/messages", response_model=MessagesOut, summary="Thread history")
async def get_messages(request: Request, thread_id: str, caller: CallerDep):
    rt = _rt(request)
    rt.owned_thread(thread_id, caller)
    return MessagesOut(thread_id=thread_id, messages=await rt.ready_agent.history(thread_id))


@router.post(
    "/{thread_id}/messages",
    response_model=TurnOut,
    summary="Send a message; the answer as JSON or as an SSE stream",
    description=STREAM_DOC,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def post_message(
    request: Request,
    thread_id: str,
    body: MessageIn,
    caller: CallerDep,
    accept: Annotated[str | None, Header()] = None,
):
    rt = _rt(request)
    message = validate_message(body.message)  # refused before the thread or a stream starts
    rt.owned_thread(thread_id, caller)
    if _wants_stream(body.stream, accept):
        events = rt.stream_batches(thread_id, message, caller)
        return sse_response(
            _frames(events),
            heartbeat_s=rt.config.heartbeat_s,
            headers={"X-Thread-Id": thread_id},
        )
    return JSONResponse(with_cards(await rt.ask(thread_id, message, caller)))


@router.get(
    "/{thread_id}/confirmation",
    summary="The action waiting for a yes/no, if any",
    response_model=dict[str, Any] | None,
)
async def get_confirmation(request: Request, thread_id: str, caller: CallerDep):
    rt = _rt(request)
    rt.owned_thread(thread_id, caller)
    return await rt.pending(thread_id)


@router.post(
    "/{thread_id}/confirmation",
    response_model=TurnOut,
    summary="Answer the pending confirmation (approve or decline)",
    description="409 when the thread waits for nothing. " + STREAM_DOC,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def post_confirmation(
    request: Request,
    thread_id: str,
    body: ConfirmIn,
    caller: CallerDep,
    accept: Annotated[str | None, Header()] = None,
):
    rt = _rt(request)
    rt.owned_thread(thread_id, caller)
    if _wants_stream(body.stream, accept):
        # the first batch first: "nothing to confirm" is a plain 409, not a stream
        events = await _primed(rt.stream_batches(thread_id, None, caller, approve=body.approve))
        return sse_response(
            _frames(events), heartbeat_s=rt.config.heartbeat_s, headers={"X-Thread-Id": thread_id}
        )
    return JSONResponse(with_cards(await rt.confirm(thread_id, body.approve, caller)))
