"""Tool results -> the facts a turn may state. The composer, templates and verifier share them."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from shopagent.agent.records import ToolCall


def money(amount: Any, currency: str = "USD") -> str:
    """``$34.99`` for USD, ``34.99 EUR`` otherwise."""
    value = Decimal(str(amount)).quantize(Decimal("0.01"))
    return f"${value}" if currency == "USD" else f"{value} {currency}"


@dataclass
class Facts:
    """What this turn's tools established, keyed for templates and verification."""

    products: list[dict[str, Any]] = field(default_factory=list)
    quotes: dict[str, dict[str, Any]] = field(default_factory=dict)
    details: list[dict[str, Any]] = field(default_factory=list)
    policy: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    customer_name: str | None = None
    handoff: dict[str, Any] | None = None
    return_checks: list[dict[str, Any]] = field(default_factory=list)
    cancel_check: dict[str, Any] | None = None
    return_created: dict[str, Any] | None = None
    cancel_result: dict[str, Any] | None = None
    change_check: dict[str, Any] | None = None
    change_done: dict[str, Any] | None = None
    order_history: dict[str, Any] | None = None
    based_on: list[str] = field(default_factory=list)
    """Recent purchases that personalised the results (the answer says so)."""
    left_out: list[str] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    searched: bool = False
    order_looked_up: bool = False

    @property
    def inventory_down(self) -> bool:
        return any(f["name"] == "check_price_stock" for f in self.failures)

    @property
    def search_down(self) -> bool:
        """Whether a product search failed this turn (the catalog could not answer)."""
        return any(f["name"] == "search_products" for f in self.failures)

    def lines(self, limit: int = 3) -> list[str]:
        """Plain-text fact lines for the model's prompt."""
        out: list[str] = []
        if self.based_on:
            out.append(
                "Chosen to go with the customer's recent purchase: " + ", ".join(self.based_on)
            )
        for product in self.products[:limit]:
            out.append(self.product_line(product))
        for d in self.details[:limit]:
            attrs = "; ".join(f"{k}: {v}" for k, v in d["attributes"].items())
            out.append(f"{d['name']} ({d['brand']}): {d['description']} {attrs}".strip())
        for s in self.policy[:2]:
            out.append(f"Policy [{s['heading']}]: {s['text']}")
        for o in self.orders[:limit]:
            out.append(order_line(o))
        if self.inventory_down:
            out.append("Live price and stock cannot be confirmed right now.")
        return out

    def product_line(self, product: dict[str, Any]) -> str:
        quote = self.quotes.get(product["sku"])
        brand = product.get("brand")
        line = f"{product['name']} by {brand}" if brand else product["name"]
        if quote:
            line += f": {money(quote['price'], quote['currency'])}, " + stock_phrase(quote)
        return line


def stock_phrase(quote: dict[str, Any]) -> str:
    stock = int(quote["stock"])
    return f"{stock} in stock" if stock > 0 else "out of stock"


STATUS_WORDS = {
    "pending": "has been received and is waiting to be processed",
    "processing": "is being prepared for shipping",
    "shipped": "has shipped",
    "delivered": "was delivered",
    "cancelled": "was cancelled",
    "returned": "was returned",
    "exchange_requested": "has an exchange in progress",
    "return_requested": "has a return in progress",
}


NEXT_STEPS = {
    "pending": "It can still be cancelled if you change your mind.",
    "processing": "It is being prepared; tracking details follow when it ships.",
    "shipped": "You can follow it with the tracking number above.",
    "delivered": "If anything is wrong with it, I can help you start a return.",
}
"""What the shopper can do next, by order status (only actions this assistant supports)."""


def order_line(order: dict[str, Any]) -> str:
    """One order in plain words: status, dates, tracking, items."""
    parts = [f"Order {order['number']} {STATUS_WORDS[order['status']]}"]
    if order.get("delivered_at"):
        parts.append(f"on {order['delivered_at']}")
    elif order.get("shipped_at"):
        parts.append(f"on {order['shipped_at']}")
    elif order.get("cancelled_at"):
        parts.append(f"on {order['cancelled_at']}")
    text = " ".join(parts) + "."
    if order.get("tracking_number") and order["status"] == "shipped":
        text += f" Tracking: {order.get('carrier') or 'carrier'} {order['tracking_number']}."
    items = ", ".join(f"{i['quantity']} x {i['name']}" for i in order["items"])
    text += f" Items: {items}. Total {money(order['total'], order['currency'])}."
    if step := NEXT_STEPS.get(order["status"]):
        text += f" {step}"
    return text


def collect(tool_calls: list[ToolCall]) -> Facts:
    """Gather every successful result of the turn; failures are kept separately."""
    facts = Facts()
    for call in tool_calls:
        name, result = call["name"], call["result"]
        if not call["ok"]:
            if isinstance(result, dict) and "error" in result:
                facts.failures.append({"name": name, **result})
            facts.order_looked_up |= name == "get_order_status"
            continue
        if name == "recommend_for_customer":
            facts.based_on = result["based_on"]
            result = {"hits": result["hits"]}
            name = "search_products"
        if name == "search_products":
            facts.searched = True
            facts.left_out.extend(result.get("left_out_purchased", []))
            for hit in result["hits"]:
                if hit["product_id"] not in {p["product_id"] for p in facts.products}:
                    facts.products.append(hit)
        elif name == "check_price_stock":
            facts.quotes.update({q["sku"]: q for q in result["quotes"]})
        elif name == "get_product_details":
            facts.details.append(result)
        elif name == "lookup_return_policy":
            facts.policy.extend(result["sections"])
        elif name == "get_order_status":
            facts.order_looked_up = True
            facts.customer_name = result["customer_name"]
            facts.orders.extend(result["orders"])
        elif name == "request_human":
            facts.handoff = result
        elif name == "check_return_eligibility":
            facts.return_checks.extend(result["items"])
        elif name == "check_cancel_eligibility":
            facts.cancel_check = result
        elif name == "start_return":
            facts.return_created = result
        elif name == "cancel_order":
            facts.cancel_result = result
        elif name in ("check_exchange", "check_order_change", "check_return_items"):
            facts.change_check = result
        elif name == "change_order":
            facts.change_done = result
        elif name == "list_orders":
            facts.order_history = result
    return facts


LISTING_INTENTS = frozenset({"product_search", "compare"})


def focus_products(
    facts: Facts, intent: str, targets: list[dict[str, Any]], calls: list[ToolCall]
) -> None:
    """Keep the products the turn is about.

    Listing intents keep every search hit. Others keep only the products that were quoted
    or described (a price question is about one product, not the runners-up of its search),
    adding
    referenced products ("it") that were quoted but not searched this turn.
    """
    quoted = [s for c in calls if c["name"] == "check_price_stock" for s in c["args"]["skus"]]
    if intent not in LISTING_INTENTS:
        detailed = {d["product_id"] for d in facts.details}
        kept = []
        for product in facts.products:
            skus = [s for s in quoted if s in {product["sku"], *product.get("skus", [])}]
            if skus or product["product_id"] in detailed:
                kept.append({**product, "sku": skus[0]} if skus else product)
        facts.products = kept
    known = {p["product_id"] for p in facts.products}
    for target, sku in zip(targets, quoted, strict=False):
        if target["product_id"] not in known:
            facts.products.append({"brand": "", **target, "sku": sku})
