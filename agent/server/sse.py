"""Server-Sent Events (``text/event-stream``) through sse-starlette: framing, keep-alive
pings at the configured interval, and a stream that stops when the client goes away.

Frames are encoded here (:func:`frame`) so a route can send the events it knows at the same
moment in one write (``b"".join(...)``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import EventSourceResponse, ServerSentEvent

SEP = "\n"


def frame(data: Any, event: str | None = None, id: str | None = None) -> bytes:
    """One encoded SSE event; ``data`` is JSON-encoded unless it is already a string."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return ServerSentEvent(data=text, event=event, id=id, sep=SEP).encode()


def _ping() -> ServerSentEvent:
    return ServerSentEvent(comment="ping", sep=SEP)


def sse_response(
    frames: AsyncIterator[bytes], *, heartbeat_s: float, headers: dict[str, str]
) -> EventSourceResponse:
    """Stream ``frames``, with a ``: ping`` comment whenever nothing was sent for
    ``heartbeat_s`` seconds (proxies close idle connections)."""
    return EventSourceResponse(
        frames,
        ping=heartbeat_s,
        ping_message_factory=_ping,
        sep=SEP,
        headers={"Cache-Control": "no-cache", **headers},
    )
