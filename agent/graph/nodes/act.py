"""act: run the tools the turn's intents need, deterministically, and record every call."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime
from langgraph.types import StreamWriter
from pydantic import BaseModel
from shopagent.agent.answering.templates import cancel_question, return_question
from shopagent.agent.graph.context import AgentContext, remaining
from shopagent.agent.graph.state import AgentState, FocusItem, ToolCall, last_user_text
from shopagent.agent.understanding.clarification import choose_order_question, choose_question
from shopagent.agent.understanding.slots import Slots
from shopagent.tools import functions as fn
from shopagent.tools.results import ProductHit, SearchFilters, VerifiedCustomer

from shopagent.errors import ShopAgentError, TurnTimeout

log = logging.getLogger("shopagent.tools")


def _no_events(_: Any) -> None:
    return None


class Turn:
    """The tool calls of one turn, recorded as ``{name, args, ok, result}``; each call is
    announced live to ``writer`` (LangGraph's custom stream) as ``tool_started`` and
    ``tool_finished`` events."""

    def __init__(
        self,
        ctx: AgentContext,
        state: AgentState,
        thread_id: str,
        writer: StreamWriter = _no_events,
    ) -> None:
        self.ctx, self.state, self.thread_id, self.writer = ctx, state, thread_id, writer
        self.slots = Slots(**state.get("slots", {}))
        self.calls: list[ToolCall] = []
        self.focus: list[FocusItem] | None = None
        self.clarify: str | None = None
        self.proposal: dict[str, Any] | None = None
        self.current: FocusItem | bool | None = False
        """The product now talked about; False: unchanged."""

    async def call(self, name: str, args: dict[str, Any], run: Callable[[], Any]) -> Any:
        """Run one tool; a ShopAgentError becomes a failed call, never an exception."""
        self.writer({"type": "tool_started", "name": name, "args": args})
        try:
            result = run()
            if isinstance(result, Awaitable):
                result = await asyncio.wait_for(result, remaining(self.ctx))
        except TimeoutError:
            exc = TurnTimeout(f"{name} did not answer within the turn's time budget")
            return self._record(name, args, False, _error(exc))
        except ShopAgentError as exc:
            return self._record(name, args, False, _error(exc))
        dumped = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
        self._record(name, args, result is not None, dumped)
        return result

    def _record(self, name: str, args: dict[str, Any], ok: bool, result: Any) -> None:
        self.calls.append({"name": name, "args": args, "ok": ok, "result": result})
        if not ok and isinstance(result, dict) and "error" in result:
            log.warning("%s failed (%s): %s", name, result["error"], result.get("message", ""))
        self.writer({"type": "tool_finished", "name": name, "args": args, "ok": ok})

    @property
    def customer(self) -> VerifiedCustomer | None:
        data = self.state.get("customer")
        return VerifiedCustomer(**data) if data else None


def _error(exc: ShopAgentError) -> dict[str, str]:
    return {"error": type(exc).__name__, "message": str(exc).split("\n")[0]}


def _focus(hit: ProductHit) -> FocusItem:
    return {
        "product_id": hit.product_id,
        "name": hit.name,
        "sku": hit.sku,
        "price": str(hit.price),
        "category": hit.category,
    }


def _filters(slots: Slots) -> SearchFilters:
    attributes = {"color": slots.color} if slots.color else {}
    return SearchFilters(
        min_price=slots.min_price, max_price=slots.max_price, attributes=attributes
    )


def _is_ambiguous(query: str, hits: list[ProductHit]) -> bool:
    """Several products match every word of a short query, and none stands out."""
    words = set(_terms(query))
    if not words or len(words) > 2:
        return False
    full = [h for h in hits if words <= set(_terms(h.name))]
    return len(full) >= 2


def _terms(text: str) -> list[str]:
    """Whitespace words without edge punctuation ("noise-cancelling" stays one word)."""
    return [w.strip(".,;:!?()\"'") for w in text.casefold().split() if w.strip(".,;:!?()\"'")]


async def _search(turn: Turn, *, k: int | None = None) -> list[ProductHit]:
    slots = turn.slots
    query = " ".join(p for p in (slots.color, slots.query) if p) or (slots.query or "")
    filters = _filters(slots)
    args = {"query": query, "filters": filters.model_dump(mode="json", exclude_defaults=True)}
    result = await turn.call(
        "search_products",
        args,
        lambda: fn.search_products(turn.ctx.catalog, query, filters, k or turn.ctx.search_k),
    )
    return result.hits if result else []


async def _targets(turn: Turn, *, allow_choice: bool) -> list[FocusItem]:
    """The products this turn is about: resolved references, or a fresh search."""
    targets = list(turn.state.get("targets", []))
    if targets or not turn.slots.query:
        return targets
    hits = await _search(turn, k=3)
    if not hits:
        return []
    if allow_choice and _is_ambiguous(turn.slots.query, hits):
        turn.focus = [_focus(h) for h in hits]
        turn.clarify = choose_question(turn.focus)
        return []
    turn.focus = [_focus(hits[0])]
    turn.current = turn.focus[0]
    return turn.focus


async def _quote(turn: Turn, targets: list[FocusItem]) -> None:
    skus = [t["sku"] for t in targets]
    if turn.slots.color or turn.slots.size or turn.slots.variant:
        skus = [_variant_sku(turn, t) for t in targets]
    await turn.call(
        "check_price_stock",
        {"skus": skus},
        lambda: fn.check_price_stock(turn.ctx.inventory, skus),
    )


def _variant_sku(turn: Turn, target: FocusItem) -> str:
    """The SKU of the variant in the requested colour/size, else the default SKU."""
    product = turn.ctx.catalog.get(target["product_id"])
    slots = turn.slots
    wanted = {v.casefold() for v in (slots.color, slots.size, slots.variant) if v}
    for variant in product.variants if product else []:
        values = [str(a).casefold() for a in variant.attributes.values()]
        if all(any(w == v or w in v.split() for v in values) for w in wanted):
            return variant.sku
    return target["sku"]


async def _details(turn: Turn, targets: list[FocusItem]) -> None:
    for target in targets:
        pid = target["product_id"]
        await turn.call(
            "get_product_details",
            {"product_id": pid},
            lambda pid=pid: fn.get_product_details(turn.ctx.catalog, pid),
        )


# -- one handler per intent -------------------------------------------------------------
async def product_search(turn: Turn) -> None:
    customer = turn.customer
    if customer and not turn.slots.query and not turn.slots.max_price:
        result = await turn.call(
            "recommend_for_customer",
            {"k": turn.ctx.search_k},
            lambda: fn.recommend_for_customer(
                turn.ctx.catalog, turn.ctx.orders, customer, turn.ctx.search_k
            ),
        )
        hits = result.hits if result else []
    else:
        hits = await _search(turn)
        if customer and hits:
            hits = _without_recent_purchases(turn, customer, hits)
    if hits:
        turn.focus = [_focus(h) for h in hits]
        turn.current = None  # after a list, "it" means the first shown
        await _quote(turn, turn.focus)


def _without_recent_purchases(
    turn: Turn, customer: VerifiedCustomer, hits: list[ProductHit]
) -> list[ProductHit]:
    """Drop what the customer just bought; record it so the answer can say so."""
    bought = {line.product_id: line.name for line in fn.recent_purchases(turn.ctx.orders, customer)}
    left_out = [bought[h.product_id] for h in hits if h.product_id in bought]
    if left_out:
        search = turn.calls[-1]
        search["result"] = {
            **search["result"],
            "hits": [h for h in search["result"]["hits"] if h["product_id"] not in bought],
            "left_out_purchased": left_out,
        }
    return [h for h in hits if h.product_id not in bought]


async def price_stock(turn: Turn) -> None:
    targets = await _targets(turn, allow_choice=True)
    if targets:
        await _quote(turn, targets)


async def product_question(turn: Turn) -> None:
    targets = await _targets(turn, allow_choice=True)
    if targets:
        await _details(turn, targets)
        if turn.slots.color or turn.slots.size or turn.slots.variant:
            await _quote(turn, targets)


async def compare(turn: Turn) -> None:
    targets = list(turn.state.get("targets", []))
    if len(targets) < 2 and turn.slots.query:
        hits = await _search(turn, k=2)
        targets = [_focus(h) for h in hits]
        turn.focus = targets
    if targets:
        await _details(turn, targets)
        await _quote(turn, targets)


async def return_policy(turn: Turn) -> None:
    question = turn.state.get("spans", {}).get("return_policy") or _last_user_text(turn)
    targets = list(turn.state.get("targets", []))
    category = targets[0]["category"] if targets else _category_in(turn)
    await turn.call(
        "lookup_return_policy",
        {"question": question, "category": category},
        lambda: fn.lookup_return_policy(turn.ctx.policy, question, category),
    )


def _category_in(turn: Turn) -> str | None:
    text = _last_user_text(turn).casefold()
    for category in turn.ctx.policy.rules.categories:
        if category.casefold() in text or category.casefold().rstrip("s") in text:
            return category
    return None


def _last_user_text(turn: Turn) -> str:
    return last_user_text(turn.state)


async def order_status(turn: Turn) -> None:
    number = turn.state.get("order_number")
    await turn.call(
        "get_order_status",
        {"order_number": number},
        lambda: fn.get_order_status(turn.ctx.orders, turn.customer, number),
    )


def _line_focus(number: str, sku: str, name: str, price: Any, category: str, pid: str) -> FocusItem:
    return {
        "product_id": pid,
        "name": name,
        "sku": sku,
        "price": str(price),
        "category": category,
        "order_number": number,
    }


async def _order_for(turn: Turn, statuses: list[str], what: str) -> str | None:
    """The order the turn is about: referenced, named, or the only candidate; else ask."""
    targets = turn.state.get("targets", [])
    if targets and targets[0].get("order_number"):
        return targets[0]["order_number"]
    if number := turn.state.get("order_number"):
        return number
    args = {"order_number": None, "statuses": statuses}
    result = await turn.call(
        "get_order_status",
        args,
        lambda: fn.get_order_status(turn.ctx.orders, turn.customer, None, statuses),
    )
    candidates = result.orders if result else []
    if len(candidates) == 1:
        return candidates[0].number
    if len(candidates) > 1:
        turn.focus = [
            _line_focus(o.number, i.sku, i.name, i.unit_price, i.category, i.product_id)
            for o in candidates
            for i in o.items[:1]
        ]
        turn.clarify = choose_order_question(candidates, what)
    return None


async def return_request(turn: Turn) -> None:
    number = await _order_for(turn, ["delivered"], "return")
    if number is None:
        return
    targets = turn.state.get("targets", [])
    sku = targets[0]["sku"] if targets and targets[0].get("order_number") == number else None
    check = await turn.call(
        "check_return_eligibility",
        {"order_number": number, "sku": sku, "condition": turn.slots.condition},
        lambda: fn.check_return_eligibility(
            turn.ctx.orders,
            turn.ctx.policy,
            turn.customer,
            number,
            today=turn.ctx.clock().date(),
            sku=sku,
            condition=turn.slots.condition,
        ),
    )
    if check is None or not check.items:
        return
    items = check.items
    if len(items) > 1:
        wanted = set(re.findall(r"[a-z0-9]{3,}", turn.slots.query.casefold()))
        named = [i for i in items if wanted & set(re.findall(r"[a-z0-9]+", i.name.casefold()))]
        if len(named) != 1:
            order = turn.ctx.orders.order(turn.customer.id, number) if turn.customer else None
            lines = {line.sku: line for line in order.items} if order else {}
            turn.focus = [
                _line_focus(
                    number,
                    i.sku,
                    i.name,
                    i.item_total,
                    lines[i.sku].category,
                    lines[i.sku].product_id,
                )
                for i in items
                if i.sku in lines
            ]
            turn.clarify = choose_question(turn.focus)
            return
        items = named
    verdict = items[0]
    if verdict.eligible:
        turn.proposal = {
            "action": "start_return",
            "order_number": verdict.order_number,
            "sku": verdict.sku,
            "name": verdict.name,
            "quantity": verdict.quantity,
            "refund_amount": str(verdict.refund_amount),
            "restocking_fee": str(verdict.restocking_fee),
            "refund_method": verdict.refund_method,
            "condition": turn.slots.condition,
            "question": return_question(verdict),
        }


async def cancel_order(turn: Turn) -> None:
    number = await _order_for(turn, ["pending", "processing"], "cancel")
    if number is None:
        return
    check = await turn.call(
        "check_cancel_eligibility",
        {"order_number": number},
        lambda: fn.check_cancel_eligibility(turn.ctx.orders, turn.customer, number),
    )
    if check is not None and check.eligible:
        turn.proposal = {
            "action": "cancel_order",
            "order_number": number,
            "refund_amount": str(check.refund_amount),
            "question": cancel_question(check),
        }


async def human_handoff(turn: Turn) -> None:
    customer = turn.customer
    summary = _last_user_text(turn)
    reason = turn.state.get("handoff_reason") or "customer asked for a person"
    await turn.call(
        "request_human",
        {"reason": reason},
        lambda: turn.ctx.handoffs.create(
            customer_id=customer.id if customer else None,
            thread_id=turn.thread_id,
            summary=summary,
            reason=reason,
        ),
    )


HANDLERS: dict[str, Callable[[Turn], Awaitable[None]]] = {
    "product_search": product_search,
    "price_stock": price_stock,
    "product_question": product_question,
    "compare": compare,
    "return_policy": return_policy,
    "order_status": order_status,
    "return_request": return_request,
    "cancel_order": cancel_order,
    "human_handoff": human_handoff,
}


async def act(
    state: AgentState, runtime: Runtime[AgentContext], config: RunnableConfig
) -> dict[str, Any]:
    """Run the handlers of every intent of the turn (multi-intent turns call several)."""
    thread_id = str(config.get("configurable", {}).get("thread_id", ""))
    turn = Turn(runtime.context, state, thread_id, runtime.stream_writer)
    intents = state.get("intents") or [state.get("intent", "")]
    if runtime.context.tool_calling_act:  # the model picks the tools (act_tools.py)
        from shopagent.agent.graph.nodes.act_tools import model_turn

        intents, state = await model_turn(turn, intents, state)
    for intent in intents:
        if turn.clarify or turn.proposal:
            break
        handler = HANDLERS.get(intent)
        if handler:
            await handler(turn)
        if turn.clarify or turn.proposal:
            break
        if turn.focus and intent in {"product_search", "price_stock", "compare"}:
            turn.state = {**turn.state, "targets": turn.focus[:1]}
    update: dict[str, Any] = {
        "tool_calls": turn.calls,
        "clarify": turn.clarify,
        "proposal": turn.proposal,
        "llm_calls": state.get("llm_calls", 0),
        "tokens": state.get("tokens", 0),
    }
    if turn.focus is not None:
        update["focus"] = turn.focus
    if turn.current is not False:
        update["current"] = turn.current
    return update
