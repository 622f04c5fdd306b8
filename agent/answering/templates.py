"""Deterministic answers built from facts only: the fallback when a model answer fails checks,
and the whole answer for turns that need no model (greetings, refusals, handoffs)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shopagent.agent.answering.change_templates import (
    CHANGE_ACTIONS,
    CHANGE_INTENTS,
    change_answer,
)
from shopagent.agent.answering.facts import Facts, money, order_line, stock_phrase

GREETING = (
    "Hi! I'm the {store} assistant. I can help you find products, check live prices and "
    "stock, explain our return policy and look up your orders. What can I do for you?"
)
OUT_OF_SCOPE = (
    "Sorry, I can only help with shopping at {store}: finding products, prices and stock, "
    "returns and your orders. For anything else, ask me to connect you with a person."
)
INVENTORY_DOWN = "I can't confirm live price and stock right now; please try again in a moment."
SEARCH_DOWN = "Product search isn't available right now; please try again in a moment."


def template_answer(
    intent: str,
    facts: Facts,
    *,
    store: str,
    decision: str | None = None,
    proposal: dict | None = None,
) -> str:
    """The answer for ``intent`` from ``facts``; never states anything not in them."""
    changes = facts.change_check or (proposal and proposal.get("action") in CHANGE_ACTIONS)
    if intent in CHANGE_INTENTS or changes:
        said = change_answer(facts, decision, proposal)
        if said:
            return said
    if proposal and decision:
        return _after_confirmation(facts, decision, proposal)
    if intent in {"return_request", "cancel_order"} and (facts.return_checks or facts.cancel_check):
        return _not_possible(facts)
    if intent == "greeting":
        return GREETING.format(store=store)
    if intent == "out_of_scope":
        return OUT_OF_SCOPE.format(store=store)
    if facts.handoff:
        sorry = (
            ""
            if facts.handoff["reason"].startswith("customer")
            else ("I'm sorry I couldn't sort this out myself. ")
        )
        return (
            f"{sorry}I've passed your conversation to our support team (ticket "
            f"{facts.handoff['ticket_id']}). A person will pick it up and reply here or by email."
        )
    parts = [
        _details(facts),
        _products(facts, intent),
        _policy(facts),
        _orders(facts),
        _history(facts),
    ]
    text = "\n\n".join(p for p in parts if p)
    if facts.failures and not text:
        return _failure(facts)
    if facts.inventory_down:
        text = (text + "\n\n" if text else "") + INVENTORY_DOWN
    if facts.search_down and not facts.products:
        text = (text + "\n\n" if text else "") + SEARCH_DOWN
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
    head = "Here is what I found:"
    if facts.based_on:
        head = f"Based on your recent order of {' and '.join(facts.based_on)}, you might like:"
    text = head + "\n" + "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))
    if facts.left_out:
        text += f"\n(I left out {', '.join(facts.left_out)}, which you bought recently.)"
    return text


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
    cited = f"From our return policy ({best['heading']}): {best['text'].strip()}"
    rule = best.get("rule")
    return f"{rule_sentence(rule, best.get('category'))}\n\n{cited}" if rule else cited


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


def _history(facts: Facts) -> str:
    """The customer's order history, one line per order (only their own orders)."""
    found = facts.order_history
    if found is None:
        return ""
    if not found["orders"]:
        return "You have no orders with us yet."
    name = found["customer_name"].split()[0]
    rows = [
        f"- {o['number']}: placed {str(o['placed_at'])[:10]}, "
        f"{o['status'].replace('_', ' ')}, {o['units']} item{'s' if o['units'] != 1 else ''}, "
        f"{money(o['total'], o['currency'])}"
        for o in found["orders"]
    ]
    more = len(found["orders"]) < found["count"]
    head = f"Here are your {found['count']} orders, {name}, newest first:"
    if more:
        head = f"Here are the newest {len(rows)} of your {found['count']} orders, {name}:"
    elif found["count"] == 1:
        head = f"Here is your order, {name}:"
    tail = "\nAsk me about any of them by its number." if rows else ""
    return head + "\n" + "\n".join(rows) + tail


METHODS = {"original_payment": "your original payment method", "store_credit": "store credit"}


def return_question(verdict: Any) -> str:
    """State exactly what will happen and ask for a yes/no."""
    fee = Decimal(str(verdict.restocking_fee))
    fee_text = f" after a {money(fee)} restocking fee" if fee else ""
    return (
        f"I can start a return for {verdict.quantity} x {verdict.name} from order "
        f"{verdict.order_number}. You'd get {money(verdict.refund_amount)}{fee_text}, "
        f"refunded to {METHODS[verdict.refund_method]} once we receive the item "
        f"({verdict.condition_required}). Shall I go ahead? (yes/no)"
    )


def cancel_question(check: Any) -> str:
    return (
        f"I can cancel order {check.order_number} now; {money(check.refund_amount)} would be "
        "refunded to your original payment method. Shall I cancel it? (yes/no)"
    )


def _after_confirmation(facts: Facts, decision: str, proposal: dict) -> str:
    action = "return" if proposal["action"] == "start_return" else "cancellation"
    if decision == "no":
        return f"Okay, I haven't started the {action}. Is there anything else I can do?"
    if decision == "unclear":
        return (
            f"I didn't get a clear yes, so I haven't started the {action}. "
            "If you'd like to go ahead, just ask again."
        )
    if facts.return_created:
        r = facts.return_created
        opened = "is open" if r["created"] else "was already open"
        return (
            f"Done: return {r['return_id']} {opened} for {r['quantity']} x {r['name']} "
            f"(order {r['order_number']}). We'll refund {money(r['refund_amount'])} to "
            f"{METHODS[r['refund_method']]} once the item arrives back with us."
        )
    if facts.cancel_result:
        c = facts.cancel_result
        return (
            f"Done: order {c['order_number']} is cancelled. {money(c['refund_amount'])} will be "
            "refunded to your original payment method."
        )
    reason = facts.failures[0]["message"] if facts.failures else "something went wrong"
    return f"I couldn't complete the {action}: {reason}."


def _not_possible(facts: Facts) -> str:
    if facts.cancel_check:
        c = facts.cancel_check
        return f"Order {c['order_number']} can't be cancelled: {c['reason']}."
    lines = []
    for item in facts.return_checks:
        if not item["eligible"]:
            lines.append(
                f"{item['name']} (order {item['order_number']}) can't be returned: "
                + "; ".join(item["reasons"])
                + "."
            )
    return "\n".join(lines) or "I couldn't find an item to return in that order."


def _failure(facts: Facts) -> str:
    names = {f["name"] for f in facts.failures}
    if "check_price_stock" in names:
        return INVENTORY_DOWN
    if "search_products" in names:
        return SEARCH_DOWN
    if "get_order_status" in names:
        return "I need to verify it's you before I can look up orders."
    refused = [f for f in facts.failures if f.get("error") in ("ActionNotAllowed", "NotVerified")]
    if refused and names & {"check_return_eligibility", "check_return_items"}:
        return f"I couldn't start that return: {refused[0]['message']}."
    return "Something went wrong on our side; please try again in a moment."
