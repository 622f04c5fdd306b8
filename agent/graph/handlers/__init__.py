"""One handler per intent: it runs the turn's tools through :class:`~.turn.Turn`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from shopagent.agent.graph.handlers.catalog import (
    compare,
    price_stock,
    product_question,
    product_search,
    return_policy,
)
from shopagent.agent.graph.handlers.changes import (
    cancel_with_reason,
    change_address,
    exchange_request,
    modify_order,
)
from shopagent.agent.graph.handlers.orders import (
    human_handoff,
    order_status,
)
from shopagent.agent.graph.handlers.returns import return_items
from shopagent.agent.graph.handlers.turn import Turn

HANDLERS: dict[str, Callable[[Turn], Awaitable[None]]] = {
    "product_search": product_search,
    "price_stock": price_stock,
    "product_question": product_question,
    "compare": compare,
    "return_policy": return_policy,
    "order_status": order_status,
    "return_request": return_items,
    "cancel_order": cancel_with_reason,
    "exchange_request": exchange_request,
    "modify_order": modify_order,
    "change_address": change_address,
    "human_handoff": human_handoff,
}

__all__ = ["HANDLERS", "Turn"]
