"""Product questions about items of the customer's own orders, over one or several orders:
"the two t-shirts in my other order: what are they made of?".

The orders come from the ownership-checked order tool (``get_order_status`` with no number:
the verified customer's recent orders), the order set and its lines are resolved by
:mod:`~shopagent.agent.understanding.order_sets`, and each picked product's data comes from
``get_product_details``, so the answer plan answers the question per product from the
catalog's own data (typed claims, checked by the verifier).
"""

from __future__ import annotations

from typing import Any

from shopagent.agent.graph.handlers.turn import Turn, user_text
from shopagent.agent.graph.state import FocusItem
from shopagent.agent.understanding.order_sets import (
    item_words,
    order_set_reference,
    pick_lines,
    resolve_order_set,
)
from shopagent.tools import functions as fn

from shopagent.errors import ShopAgentError


def _options(turn: Turn, product_ids: set[str]) -> dict[str, dict[str, str]]:
    """Variant options by SKU of these products (empty when the catalog cannot say)."""
    out: dict[str, dict[str, str]] = {}
    for pid in product_ids:
        try:
            product = turn.ctx.catalog.get(pid)
        except ShopAgentError:
            continue
        for variant in product.variants if product else []:
            out[variant.sku] = {k: str(v) for k, v in variant.attributes.items()}
    return out


def _focus(line: Any) -> FocusItem:
    return {
        "product_id": line.product_id,
        "name": line.name,
        "sku": line.sku,
        "price": str(line.unit_price),
        "category": line.category,
    }


async def order_items_question(turn: Turn) -> bool:
    """Answer a product question about items of the verified customer's orders; False when
    the message names none of their orders (or no customer is verified, or no line of the
    named orders fits): the catalog path answers then."""
    customer = turn.customer
    text = user_text(turn)
    ref = order_set_reference(text)
    if customer is None or ref is None or turn.slots.order_number:
        return False
    listed = await turn.call(
        "get_order_status",
        {"order_number": None},
        lambda: fn.get_order_status(turn.ctx.orders, customer, None),
    )
    if not listed or not listed.orders:
        return True  # the failed or empty lookup answers
    words = item_words(text, ref)
    orders = resolve_order_set(
        listed.orders,
        ref,
        current=turn.state.get("order_number"),
        text=text,
        query=words if ref.kind == "named" else "",
        latest=turn.slots.latest,
        today=turn.ctx.clock().date(),
    )
    ids = {item.product_id for order in orders for item in order.items}
    picked = pick_lines(orders, ref, words, _options(turn, ids))
    if not picked:
        return True  # no such order: the list of orders answers
    turn.focus = [_focus(line) for _, line in picked]
    turn.current = None if len(picked) > 1 else turn.focus[0]
    for _, line in picked:
        pid = line.product_id
        await turn.call(
            "get_product_details",
            {"product_id": pid},
            lambda pid=pid: fn.get_product_details(turn.ctx.catalog, pid),
        )
    return True
