"""The HTTP fuzz suites' requests and answers: a hostile request (:class:`Spec`), how it is
sent (in-process to the ASGI app, or over a raw socket) and the checks on what comes back
(classification and the error/stream shape). Used by tests/test_fuzz_http*.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import jwt
from fuzz_common import Outcome
from server_app import sse_events

EXAMPLES = int(os.environ.get("SHOPAGENT_FUZZ_EXAMPLES", "60"))
MAX_BODY = 64 * 1024
TIMEOUT_S = 30.0
ROLES = ("anon", "ada", "ben", "other", "pending", "new")
"""Threads the service has: anonymous, signed in as Ada or Ben, another key's, one waiting
for Ada's yes/no; ``new``: an unused valid id."""

PUBLIC = ("/healthz", "/readyz", "/widget", "/docs", "/openapi.json", "/")


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Spec:
    """One hostile request, before the service's real ids and keys are filled in.

    ``route`` may hold ``{t}``: the thread ``thread`` (a role of :data:`ROLES`, or ``=raw``).
    ``key``: ``key`` (valid), ``other`` (another integrator's), ``revoked``, ``none`` or
    ``=raw``; ``token``: ``none``, ``ada``, ``ben``, ``expired``, ``forged``, ``none-alg``,
    ``unknown``, ``=raw`` or a claims dict signed with the real secret.
    """

    method: str
    route: str
    thread: str = "anon"
    key: str = "key"
    key_header: str = "authorization"
    token: Any = "none"
    headers: tuple[tuple[bytes, bytes], ...] = ()
    content_type: bytes | None = None
    body: bytes = b""
    query: bytes = b""
    chunks: int = 1
    content_length: bytes | None = None


@dataclass
class Reply:
    status: int | None
    headers: dict[bytes, bytes]
    body: bytes
    errors: list[str] = field(default_factory=list)
    parser_refused: bool = False  # answered by uvicorn's HTTP parser, never reached the app


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _json(value: Any, ascii_only: bool) -> bytes:
    return _utf8(json.dumps(value, ensure_ascii=ascii_only))


def _request_text(req: dict[str, Any]) -> str:
    parts = [
        unquote(req["path"]),
        req["query"].decode("latin-1"),
        req["body"].decode("utf-8", "replace"),
    ]
    parts.extend(v.decode("utf-8", "replace") for _, v in req["headers"])
    for _, value in req["headers"]:
        with contextlib.suppress(Exception):
            parts.append(json.dumps(jwt.decode(value, options={"verify_signature": False})))
    return "\n".join(parts)


_SERVER_FAULTS = {"internal_error", "upstream_unavailable", "storage_unavailable", "turn_timeout",
                  "not_ready"}  # fmt: skip


def _classify(reply: Reply) -> tuple[str, list[tuple[str, Any]]]:
    """``2xx``/``4xx``/``5xx`` (a stream that ends in an error event counts as that error)."""
    status = reply.status or 0
    events: list[tuple[str, Any]] = []
    if b"text/event-stream" in reply.headers.get(b"content-type", b""):
        events = sse_events(reply.body.decode("utf-8", "replace"), strict=False)
        errors = [d for e, d in events if e == "error" or (isinstance(d, dict) and "error" in d)]
        if errors:
            error = errors[-1].get("error", errors[-1]) if isinstance(errors[-1], dict) else {}
            failed = int(error.get("status") or 0) >= 500 or error.get("code") in _SERVER_FAULTS
            status = 500 if failed else 400
    if status >= 500 or status == 0:
        return "5xx", events
    return ("4xx" if status >= 400 else "2xx"), events


def _check_shape(
    req: dict[str, Any], reply: Reply, events: list[tuple[str, Any]], outcome: Outcome
) -> None:
    status = reply.status or 0
    ctype = reply.headers.get(b"content-type", b"")
    if status and b"x-request-id" not in reply.headers and not reply.parser_refused:
        outcome.add("shape", "no X-Request-Id header")
    if req["method"] == "HEAD" or not status or reply.parser_refused:
        return
    if b"text/event-stream" in ctype:
        if not events:
            outcome.add("shape", f"empty event stream: {reply.body[:200]!r}")
            return
        if any(e == "unparsable" for e, _ in events):
            outcome.add("shape", "an event's data is not JSON")
        last_event, last = events[-1]
        if req["path"].startswith("/v1/chat/completions"):
            if last != "[DONE]":
                outcome.add("shape", f"stream does not end with [DONE]: {last!r:.200}")
        elif last_event not in ("final", "error"):
            outcome.add("shape", f"stream ends with {last_event!r}, not final/error")
        return
    if status >= 400:
        try:
            error = json.loads(reply.body)["error"]
            assert isinstance(error["code"], str) and error["code"]
            assert isinstance(error["message"], str) and error["message"]
            assert error["request_id"]
        except (ValueError, KeyError, TypeError, AssertionError):
            outcome.add("shape", f"{status} without the error shape: {reply.body[:200]!r}")
    elif b"application/json" in ctype:
        try:
            json.loads(reply.body)
        except ValueError:
            outcome.add("shape", f"{status} JSON answer does not parse: {reply.body[:200]!r}")


# --------------------------------------------------------------------------- transports


async def _asgi_call(app: Any, req: dict[str, Any]) -> Reply:
    """One request straight into the ASGI app (any header bytes; the body in pieces)."""
    body: bytes = req["body"]
    size = max(1, -(-len(body) // req["chunks"]))
    pieces = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    path = req["path"]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": req["method"],
        "scheme": "http",
        "path": unquote(path),  # what uvicorn hands the app
        "raw_path": _utf8(path),
        "query_string": req["query"],
        "root_path": "",
        "headers": [(k.lower(), v) for k, v in req["headers"]],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    finished = asyncio.Event()
    reply = Reply(None, {}, b"")
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        if pieces:
            piece = pieces.pop(0)
            return {"type": "http.request", "body": piece, "more_body": bool(pieces)}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            if reply.status is not None:
                reply.errors.append("response started twice")
            reply.status = message["status"]
            reply.headers = {k.lower(): v for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                finished.set()

    try:
        await asyncio.wait_for(app(scope, receive, send), TIMEOUT_S)
    except TimeoutError:
        reply.errors.append(f"no answer within {TIMEOUT_S} s")
    except Exception as exc:
        reply.errors.append(f"exception escaped the app: {exc!r}"[:300])
    finished.set()
    reply.body = b"".join(chunks)
    return reply


def _over_socket(url: str, req: dict[str, Any]) -> Reply:
    """One request over a real TCP connection, bytes as given (CR/LF kept out of header
    values: those would only cut the request, which the HTTP parser answers itself)."""
    host, port = url.removeprefix("http://").split(":")
    target = req["path"] + ("?" + req["query"].decode("latin-1") if req["query"] else "")
    head = [_utf8(f"{req['method']} {target} HTTP/1.1")]
    for name, value in req["headers"]:
        if name.lower() in (b"content-length", b"transfer-encoding", b"connection"):
            continue
        clean = value.replace(b"\r", b"").replace(b"\n", b"")
        name = name.replace(b"\r", b"").replace(b"\n", b"").replace(b":", b"") or b"x"
        head.append(name + b": " + clean)
    head.append(b"content-length: " + str(len(req["body"])).encode())
    head.append(b"connection: close")
    raw = b"\r\n".join(head) + b"\r\n\r\n" + req["body"]
    reply = Reply(None, {}, b"")
    data = b""
    with socket.create_connection((host, int(port)), timeout=TIMEOUT_S) as sock:
        with contextlib.suppress(OSError):  # the server may answer 413 and close early
            sock.sendall(raw)
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except TimeoutError:
            reply.errors.append(f"no answer within {TIMEOUT_S} s")
        except OSError:
            pass  # reset after the answer (413 with unread body)
    head_bytes, _, body = data.partition(b"\r\n\r\n")
    if not head_bytes:
        return reply
    lines = head_bytes.split(b"\r\n")
    reply.status = int(lines[0].split()[1])
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        reply.headers[name.strip().lower()] = value.strip()
    if reply.headers.get(b"transfer-encoding") == b"chunked":
        body = _dechunk(body)
    reply.body = body
    reply.parser_refused = reply.status == 400 and body == b"Invalid HTTP request received."
    return reply


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return out
