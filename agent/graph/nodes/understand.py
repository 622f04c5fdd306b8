"""understand: intent + slots for the turn, identity, and what "it" refers to."""

from __future__ import annotations

import logging
from typing import Any

from langgraph.runtime import Runtime
from shopagent.agent.graph.context import AgentContext, remaining
from shopagent.agent.graph.state import AgentState, last_user_text
from shopagent.agent.safety.guardrails import detect_injection
from shopagent.agent.understanding.clarification import ORDER_INTENTS, missing_slot_question
from shopagent.agent.understanding.intents import Understanding
from shopagent.agent.understanding.language import detect_language
from shopagent.agent.understanding.localize import localize
from shopagent.agent.understanding.model_router import classify_async
from shopagent.agent.understanding.references import (
    PRODUCT_INTENTS,
    is_follow_up,
    resolve_targets,
    variant_value,
)
from shopagent.agent.understanding.slots import Slots, extract

from shopagent.errors import ShopAgentError

log = logging.getLogger("shopagent.understand")

ROUTER_SHARE = 0.5
"""Most of the turn's remaining budget a model router may take: a slow or hanging model
backend must leave the tools (live price and stock) and the answer time to run."""

CONFIDENT = 0.62
MAX_STRIKES = 3
"""Unhelpful turns in a row after which the conversation goes to a person."""
"""Router scores at or above this override a carried-over (pending) intent."""


def choose_intent(u: Understanding, slots: Slots, state: AgentState) -> str:
    """The router's intent, corrected by what the thread is in the middle of."""
    pending = state.get("pending_intent")
    gives_identity = bool(slots.email or slots.order_number or slots.zip_code)
    if pending and u.confidence < CONFIDENT:
        if pending in ORDER_INTENTS and gives_identity:
            return pending
        if pending in PRODUCT_INTENTS and (slots.query or slots.ordinal or slots.cheaper):
            return pending
    if gives_identity and u.intent not in ORDER_INTENTS and not slots.query:
        return pending if pending in ORDER_INTENTS else "order_status"
    picks_one = slots.cheaper or slots.pricier or slots.ordinal is not None
    if u.intent == "compare" and picks_one and not slots.query:
        return "price_stock"  # "the cheaper one" is about one product, not a comparison
    if is_follow_up(slots, state.get("focus", [])) and u.intent not in PRODUCT_INTENTS:
        named_variant = slots.color or slots.size or slots.variant
        return "product_question" if named_variant else "price_stock"
    return u.intent


def _product(ctx: AgentContext, product_id: str) -> Any:
    """The product from the catalog, or None when the catalog cannot answer (logged: the
    words are then searched for, and a failing search says so)."""
    try:
        return ctx.catalog.get(product_id)
    except ShopAgentError as exc:
        log.warning("catalog lookup failed (%s): %s", type(exc).__name__, str(exc).split("\n")[0])
        return None


async def understand(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Classify the turn, extract slots, verify identity, resolve references."""
    ctx = runtime.context
    text = last_user_text(state)
    language = detect_language(text, state.get("language"))
    slots = extract(localize(text, language), ctx.order_shapes)
    current = state.get("current")
    anchor = current or next(iter(state.get("focus", [])), None)
    if anchor and slots.query:
        value = variant_value(_product(ctx, anchor["product_id"]), slots.query)
        if value:  # "what about in coral?" picks a variant of the product in focus
            slots = slots.model_copy(update={"variant": value, "query": ""})
    verdict = detect_injection(text)
    if verdict.is_injection:  # refuse without asking the router (or any model)
        u = Understanding(intent="out_of_scope", confidence=1.0, intents=["out_of_scope"])
    else:
        left = remaining(ctx)
        timeout = None if left is None else left * ROUTER_SHARE
        u = await classify_async(ctx.router, text, timeout=timeout)
    intent = "out_of_scope" if verdict.is_injection else choose_intent(u, slots, state)

    customer = state.get("customer")
    if ctx.authenticated is None and state.get("signed_in"):
        customer = None  # the host vouched for an earlier turn only: nobody is verified now
    verification_failed = False
    if ctx.authenticated is not None:
        customer = ctx.authenticated.model_dump()
    elif ctx.chat_verification and slots.email and (slots.order_number or slots.zip_code):
        found = ctx.orders.verify(
            slots.email, order_number=slots.order_number, zip_code=slots.zip_code
        )
        customer = found.model_dump() if found else customer
        verification_failed = found is None

    handoff_reason = "customer asked for a person" if intent == "human_handoff" else None
    if state.get("strikes", 0) >= MAX_STRIKES and intent not in {"greeting", "human_handoff"}:
        intent, handoff_reason = "human_handoff", "assistant could not help after several tries"

    targets = resolve_targets(slots, state.get("focus", []), intent, current)
    question = missing_slot_question(
        intent,
        slots,
        targets,
        verified=customer is not None,
        verification_failed=verification_failed,
        chat_verification=ctx.chat_verification,
    )
    intents = [intent, *[i for i in u.intents[1:] if i != intent]]
    return {
        "language": language,
        "intent": intent,
        "intents": intents,
        "spans": dict(getattr(u, "spans", {}) or {}),
        "confidence": u.confidence,
        "slots": slots.model_dump(mode="json"),
        "targets": targets,
        "current": targets[0] if len(targets) == 1 else current,
        "customer": customer,
        "signed_in": ctx.authenticated is not None,
        "order_number": slots.order_number or state.get("order_number"),
        "clarify": question,
        "guardrail": verdict.kind or None,
        "proposal": None,
        "handoff_reason": handoff_reason,
        "decision": None,
        "tool_calls": [],
        "answer": "",
        "answer_source": "",
        "llm_calls": getattr(u, "llm_calls", 0),
        "tokens": getattr(u, "tokens", 0),
    }
