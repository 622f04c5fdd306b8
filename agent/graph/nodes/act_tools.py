"""act, tool-calling mode: a capable model picks the turn's tools, in a bounded loop.

The model sees the same read tools the deterministic handlers call (``list_orders`` is the
order history), and propose tools for writes (:mod:`.act_proposals`: one-item and
multi-item returns, cancellation, exchange, item, address and payment changes, the default
address): they check eligibility and, when allowed, set the turn's proposal, which the confirm
node puts to the shopper (a LangGraph interrupt). The model never writes: the write tools run
only in confirm, after the shopper's yes. A change intent the model proposes nothing for is
left to its deterministic handler.

Every call runs through ``Turn.call`` with the verified customer of the state (never one
the model names), so ownership checks, the policy engine and the answer verifier are the
deterministic mode's. Unknown tools, malformed or extra arguments are answered with an
error for the model and never run. At most ``ctx.max_tool_calls`` calls per turn.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from decimal import Decimal
from importlib import resources
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from shopagent.agent.answering.change_templates import CHECK_TOOLS
from shopagent.agent.graph.context import remaining
from shopagent.agent.graph.handlers.catalog import _focus
from shopagent.agent.graph.handlers.turn import Turn
from shopagent.agent.graph.nodes.act_proposals import CHANGE_INTENTS, PROPOSE_TOOLS
from shopagent.agent.graph.state import last_user_text
from shopagent.tools import functions as fn
from shopagent.tools.results import SearchFilters, SearchResult

log = logging.getLogger("shopagent.tools")


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SearchArgs(_Args):
    query: str = Field(min_length=1, max_length=300)
    min_price: Decimal | None = Field(None, ge=0)
    max_price: Decimal | None = Field(None, ge=0)
    category: str | None = Field(None, max_length=200)
    brand: str | None = Field(None, max_length=200)
    color: str | None = Field(None, max_length=60)


class SkusArgs(_Args):
    skus: list[str] = Field(min_length=1, max_length=10)


class ProductArgs(_Args):
    product_id: str = Field(min_length=1, max_length=200)


class PolicyArgs(_Args):
    question: str = Field(min_length=1, max_length=300)
    category: str | None = Field(None, max_length=200)


class OrderArgs(_Args):
    order_number: str | None = Field(None, max_length=64, description="Omit for recent orders.")


class HistoryArgs(_Args):
    """No arguments: the signed-in customer's history."""


TOOLS: dict[str, tuple[type[BaseModel], str]] = {
    "search_products": (SearchArgs, "Search the catalog; returns products with list prices."),
    "check_price_stock": (SkusArgs, "Live price and stock of SKUs."),
    "get_product_details": (ProductArgs, "A product's description, attributes and variants."),
    "lookup_return_policy": (PolicyArgs, "Return policy sections that answer a question."),
    "get_order_status": (OrderArgs, "The signed-in customer's order, or recent orders."),
    "list_orders": (
        HistoryArgs,
        "The signed-in customer's order history, newest first: number, date, status, units "
        "and total of every order (get_order_status has an order's items).",
    ),
    **{name: (args, doc) for name, (args, doc, _) in PROPOSE_TOOLS.items()},
}


MODEL_TOOL_INTENTS = frozenset(
    {
        "product_search",
        "price_stock",
        "product_question",
        "compare",
        "return_policy",
        "order_status",
        "return_request",
        "cancel_order",
        *CHANGE_INTENTS,
    }
)
"""Intents whose tools the model picks (a handoff stays deterministic)."""


async def model_turn(turn: Turn, intents: list[str], state: Any) -> tuple[list[str], Any]:
    """Run the model's tools when the turn has an intent it handles; the intents left for
    the deterministic handlers, and the state with the model's LLM calls and tokens."""
    if not set(intents) & MODEL_TOOL_INTENTS:
        return intents, state
    llm_calls, tokens = await act_with_tools(turn)
    checked = {c["name"] for c in turn.calls} & CHECK_TOOLS
    rest = [
        i
        for i in intents
        if i not in MODEL_TOOL_INTENTS
        or (i in CHANGE_INTENTS and not turn.proposal and not checked)
    ]
    spent = {
        "llm_calls": state.get("llm_calls", 0) + llm_calls,
        "tokens": state.get("tokens", 0) + tokens,
    }
    return rest, {**state, **spent}


def tool_schemas() -> list[dict[str, Any]]:
    """The tools in OpenAI's function format (what ``bind_tools`` takes)."""
    return [
        {
            "type": "function",
            "function": {"name": name, "description": doc, "parameters": args.model_json_schema()},
        }
        for name, (args, doc) in TOOLS.items()
    ]


def _prompt() -> str:
    return resources.files("shopagent.prompts").joinpath("act.v1.md").read_text(encoding="utf-8")


def _context_line(turn: Turn) -> str:
    customer = turn.customer
    who = f"signed in as {customer.name}" if customer else "not signed in"
    parts = [f"Intent: {turn.state.get('intent', '')}.", f"The customer is {who}."]
    if current := turn.state.get("current"):
        parts.append(f"Talking about: {current['name']} (SKU {current['sku']}).")
    if number := turn.state.get("order_number"):
        parts.append(f"Order mentioned: {number}.")
    return " ".join(parts)


async def act_with_tools(turn: Turn) -> tuple[int, int]:
    """Let the model run the turn's tools; returns ``(llm_calls, tokens)`` it spent."""
    ctx = turn.ctx
    model = ctx.model.bind_tools(tool_schemas())
    messages: list[Any] = [
        SystemMessage(_prompt().format(store_name=ctx.store_name, limit=ctx.max_tool_calls)),
        HumanMessage(f"{_context_line(turn)}\nCustomer: {last_user_text(turn.state)}"),
    ]
    llm_calls = tokens = used = 0
    while used < ctx.max_tool_calls and not turn.proposal and not turn.clarify:
        try:
            reply = await asyncio.wait_for(model.ainvoke(messages), remaining(ctx))
        except Exception as exc:  # a failing model ends the loop; compose answers honestly
            log.warning("tool-calling model failed: %s", exc)
            break
        llm_calls += 1
        usage = getattr(reply, "usage_metadata", None) or {}
        tokens += int(usage.get("total_tokens", 0))
        calls = list(getattr(reply, "tool_calls", None) or [])
        bad = list(getattr(reply, "invalid_tool_calls", None) or [])
        if not calls and not bad:
            break
        messages.append(reply if isinstance(reply, AIMessage) else AIMessage(str(reply.content)))
        for call in bad:
            used += 1
            messages.append(_tool_message(call, {"error": "malformed arguments: send JSON"}))
        for call in calls:
            if used >= ctx.max_tool_calls:
                messages.append(_tool_message(call, {"error": "tool call limit reached"}))
                continue
            used += 1
            messages.append(_tool_message(call, await _run(turn, call)))
    return llm_calls, tokens


def _tool_message(call: dict[str, Any], content: Any) -> ToolMessage:
    text = json.dumps(content, default=str)[:4000]
    return ToolMessage(text, tool_call_id=str(call.get("id") or "call"), name=call.get("name"))


async def _run(turn: Turn, call: dict[str, Any]) -> Any:
    """One model-chosen call: validated, then run as the deterministic mode runs it."""
    name, raw = str(call.get("name") or ""), call.get("args") or {}
    if name not in TOOLS:
        return {"error": f"unknown tool {name!r}; use one of {', '.join(TOOLS)}"}
    model, _ = TOOLS[name]
    try:
        args = model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return {"error": f"invalid arguments: {problems[:300]}"}
    run = _RUNNERS[name]
    return await run(turn, args)


def _dump(result: Any) -> Any:
    return result.model_dump(mode="json") if isinstance(result, BaseModel) else result


async def _call(turn: Turn, name: str, args: BaseModel, run: Callable[[], Any]) -> Any:
    result = await turn.call(name, args.model_dump(mode="json", exclude_none=True), run)
    if result is None:
        failed = turn.calls[-1]["result"] or {"error": "nothing found"}
        if isinstance(failed, dict) and "summary" in failed:  # the model gets no internals
            return {"error": failed["error"], "message": failed["summary"]}
        return failed
    return _dump(result)


async def _search(turn: Turn, a: SearchArgs) -> Any:
    attributes = {"color": a.color} if a.color else {}
    filters = SearchFilters(
        min_price=a.min_price,
        max_price=a.max_price,
        category=a.category,
        brand=a.brand,
        attributes=attributes,
    )
    k = turn.ctx.search_k
    found = await _call(
        turn,
        "search_products",
        a,
        lambda: fn.search_products(turn.ctx.catalog, a.query, filters, k),
    )
    result = turn.calls[-1]["result"] if turn.calls[-1]["ok"] else None
    if result and result.get("hits"):
        hits = SearchResult.model_validate(result).hits
        turn.focus = [_focus(h) for h in hits]
        turn.current = turn.focus[0] if len(hits) == 1 else None
    return found


async def _quote(turn: Turn, a: SkusArgs) -> Any:
    return await _call(
        turn, "check_price_stock", a, lambda: fn.check_price_stock(turn.ctx.inventory, a.skus)
    )


async def _details(turn: Turn, a: ProductArgs) -> Any:
    return await _call(
        turn,
        "get_product_details",
        a,
        lambda: fn.get_product_details(turn.ctx.catalog, a.product_id),
    )


async def _policy(turn: Turn, a: PolicyArgs) -> Any:
    return await _call(
        turn,
        "lookup_return_policy",
        a,
        lambda: fn.lookup_return_policy(turn.ctx.policy, a.question, a.category),
    )


async def _orders(turn: Turn, a: OrderArgs) -> Any:
    return await _call(
        turn,
        "get_order_status",
        a,
        lambda: fn.get_order_status(turn.ctx.orders, turn.customer, a.order_number),
    )


async def _list_orders(turn: Turn, a: HistoryArgs) -> Any:
    return await _call(
        turn, "list_orders", a, lambda: fn.list_orders(turn.ctx.orders, turn.customer)
    )


_RUNNERS: dict[str, Callable[[Turn, Any], Any]] = {
    "search_products": _search,
    "check_price_stock": _quote,
    "get_product_details": _details,
    "lookup_return_policy": _policy,
    "get_order_status": _orders,
    "list_orders": _list_orders,
    **{name: run for name, (_, _, run) in PROPOSE_TOOLS.items()},
}
