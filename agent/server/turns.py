"""Running turns for the HTTP routes: thread ownership, one turn at a time per thread,
events for streaming, product cards, metrics.

Streaming sends only verified text by default: ``token`` events carry the answer after the
verifier accepted it (or the template replaced it), cut into small pieces, so a shopper
never sees an unverified price. ``stream_drafts`` adds the model's raw tokens as ``draft``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from shopagent.agent.server.auth import Caller
from shopagent.agent.server.config import ServerConfig
from shopagent.agent.server.errors import ApiError, shopagent_error_parts
from shopagent.agent.server.keys import KeyStore
from shopagent.agent.server.logs import request_id_var, thread_id_var
from shopagent.agent.server.metrics import Metrics
from shopagent.agent.server.ratelimit import Limiter, RateLimiter
from shopagent.agent.service import ShopAgent, validate_message

from shopagent.errors import NothingToConfirm, ShopAgentError

log = logging.getLogger("shopagent.server.turns")

THREAD_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_PIECE = re.compile(r"\S+\s*|\s+")


def new_thread_id() -> str:
    return f"th_{uuid.uuid4().hex}"


@dataclass
class ServerRuntime:
    """What the routes share (``app.state.server``)."""

    config: ServerConfig
    keys: KeyStore
    agent: ShopAgent | None = None
    metrics: Metrics = field(default_factory=Metrics)
    limiter: Limiter = field(default_factory=RateLimiter)
    _locks: weakref.WeakValueDictionary[str, asyncio.Lock] = field(
        default_factory=weakref.WeakValueDictionary
    )

    @property
    def ready_agent(self) -> ShopAgent:
        if self.agent is None:
            raise ApiError(503, "not_ready", "the assistant is starting; retry shortly")
        return self.agent

    def lock(self, thread_id: str) -> asyncio.Lock:
        lock = self._locks.get(thread_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[thread_id] = lock
        return lock

    # -- ownership -------------------------------------------------------------------------
    def check_customer(self, caller: Caller) -> None:
        """A shopper token naming no customer of this store is refused (403)."""
        if caller.customer is None:
            return
        orders = self.ready_agent.context.orders
        if orders.customer_by_email(caller.customer) is None:
            raise ApiError(403, "unknown_customer", "the shopper token names no customer")

    def create_thread(self, caller: Caller, thread_id: str | None = None) -> str:
        thread_id = thread_id or new_thread_id()
        if not THREAD_ID.match(thread_id):
            raise ApiError(400, "invalid_thread_id", "thread ids are 1-64 of [A-Za-z0-9_.:-]")
        self.check_customer(caller)
        if not self.keys.claim_thread(thread_id, caller.key.id, caller.customer):
            raise ApiError(409, "thread_exists", f"thread {thread_id!r} exists already")
        return thread_id

    def owned_thread(self, thread_id: str, caller: Caller, *, create: bool = False) -> str:
        """``thread_id`` when this caller may use it; 404 otherwise (existence is not
        revealed). ``create``: an unknown id becomes a new thread of this caller."""
        if not THREAD_ID.match(thread_id):
            raise ApiError(404, "thread_not_found", "no such thread")
        owner = self.keys.thread(thread_id)
        if owner is None and create:
            self.check_customer(caller)
            if self.keys.claim_thread(thread_id, caller.key.id, caller.customer):
                thread_id_var.set(thread_id)
                return thread_id
            owner = self.keys.thread(thread_id)
        if owner is None or owner.key_id != caller.key.id:
            raise ApiError(404, "thread_not_found", "no such thread")
        if owner.customer is not None and owner.customer != caller.customer:
            raise ApiError(404, "thread_not_found", "no such thread")
        if owner.customer is None and caller.customer is not None:
            self.check_customer(caller)
            self.keys.bind_customer(thread_id, caller.customer)
        thread_id_var.set(thread_id)
        return thread_id

    # -- turns -----------------------------------------------------------------------------
    async def ask(self, thread_id: str, message: str, caller: Caller) -> dict[str, Any]:
        """One turn; the TurnResult as JSON-ready dict."""
        agent = self.ready_agent
        message = validate_message(message)
        async with self.lock(thread_id):
            try:
                result = await agent.ask(
                    message, thread_id=thread_id, customer_email=caller.customer
                )
            except ShopAgentError as exc:
                self.metrics.turn_errors.labels(type(exc).__name__).inc()
                raise
        out = result.model_dump(mode="json")
        self._observe(out, len(message), result.carried_tool_calls)
        return out

    async def confirm(self, thread_id: str, approve: bool, caller: Caller) -> dict[str, Any]:
        """Answer the pending confirmation (409 when there is none)."""
        agent = self.ready_agent
        async with self.lock(thread_id):
            try:
                result = await agent.confirm(thread_id, approve, customer_email=caller.customer)
            except NothingToConfirm:
                raise _nothing_to_confirm() from None
        out = result.model_dump(mode="json")
        self._observe(out, 0, result.carried_tool_calls)
        return out

    async def pending(self, thread_id: str) -> dict[str, Any] | None:
        return await self.ready_agent.pending_confirmation(thread_id)

    async def stream(
        self, thread_id: str, message: str | None, caller: Caller, *, approve: bool | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Events of one turn: ``node``, ``tool_started``/``tool_finished``, ``draft``
        (optional), ``token`` (verified text), ``confirmation``, ``final``; or ``error``.

        ``approve`` answers the pending confirmation instead of a message.
        """
        async for batch in self.stream_batches(thread_id, message, caller, approve=approve):
            for event in batch:
                yield event

    async def stream_batches(
        self, thread_id: str, message: str | None, caller: Caller, *, approve: bool | None = None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """:meth:`stream`, with the events known at the same moment in one list (one write).

        With ``approve`` and nothing pending, ApiError 409 is raised before the first batch
        (await it before answering to send a plain HTTP error instead of a stream)."""
        agent = self.ready_agent
        if approve is None:
            message = validate_message(message or "")
        async with self.lock(thread_id):
            events = agent.stream(
                message, thread_id=thread_id, customer_email=caller.customer, approve=approve
            )
            try:
                async for event in events:
                    batch = self._batch(event, message)
                    if batch:
                        yield batch
            except NothingToConfirm:
                raise _nothing_to_confirm() from None
            except ShopAgentError as exc:
                self.metrics.turn_errors.labels(type(exc).__name__).inc()
                status, code, text, hint = shopagent_error_parts(exc)
                yield [{"type": "error", "status": status, "code": code, "message": text,
                        "hint": hint, "request_id": request_id_var.get()}]  # fmt: skip
            except Exception:
                self.metrics.turn_errors.labels("internal").inc()
                log.exception("turn failed while streaming")
                yield [{"type": "error", "status": 500, "code": "internal_error",
                        "message": "internal error; quote the request_id",
                        "request_id": request_id_var.get()}]  # fmt: skip
            finally:
                await events.aclose()

    def _batch(self, event: dict[str, Any], message: str | None) -> list[dict[str, Any]]:
        """The SSE events for one event of the agent's stream."""
        kind = event.get("type")
        if kind == "token":
            return [{"type": "draft", "text": event["text"]}] if self.config.stream_drafts else []
        if kind == "node":
            return [{"type": "node", "node": event.get("node")}]
        if kind in ("tool_started", "tool_finished"):
            return [event]
        if kind != "final":
            return [event]
        result = event["result"]
        self._observe(result, len(message or ""), int(event.get("carried") or 0))
        batch: list[dict[str, Any]] = [
            {"type": "token", "text": piece} for piece in answer_pieces(result.get("answer", ""))
        ]
        if result.get("confirmation"):
            batch.append({"type": "confirmation", **result["confirmation"]})
        batch.append({"type": "final", **with_cards(result)})
        return batch

    def _observe(self, result: dict[str, Any], chars: int, carried: int = 0) -> None:
        """Metrics and one log record; ``carried``: tool calls already counted."""
        self.metrics.observe_turn(result, skip_calls=carried)
        log.info(
            "turn answered",
            extra={
                "intent": result.get("intent"),
                "answer_source": result.get("answer_source"),
                "tools": [c.get("name") for c in result.get("tool_calls") or []],
                "latency_ms": result.get("latency_ms"),
                "message_chars": chars,
                "tokens": result.get("tokens"),
            },
        )


def _nothing_to_confirm() -> ApiError:
    return ApiError(409, "nothing_to_confirm", "this thread is not waiting for a yes/no")


def answer_pieces(text: str, size: int = 3) -> list[str]:
    """The answer in pieces of a few words (whitespace kept, so pieces join to ``text``)."""
    words = _PIECE.findall(text)
    return ["".join(words[i : i + size]) for i in range(0, len(words), size)]


def product_cards(tool_calls: list[dict[str, Any]], limit: int = 6) -> list[dict[str, Any]]:
    """Cards for the products a turn's tools returned (with live stock when quoted)."""
    cards: dict[str, dict[str, Any]] = {}
    stock: dict[str, dict[str, Any]] = {}
    for call in tool_calls:
        result = call.get("result") if call.get("ok") else None
        if not isinstance(result, dict):
            continue
        for hit in result.get("hits") or []:
            cards.setdefault(
                hit["product_id"],
                {
                    "product_id": hit["product_id"],
                    "name": hit.get("name", ""),
                    "brand": hit.get("brand", ""),
                    "category": hit.get("category", ""),
                    "sku": hit.get("sku", ""),
                    "price": str(hit.get("price", "")),
                    "currency": hit.get("currency", "USD"),
                },
            )
        if call.get("name") == "get_product_details" and result.get("product_id"):
            variants = result.get("variants") or [{}]
            cards.setdefault(
                result["product_id"],
                {
                    "product_id": result["product_id"],
                    "name": result.get("name", ""),
                    "brand": result.get("brand", ""),
                    "category": result.get("category", ""),
                    "sku": variants[0].get("sku", ""),
                    "price": str(variants[0].get("price", "")),
                    "currency": "USD",
                },
            )
        for quote in result.get("quotes") or []:
            stock[quote["sku"]] = quote
    out = []
    for card in list(cards.values())[:limit]:
        quote = stock.get(card["sku"])
        if quote:
            card = {**card, "price": str(quote["price"]), "stock": int(quote["stock"])}
        out.append(card)
    return out


def with_cards(result: dict[str, Any]) -> dict[str, Any]:
    return {**result, "products": product_cards(result.get("tool_calls") or [])}
