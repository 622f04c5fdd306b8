"""Server-Sent Events framing (``text/event-stream``) with keep-alive comments."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import StreamingResponse

SSE_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # nginx: do not buffer the stream
}


def frame(data: Any, event: str | None = None, id: str | None = None) -> str:
    """One SSE frame; ``data`` is JSON-encoded unless it is already a string."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    lines = []
    if id is not None:
        lines.append(f"id: {id}")
    if event is not None:
        lines.append(f"event: {event}")
    lines.extend(f"data: {line}" for line in text.split("\n"))
    return "\n".join(lines) + "\n\n"


async def with_heartbeat(frames: AsyncIterator[str], every_s: float) -> AsyncIterator[str]:
    """``frames`` plus a ``: ping`` comment whenever nothing was sent for ``every_s``.

    The producer runs in its own task; frames it made while the previous write was under
    way go out together in one write."""
    queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=64)

    async def pump() -> None:
        try:
            async for item in frames:
                await queue.put(item)
        finally:
            await queue.put(None)

    task = asyncio.create_task(pump())
    try:
        done = False
        while not done:
            try:
                async with asyncio.timeout(every_s):
                    item = await queue.get()
            except TimeoutError:
                yield ": ping\n\n"
                continue
            parts = []
            while True:
                if item is None:
                    done = True
                    break
                parts.append(item)
                if queue.empty():
                    break
                item = queue.get_nowait()
            if parts:
                yield "".join(parts)
        await task  # re-raise what the producer raised (it already sent its error frame)
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def sse_response(frames: AsyncIterator[str], *, heartbeat_s: float, headers: dict[str, str]):
    return StreamingResponse(
        with_heartbeat(frames, heartbeat_s),
        media_type="text/event-stream",
        headers={**SSE_HEADERS, **headers},
    )
