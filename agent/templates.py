"""Deterministic answers built from facts only: the fallback when a model answer fails checks,
and the whole answer for turns that need no model (greetings, refusals, handoffs)."""

from __future__ import annotations

from agent.facts import Facts, money, order_line, stock_phrase

GREETING = (
    "Hi! I'm the {store} assistant. I can help you find products, check live prices and "
    "stock, explain our return policy and look up your orders. What can I do for you?"
)
OUT_OF_SCOPE = (
    "Sorry, I can only help with shopping at {store}: finding products, prices and stock, "
    "returns and your orders."
)
INVENTORY_DOWN = "I can't confirm live price and stock right now; please try again in a moment."


def template_answer(intent: str, facts: Facts, *, store: str) -> str:
    """The answer for ``intent`` from ``facts``; never states anything not in them."""
    if intent == "greeting":
        return GREETING.format(store=store)
    if intent == "out_of_scope":
        return OUT_OF_SCOPE.format(store=store)
    if facts.handoff:
        return (
            f"I've passed your conversation to our support team (ticket "
            f"{facts.handoff['ticket_id']}). A person will pick it up and reply here or by email."
        )
    parts = [
        _orders(facts),
        _policy(facts),
        _details(facts),
        _products(facts, intent),
    ]
    text = "\n\n".join(p for p in parts if p)
    if facts.failures and not text:
        return _failure(facts)
    if facts.inventory_down:
        text = (text + "\n\n" if text else "") + INVENTORY_DOWN
    return text or "I'm sorry, I couldn't find an answer to that. Could you rephrase it?"


def _products(facts: Facts, intent: str) -> str:
    if not facts.products:
        return "I couldn't find any products matching that." if facts.searched else ""
    shown = facts.products[:5] if intent in {"product_search", "compare"} else facts.products[:1]
    lines = []
    for p in shown:
        quote = facts.quotes.get(p["sku"])
        if quote:
            lines.append(
                f"{_name(p)}: {money(quote['price'], quote['currency'])}, {stock_phrase(quote)}"
            )
        else:
            lines.append(_name(p))
    if len(lines) == 1 and intent != "product_search":
        return lines[0] + "."
    return "Here is what I found:\n" + "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def _name(product: dict) -> str:
    brand = product.get("brand")
    return f"{product['name']} ({brand})" if brand else product["name"]


def _details(facts: Facts) -> str:
    out = []
    for d in facts.details[:2]:
        attrs = ", ".join(f"{k}: {v}" for k, v in d["attributes"].items())
        text = f"{d['name']} by {d['brand']}: {d['description']}"
        if attrs:
            text += f" ({attrs})"
        options = [
            ", ".join(f"{k} {v}" for k, v in var.items() if k != "sku") for var in d["variants"]
        ]
        options = [o for o in options if o]
        if options:
            text += f" Available as: {'; '.join(options)}."
        if d.get("final_sale"):
            text += " This item is final sale."
        out.append(text)
    return "\n\n".join(out)


def _policy(facts: Facts) -> str:
    if not facts.policy:
        return ""
    best = facts.policy[0]
    text = f"From our return policy ({best['heading']}): {best['text'].strip()}"
    rule = best.get("rule")
    if rule:
        text += "\n\n" + rule_sentence(rule, best.get("category"))
    return text


def rule_sentence(rule: dict, category: str | None) -> str:
    """The machine rule in one sentence."""
    scope = f"For {category}" if category else "In general"
    if rule["final_sale"]:
        return f"{scope}, items are final sale and cannot be returned."
    condition = {"any": "in any condition", "unused": "unused", "unopened": "unopened"}
    text = (
        f"{scope}, returns are accepted within {rule['window_days']} days of delivery, "
        f"{condition[rule['condition']]}"
    )
    fee = float(rule["restocking_fee_pct"])
    if fee:
        text += f", with a {fee:g}% restocking fee"
    method = "store credit" if rule["refund_method"] == "store_credit" else "the original payment"
    return text + f"; refunds go to {method}."


def _orders(facts: Facts) -> str:
    if not facts.order_looked_up:
        return ""
    if not facts.orders:
        return "I couldn't find that order on your account. Please check the order number."
    greeting = (
        f"Here's what I found, {facts.customer_name.split()[0]}:" if facts.customer_name else ""
    )
    body = "\n".join(order_line(o) for o in facts.orders)
    return f"{greeting}\n{body}".strip()


def _failure(facts: Facts) -> str:
    names = {f["name"] for f in facts.failures}
    if "check_price_stock" in names:
        return INVENTORY_DOWN
    if "search_products" in names:
        return "Product search isn't available right now; please try again in a moment."
    if "get_order_status" in names:
        return "I need to verify it's you before I can look up orders."
    return "Something went wrong on our side; please try again in a moment."
