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
from shopagent.agent.graph.handlers.orders import (
    cancel_order,
    human_handoff,
    order_status,
    return_request,
)
from shopagent.agent.graph.handlers.turn import Turn

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

__all__ = ["HANDLERS", "Turn"]
