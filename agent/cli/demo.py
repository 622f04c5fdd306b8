"""The scripted demo conversation, built from whatever store is loaded (no canned answers)."""

from __future__ import annotations

from shopagent.tools.store.db import StoreDB


def demo_script(db: StoreDB) -> list[str]:
    """Seven shopper turns that exercise search, price/stock, follow-ups, policy, orders,
    and handoff, using real products and a real customer of ``db``."""
    row = db.rows(
        "SELECT p.id FROM products p JOIN skus s ON s.product_id = p.id "
        "WHERE s.stock > 0 AND p.final_sale = 0 ORDER BY p.id LIMIT 1"
    )[0]
    product = db.product(row["id"])
    assert product is not None
    price = min(v.price for v in product.variants)
    budget = int(price * 3 / 2 // 10 + 1) * 10
    kind = " ".join(product.name.split()[-2:]).lower()
    order = db.rows(
        "SELECT o.number, c.email FROM orders o JOIN customers c ON c.id = o.customer_id "
        "WHERE o.status = 'shipped' ORDER BY o.number LIMIT 1"
    )[0]
    return [
        "Hi there!",
        f"I'm looking for a {kind} under ${budget}",
        f"How much is the {product.name}?",
        "Is it in stock?",
        "Can I return it if I change my mind?",
        f"Where is my order {order['number']}? My email is {order['email']}.",
        "Thanks! Can I talk to a person about a gift card?",
    ]
