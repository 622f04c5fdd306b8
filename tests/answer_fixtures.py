"""Tool-call records for answer plan, realiser and verifier tests (shapes as act records)."""

from __future__ import annotations

from typing import Any


def hit(pid: str, name: str, brand: str, sku: str, price: str, category: str = "Kitchen") -> dict:
    return {
        "product_id": pid,
        "name": name,
        "brand": brand,
        "category": category,
        "sku": sku,
        "skus": [sku],
        "price": price,
        "currency": "USD",
        "score": 1.0,
        "reason": "",
    }


MUG_A = hit("P1", "Crema Lab Slow Brew Travel Mug", "Crema Lab", "M-1", "34.99")
MUG_B = hit("P2", "Bean & Bough Daybreak 3 Travel Mug", "Bean & Bough", "M-2", "31.99")
BASKET = hit("P3", "Saltmarsh Air Fryer Basket", "Saltmarsh", "B-1", "19.99")
BASKET_DETAILS = {
    "product_id": "P3",
    "name": "Saltmarsh Air Fryer Basket",
    "brand": "Saltmarsh",
    "category": "Kitchen",
    "description": (
        "A spare basket for Saltmarsh air fryers. The nonstick basket is dishwasher-safe. "
        "Highlights: nonstick coating, cool-touch handle and a 4 qt capacity."
    ),
    "attributes": {"material": "aluminum", "capacity": "4 qt"},
    "variants": [{"sku": "B-1", "color": "Black"}, {"sku": "B-2", "color": "Silver"}],
    "final_sale": False,
}


def call(name: str, args: dict[str, Any], result: Any, ok: bool = True) -> dict[str, Any]:
    return {"name": name, "args": args, "ok": ok, "result": result}


def search(*hits: dict) -> dict[str, Any]:
    return call(
        "search_products", {"query": "q"}, {"query": "q", "filters": {}, "hits": list(hits)}
    )


def quotes(*pairs: tuple[str, str, int]) -> dict[str, Any]:
    rows = [
        {"sku": s, "price": p, "currency": "USD", "stock": n, "as_of": None} for s, p, n in pairs
    ]
    return call("check_price_stock", {"skus": [r["sku"] for r in rows]}, {"quotes": rows})


def details(d: dict) -> dict[str, Any]:
    return call("get_product_details", {"product_id": d["product_id"]}, d)


FOOTWEAR_RULE = {
    "window_days": 60,
    "condition": "unused",
    "final_sale": False,
    "restocking_fee_pct": "0",
    "refund_method": "original_payment",
}


def policy(category: str | None, rule: dict, text: str = "Returns are easy.") -> dict[str, Any]:
    section = {
        "document": "returns",
        "heading": "Return window",
        "text": text,
        "score": 1.0,
        "category": category,
        "rule": rule,
    }
    return call(
        "lookup_return_policy",
        {"question": "q", "category": category},
        {"question": "q", "category": category, "sections": [section]},
    )


def order(number: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "number": number,
        "status": status,
        "placed_at": "2026-11-01T10:00:00Z",
        "items": [{"quantity": 1, "name": "Travel Mug", "sku": "M-1"}],
        "total": "34.99",
        "currency": "USD",
        **extra,
    }


def orders(*rows: dict) -> dict[str, Any]:
    return call("get_order_status", {}, {"customer_name": "Ada Park", "orders": list(rows)})
