"""A real OpenAI-compatible HTTP server for tests, on 127.0.0.1 (uvicorn + FastAPI).

    with serve_fake_openai() as server:
        server.reply({"content": "hi"}, {"prompt_tokens": 3, "completion_tokens": 1})
        server.tool_call("RouteDecision", {"intents": ["greeting"], "confidence": 0.9})
        server.fail(429, retry_after_ms=10)
        model = build_chat_model("openai:test", Settings(openai_base_url=server.url, ...))

Responses are scripted in order (one per POST /v1/chat/completions); every request body is
kept in ``requests``. ``fail`` can send ``retry-after-ms`` so the openai client's retry waits
milliseconds instead of its default backoff.

Capability probes (agent/models/probe.py: the ``shopagent_probe`` tool, the JSON-mode
request) are answered as a capable model answers them, outside the script and ``requests``
(kept in ``probes``), so a service opened over this server probes it without eating the
script. ``answer_probes = False`` scripts them instead (the probe's own tests).

Standing faults (fault tests) apply to every request until cleared, before the script:

        server.set_fault(delay_s=60)             # hang: no answer for a minute
        server.set_fault(429, retry_after_ms=50) # always rate limited
        server.set_fault(500)                    # always failing
        server.clear_fault()
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@dataclass(frozen=True)
class Fault:
    """A standing fault: wait ``delay_s``, then answer ``status`` (None: go on to the script)."""

    status: int | None = None
    delay_s: float = 0.0
    retry_after_ms: int | None = None


class FakeOpenAI:
    """Scripted replies for ``POST /v1/chat/completions``."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, Any], dict[str, str]]] = []
        self.requests: list[dict[str, Any]] = []
        self.probes: list[dict[str, Any]] = []
        self.answer_probes = True
        self.fault: Fault | None = None
        self.closing = threading.Event()
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self._complete)
        self.url = ""

    async def _complete(self, request: Request) -> JSONResponse:
        body = await request.json()
        if self.answer_probes and (probe := _probe_reply(body)) is not None:
            self.probes.append(body)
            return JSONResponse(probe)
        self.requests.append({"body": body, "auth": request.headers.get("authorization")})
        fault = self.fault
        if fault is not None:
            deadline = time.monotonic() + fault.delay_s
            while time.monotonic() < deadline and not self.closing.is_set():
                await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
            if fault.status is not None:
                return self._error(fault.status, fault.retry_after_ms)
        if not self.script:
            return JSONResponse({"error": {"message": "script exhausted"}}, status_code=400)
        status, payload, headers = self.script.pop(0)
        return JSONResponse(payload, status_code=status, headers=headers)

    def reset(self) -> None:
        self.script.clear()
        self.requests.clear()

    def reply(self, message: dict[str, Any], usage: dict[str, int] | None = None) -> None:
        """A 200 chat completion with ``message`` (``content`` and/or ``tool_calls``)."""
        finish = "tool_calls" if message.get("tool_calls") else "stop"
        payload: dict[str, Any] = {
            "id": f"chatcmpl-{len(self.script)}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "test-model",
            "choices": [
                {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}
            ],
        }
        if usage is not None:
            payload["usage"] = {**usage, "total_tokens": sum(usage.values())}
        self.script.append((200, payload, {}))

    def tool_call(
        self,
        name: str,
        args: dict[str, Any] | str,
        usage: dict[str, int] | None = None,
        *,
        call_id: str = "call_1",
    ) -> None:
        """A 200 reply calling tool ``name``; a str ``args`` is sent as-is (malformed JSON)."""
        arguments = args if isinstance(args, str) else json.dumps(args)
        self.reply(
            {
                "content": None,
                "tool_calls": [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {"name": name, "arguments": arguments},
                    }
                ],
            },
            usage,
        )

    def fail(self, status: int, *, retry_after_ms: int | None = None) -> None:
        """An error response (429, 500...), optionally telling the client when to retry."""
        self.script.append(_error_parts(status, retry_after_ms))

    def set_fault(
        self, status: int | None = None, *, delay_s: float = 0.0, retry_after_ms: int | None = None
    ) -> None:
        """From now on every request waits ``delay_s`` and then answers ``status`` (None: the
        script answers after the delay) until :meth:`clear_fault`."""
        self.fault = Fault(status, delay_s, retry_after_ms)

    def clear_fault(self) -> None:
        self.fault = None

    @staticmethod
    def _error(status: int, retry_after_ms: int | None) -> JSONResponse:
        _, payload, headers = _error_parts(status, retry_after_ms)
        return JSONResponse(payload, status_code=status, headers=headers)


def _probe_reply(body: dict[str, Any]) -> dict[str, Any] | None:
    """A capable model's answer to a capability probe request, or None (not a probe)."""
    names = [t.get("function", {}).get("name") for t in body.get("tools") or []]
    last = str((body.get("messages") or [{}])[-1].get("content") or "")
    if names == ["shopagent_probe"]:
        call = {"id": "probe", "type": "function",
                "function": {"name": "shopagent_probe", "arguments": '{"value": 7}'}}  # fmt: skip
        message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [call]}
    elif (body.get("response_format") or {}).get("type") == "json_object" and last.startswith(
        'Reply with the JSON object {"ok": true}'
    ):
        message = {"role": "assistant", "content": '{"ok": true}'}
    else:
        return None
    finish = "tool_calls" if message.get("tool_calls") else "stop"
    return {
        "id": "chatcmpl-probe",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "test-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25},
    }


def _error_parts(
    status: int, retry_after_ms: int | None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    headers = {"retry-after-ms": str(retry_after_ms)} if retry_after_ms is not None else {}
    kind = "rate_limit_exceeded" if status == 429 else "server_error"
    return status, {"error": {"message": "boom", "type": kind}}, headers


@contextmanager
def serve_fake_openai() -> Iterator[FakeOpenAI]:
    """Run a :class:`FakeOpenAI` on a free loopback port; ``url`` is its ``/v1`` base URL."""
    fake = FakeOpenAI()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(fake.app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake OpenAI server did not start")
            time.sleep(0.02)
        fake.url = f"http://127.0.0.1:{port}/v1"
        yield fake
    finally:
        fake.closing.set()  # delayed requests answer at once
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
