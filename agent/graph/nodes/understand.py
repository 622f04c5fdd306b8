"""understand: intent + slots for the turn, identity, and what "it" refers to."""

from __future__ import annotations

import logging
import re
from typing import Any

from langgraph.runtime import Runtime
from shopagent.agent.answering.words import matcher
from shopagent.agent.graph.context import AgentContext, remaining
from shopagent.agent.graph.nodes.identity import identify
from shopagent.agent.graph.state import AgentState, last_assistant_text, last_user_text
from shopagent.agent.safety.guardrails import detect_injection
from shopagent.agent.understanding.action_slots import (
    action_intent,
    asked_for,
    asks_return_rule,
    exchange_if_delivered,
)
from shopagent.agent.understanding.availability import (
    asks_price_or_stock_only,
    availability_search,
)
from shopagent.agent.understanding.clarification import (
    ORDER_INTENTS,
    missing_slot_question,
    not_again,
)
from shopagent.agent.understanding.intents import Understanding
from shopagent.agent.understanding.language import detect_language
from shopagent.agent.understanding.localize import localize
from shopagent.agent.understanding.model_router import classify_async
from shopagent.agent.understanding.references import (
    PRODUCT_INTENTS,
    asks_for_a_list,
    describes_one,
    is_follow_up,
    pick_from_list,
    resolve_targets,
    variant_value,
)
from shopagent.agent.understanding.refinement import refines, wants_more
from shopagent.agent.understanding.slots import Slots, _patterns, extract

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
    if pending in PRODUCT_INTENTS and picks_one and not slots.query:
        return pending  # "the first one" answers the question asked: it has no intent of its own
    if u.intent == "compare" and picks_one and not slots.query:
        return "price_stock"  # "the cheaper one" is about one product, not a comparison
    if is_follow_up(slots, state.get("focus", [])) and u.intent not in PRODUCT_INTENTS:
        named_variant = slots.color or slots.size or slots.variant
        return "product_question" if named_variant else "price_stock"
    return u.intent


NOT_REFINED = frozenset({*ORDER_INTENTS, "human_handoff", "return_policy", "greeting"})
"""Intents a confident router keeps even when the message reads as a search refinement."""


def refines_search(
    text: str, slots: Slots, state: AgentState, ctx: AgentContext, intent: str
) -> bool:
    """The message refines the last search: it asks for cheaper or pricier ones, or (right
    after a list was shown) states only filters ("under 50 bucks", "what about in copper?";
    a brand or category alone only when the router also reads a search)."""
    if slots.email or slots.order_number or slots.ordinal is not None or slots.reference:
        return False
    if describes_one(text):  # "the red one" picks one of those shown
        return False
    previous = state.get("search")
    if not previous:
        return False
    cheaper, pricier = wants_more(text)
    list_shown = state.get("current") is None and len(state.get("focus", [])) > 1
    names = intent == "product_search"
    return (cheaper or pricier or list_shown) and refines(
        text, previous, ctx.vocabulary, names=names
    )


CARRIED = frozenset({"price_stock", "product_question", "return_policy"})


def carried_intent(text: str, slots: Slots, state: AgentState) -> str | None:
    """The previous turn's intent for an elliptical follow-up that names another product
    ("what about the X?", "and the Y?"); None otherwise."""
    previous = state.get("intent")
    if previous not in CARRIED or not slots.query or slots.order_number or slots.email:
        return None
    cues = _patterns()["raw"].get("carry_over") or []
    opening = re.match(r"^\W*(.*)", text.casefold()).group(1)
    return previous if any(re.match(rf"{re.escape(c)}\b", opening) for c in cues) else None


def _lists_a_kind(text: str, slots: Slots, ctx: AgentContext) -> bool:
    vocab = ctx.vocabulary
    if vocab is None or not slots.query or slots.reference or slots.ordinal is not None:
        return False
    kind = vocab.product_type(slots.query)
    heads = kind is not None and slots.query.casefold().rstrip("s").endswith(
        kind.split()[-1].rstrip("s")
    )
    return heads and asks_for_a_list(text, kind, vocab.kinds(kind))


def _product(ctx: AgentContext, product_id: str) -> Any:
    """The product from the catalog, or None when the catalog cannot answer (logged: the
    words are then searched for, and a failing search says so)."""
    try:
        return ctx.catalog.get(product_id)
    except ShopAgentError as exc:
        log.warning("catalog lookup failed (%s): %s", type(exc).__name__, str(exc).split("\n")[0])
        return None


def _asks_attribute(text: str) -> bool:
    """An attribute cue ("who makes", "made of") and no word of price or stock."""
    if matcher("asks_price").search(text) or matcher("asks_stock").search(text):
        return False
    return bool(matcher("attribute_cues", "brand").search(text)) or any(
        matcher("attribute_cues", key).search(text) for key in ("material", "warranty")
    )


def _change_if_modifiable(ctx: AgentContext, customer_id: str, number: str) -> str:
    """An exchange asked for an order that may still be modified (pending: not shipped yet)
    is an item change of that order; any other order keeps the exchange (and its reasons)."""
    order = ctx.orders.order(customer_id, number)
    modifiable = ctx.policy.rules.actions.modifiable_statuses
    pending = order is not None and order.status in modifiable
    return "modify_order" if pending else "exchange_request"


async def understand(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Classify the turn, extract slots, verify identity, resolve references."""
    ctx = runtime.context
    text = last_user_text(state)
    vocab = ctx.vocabulary
    ignore = vocab.name_words if vocab is not None else frozenset()
    language = detect_language(text, state.get("language"), ignore)
    slots = extract(
        localize(text, language), ctx.order_shapes, vocab.protect if vocab is not None else None
    )
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
    if not verdict.is_injection and (carried := carried_intent(text, slots, state)):
        intent = carried  # "what about the X?" asks the previous question about X
    if intent in {"price_stock", "product_question"} and _lists_a_kind(text, slots, ctx):
        intent = "product_search"  # "which fleece do you have in stock?": show them
    elif (
        intent == "product_question"
        and len(u.intents) == 1
        and asks_price_or_stock_only(text, slots.query, vocab)
    ):
        intent = "price_stock"  # "is the X – SPF 15 Protection in stock?": a name, not a feature
    elif intent == "price_stock" and availability_search(text, slots.query, ctx.vocabulary):
        intent = "product_search"  # "do you have a black leather sneaker?": no one product named
    elif intent == "price_stock" and (
        (ctx.vocabulary and ctx.vocabulary.names_attribute(text)) or _asks_attribute(text)
    ):
        intent = "product_question"  # "is the X final sale?", "who makes the X?"
    no_order = not (slots.order_number or state.get("order_number"))
    if intent == "return_request" and no_order and asks_return_rule(text):
        intent = "return_policy"  # "can I return the X if it doesn't fit?"
    refining = not verdict.is_injection and refines_search(text, slots, state, ctx, intent)
    if refining and (intent not in NOT_REFINED or u.confidence < CONFIDENT):
        intent = "product_search"  # "cheaper ones", "what about in copper?" after a list
    intent = action_intent(intent, text, bool(slots.order_number))

    who = identify(ctx, state, slots, text)
    customer = who.customer
    if intent == "modify_order" and customer and slots.order_number:
        intent = exchange_if_delivered(ctx.orders, customer["id"], slots.order_number, text)
    elif intent == "exchange_request" and customer and slots.order_number:
        intent = _change_if_modifiable(ctx, customer["id"], slots.order_number)

    handoff_reason = "customer asked for a person" if intent == "human_handoff" else None
    if state.get("strikes", 0) >= MAX_STRIKES and intent not in {"greeting", "human_handoff"}:
        intent, handoff_reason = "human_handoff", "assistant could not help after several tries"

    targets = resolve_targets(slots, state.get("focus", []), intent, current)
    focus = state.get("focus", [])
    if current is None and len(focus) > 1 and slots.ordinal is None and not refining:
        said = " ".join(w for w in (slots.color, slots.size, slots.variant, slots.query) if w)
        products = {f["product_id"]: _product(ctx, f["product_id"]) for f in focus}
        targets = pick_from_list(text, said, focus, products) or targets  # "the red one"
    question = missing_slot_question(
        intent,
        slots,
        targets,
        verified=customer is not None,
        verification_failed=who.failed,
        chat_verification=ctx.chat_verification,
        refining=refining,
        methods=ctx.verification_methods,
        locked=who.locked,
    )
    question = not_again(question, last_assistant_text(state))
    spans = dict(getattr(u, "spans", {}) or {})
    others = [i for i in u.intents[1:] if i != intent and asked_for(i, spans.get(i, text))]
    intents = [intent, *others]
    return {
        "language": language,
        "intent": intent,
        "intents": intents,
        "spans": spans,
        "confidence": u.confidence,
        "slots": slots.model_dump(mode="json"),
        "targets": targets,
        "current": targets[0] if len(targets) == 1 else current,
        "customer": customer,
        "signed_in": ctx.authenticated is not None,
        "verify_failures": who.failures,
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
