"""Policy and store entities: return-policy categories of the eval store, so policy dialogs name the
store's own rules instead of one store's numbers (``policy: fee`` -> ``{r.word}``,
``{r.restocking_fee}``).

One entity per policy category plus the default rule (``default``). Fields: ``category`` (the
policy category's name; "" for the default), ``word`` (what a shopper calls it: the
store's catalog category with the most products under it, lowercased; else the policy name),
``catalog_category``, ``window_days``, ``condition``, ``refund_method``,
``restocking_fee`` ("15%", "" when none), ``restocking_fee_pct``; flags ``default``, ``fee``,
``store_credit``, ``unopened``, ``any_condition``, ``final_sale``, ``longer_window`` (a window
longer than the default's), ``sold`` (the catalog has products under it).

The ``store`` kind has one entity, the shop itself: ``name``, ``support_email``,
``support_hours``, ``currency``, ``unknown_order`` (an order number of the store's shape that
no order has) (``s: "store:"`` -> ``{s.name}``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from shopagent.tools.policy_categories import policy_category_for
from shopagent.tools.store.schema import Product, ReturnPolicy, ReturnRule, StoreInfo


def _fields(name: str, rule: ReturnRule, default: ReturnRule, under: Counter[str]) -> dict:
    catalog = under.most_common(1)[0][0] if under else ""
    pct = rule.restocking_fee_pct
    return {
        "category": name,
        "word": (catalog or name).casefold(),
        "catalog_category": catalog,
        "window_days": rule.window_days,
        "condition": rule.condition,
        "refund_method": rule.refund_method,
        "restocking_fee": f"{pct.normalize():f}%" if pct else "",
        "restocking_fee_pct": pct,
        "default": not name,
        "fee": pct > 0,
        "store_credit": rule.refund_method == "store_credit",
        "unopened": rule.condition == "unopened",
        "any_condition": rule.condition == "any",
        "final_sale": rule.final_sale,
        "longer_window": rule.window_days > default.window_days,
        "sold": bool(under),
    }


def policy_entities(policy: ReturnPolicy, products: Iterable[Product]) -> dict[str, dict[str, Any]]:
    """Entity fields by policy category name ("default" for the default rule)."""
    under: dict[str, Counter[str]] = {name: Counter() for name in policy.categories}
    for product in products:
        if name := policy_category_for(product.category, policy.categories):
            under[name][product.category] += 1
    out = {"default": _fields("", policy.default, policy.default, Counter())}
    for name, rule in policy.categories.items():
        out[name] = _fields(name, rule, policy.default, under[name])
    return out


def store_entity(info: StoreInfo, orders: Iterable[str] = ()) -> dict[str, dict[str, Any]]:
    """The shop as the one entity of the ``store`` kind; ``unknown_order`` is an order number
    of the store's own shape that no order has (its newest number with every digit a 9)."""
    numbers = list(orders)
    unknown = re.sub(r"\d", "9", numbers[-1]) if numbers else ""
    while unknown in numbers:
        unknown += "9"
    return {
        "store": {
            "unknown_order": unknown,
            "name": info.name,
            "support_email": info.support_email or "",
            "support_hours": info.support_hours or "",
            "currency": info.currency,
        }
    }
