"""Entity variables: dialogs name products, orders and customers by query, not by value.

A dialog's ``vars`` map a name to a query over the eval store, e.g.::

    vars:
      mug: "product: category=Kitchen, in_stock"
      order: "order: status=shipped"
      buyer: "customer: owner_of=order"

and its text uses ``{mug.name}``, ``{order.number}``, ``{buyer.email}``. A query is a kind
(``product``, ``order``, ``customer``) and comma-separated filters: ``key=value``,
``key!=value``, ``key<value`` (``<=``, ``>``, ``>=``), a flag (``in_stock``) or a negated flag
(``!final_sale``). Values may name an earlier variable (``owner_of=order``).

Among the matches one is picked deterministically from the dialog id and variable name
(``pick=N`` takes the N-th match instead), so the suite spreads over the store; an entity
chosen by filters alone differs from earlier variables of the same kind. A query with no
match is an error naming the dialog and the variable. docs/evals.md lists every filter and
field.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from shopagent.agent.answering.facts import money
from shopagent.evals.entities_actions import action_fields, add_recency
from shopagent.evals.entities_policy import policy_entities, store_entity
from shopagent.tools.store.db import StoreDB
from shopagent.tools.store.schema import Order, Product, ReturnPolicy

KINDS = ("product", "order", "customer", "policy", "store")
_FILTER = re.compile(r"^(!?)([a-z_][a-z0-9_]*)\s*(?:(<=|>=|!=|=|<|>)\s*(.+))?$")
_TEMPLATE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\.([a-z_][a-z0-9_]*)\}")


class EntityError(ValueError):
    """A variable's query is malformed or matches nothing in the eval store."""


@dataclass(frozen=True)
class Filter:
    """One parsed filter of a query."""

    key: str
    op: str = "flag"
    value: str = ""
    negated: bool = False


@dataclass(frozen=True)
class Query:
    """A parsed variable query: kind plus filters."""

    kind: str
    filters: tuple[Filter, ...] = ()

    @property
    def pick(self) -> int | None:
        for f in self.filters:
            if f.key == "pick":
                return int(f.value)
        return None

    @property
    def references(self) -> bool:
        """Whether a filter names another variable (then distinctness is not enforced)."""
        return any(f.key in _VAR_FILTERS for f in self.filters)


_VAR_FILTERS = frozenset({"owner_of", "owner", "not_owner", "not"})


def parse_query(text: str) -> Query:
    """Parse ``"kind: f1, f2=v"``; EntityError when malformed."""
    kind, _, rest = text.partition(":")
    kind = kind.strip()
    if kind not in KINDS:
        raise EntityError(f"query {text!r}: kind must be one of {', '.join(KINDS)}")
    filters = []
    for part in (p.strip() for p in rest.split(",")):
        if not part:
            continue
        m = _FILTER.match(part)
        if not m:
            raise EntityError(f"query {text!r}: cannot read filter {part!r}")
        neg, key, op, value = m.groups()
        if op is None:
            filters.append(Filter(key=key, negated=bool(neg)))
        else:
            if neg:
                raise EntityError(f"query {text!r}: '!' only negates flags ({part!r})")
            filters.append(Filter(key=key, op=op, value=value.strip()))
    query = Query(kind=kind, filters=tuple(filters))
    if query.pick is not None and query.pick < 1:
        raise EntityError(f"query {text!r}: pick must be >= 1")
    return query


@dataclass
class StoreIndex:
    """The eval store seen as entities with the fields dialogs may use.

    Built once per run from the store database; also used by the policy scorer (who owns
    which order, customer names and emails).
    """

    today: date
    policy: ReturnPolicy
    public_text: str = ""
    """Text every shopper may see (policy documents): order numbers in it are examples."""
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    store: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_db(cls, db: StoreDB, today: date) -> StoreIndex:
        """Read every product, customer and order of ``db``."""
        index = cls(
            today=today, policy=db.policy(), public_text="\n".join(db.policy_docs().values())
        )
        stock = {r["sku"]: int(r["stock"]) for r in db.rows("SELECT sku, stock FROM skus")}
        catalog: dict[str, Product] = {p.id: p for p in db.products()}
        names = [p.name.casefold() for p in catalog.values()]
        for product in catalog.values():
            index.products[product.id] = _product_fields(product, stock, names, index.policy)
        index.policies = policy_entities(index.policy, catalog.values())
        for row in db.rows("SELECT * FROM customers ORDER BY id"):
            index.customers[row["id"]] = {
                "id": row["id"],
                "name": row["name"],
                "first_name": row["name"].split()[0],
                "email": row["email"],
                "zip": row["zip"],
                "orders": 0,
                "delivered_orders": 0,
                "latest_order": "",
            }
        for row in db.rows("SELECT data FROM orders ORDER BY placed_at, number"):
            order = Order.model_validate_json(row["data"])
            customer = index.customers[order.customer_id]
            customer["orders"] += 1
            customer["delivered_orders"] += order.status == "delivered"
            customer["latest_order"] = order.number  # newest last, as the order tools sort
            fields = _order_fields(order, customer, catalog, index)
            noun = index.products.get(order.items[0].product_id, {}).get("noun", "")
            fields |= action_fields(
                order,
                catalog,
                stock,
                db.payment_methods_of(order.customer_id),
                index.policy,
                today,
                noun,
            )
            index.orders[order.number] = fields
        add_recency(index.orders)
        index.store = store_entity(db.info(), index.orders)
        return index

    def owner_of(self, order_number: str) -> str | None:
        """The id of the customer who owns ``order_number`` (None when unknown)."""
        order = self.orders.get(order_number.upper())
        return order["customer_id"] if order else None

    def window_days(self, category: str) -> int:
        return self.policy.rule_for(category).window_days


def _product_fields(
    product: Product, stock: Mapping[str, int], all_names: list[str], policy: ReturnPolicy
) -> dict[str, Any]:
    cheapest = min(product.variants, key=lambda v: v.price)
    noun = product.tags[0] if product.tags else product.name.split()[-1].casefold()
    noun_words = noun.split()
    stocks = [stock.get(v.sku, 0) for v in product.variants]
    colors = [v.attributes["color"] for v in product.variants if "color" in v.attributes]
    budget = int(cheapest.price * 3 / 2 // 10 + 1) * 10
    return {
        "id": product.id,
        "name": product.name,
        "brand": product.brand,
        "category": product.category,
        "noun": noun,
        "sku": cheapest.sku,
        "price": money(cheapest.price, cheapest.currency),
        "price_value": str(cheapest.price),
        "budget": str(budget),
        "stock": stocks[product.variants.index(cheapest)],
        "variants": len(product.variants),
        "color": (colors[0] if colors else product.attributes.get("color", "")),
        "colors": len(colors),
        "material": product.attributes.get("material", ""),
        "window_days": policy.rule_for(product.category).window_days,
        "own_window": policy.rule_for(product.category).window_days != policy.default.window_days,
        "final_sale": product.final_sale,
        "in_stock": all(s > 0 for s in stocks),
        "out_of_stock": all(s == 0 for s in stocks),
        "noun_words": len(noun_words),
        "noun_tokens": len(re.findall(r"[a-z0-9]+", noun.casefold())),
        # several products' names contain every word of the noun: "the <noun>" is ambiguous
        "ambiguous": sum(all(w in n for w in noun_words) for n in all_names) >= 2,
    }


def _order_fields(
    order: Order, customer: dict[str, Any], catalog: Mapping[str, Product], index: StoreIndex
) -> dict[str, Any]:
    first = order.items[0]
    products = [catalog.get(i.product_id) for i in order.items]
    categories = [p.category if p else "" for p in products]
    final_sale = any(p is not None and p.final_sale for p in products) or any(
        index.policy.rule_for(c).final_sale for c in categories if c
    )
    days = (index.today - order.delivered_at).days if order.delivered_at else None
    windows = [index.policy.rule_for(c).window_days for c in categories]
    in_window = order.status == "delivered" and days is not None and all(days <= w for w in windows)
    out_window = order.status == "delivered" and days is not None and all(days > w for w in windows)
    return {
        "number": order.number,
        "status": order.status,
        "customer_id": order.customer_id,
        "email": customer["email"],
        "customer_name": customer["name"],
        "first_name": customer["first_name"],
        "zip": customer["zip"],
        "item": first.name,
        "item_sku": first.sku,
        "items": len(order.items),
        "category": categories[0],
        "total": money(order.total, order.currency),
        "placed_at": order.placed_at.date().isoformat(),
        "shipped_at": order.shipped_at.isoformat() if order.shipped_at else "",
        "delivered_at": order.delivered_at.isoformat() if order.delivered_at else "",
        "cancelled_at": order.cancelled_at.isoformat() if order.cancelled_at else "",
        "carrier": order.carrier or "",
        "tracking": order.tracking_number or "",
        "days_since_delivery": days,
        "final_sale": final_sale,
        "within_window": in_window and not final_sale,
        "outside_window": out_window and not final_sale,
        "window_days": min(windows),
        "condition": index.policy.rule_for(categories[0]).condition,
        "window_ends": (
            (order.delivered_at + timedelta(days=min(windows))).isoformat()
            if order.delivered_at
            else ""
        ),
    }


# --------------------------------------------------------------------------- matching


def _compare(actual: Any, op: str, expected: str) -> bool:
    if isinstance(actual, bool) or actual is None:
        wanted = expected.casefold() in {"true", "yes", "1"}
        return (bool(actual) == wanted) if op == "=" else (bool(actual) != wanted)
    if isinstance(actual, int | float | Decimal) or op in {"<", ">", "<=", ">="}:
        try:
            left = Decimal(str(actual).lstrip("$"))
            right = Decimal(expected.lstrip("$"))
        except InvalidOperation:
            return False
        return {
            "=": left == right,
            "!=": left != right,
            "<": left < right,
            ">": left > right,
            "<=": left <= right,
            ">=": left >= right,
        }[op]
    same = str(actual).casefold() == expected.casefold()
    return same if op == "=" else not same


Resolved = dict[str, dict[str, Any]]


def _var_filter(
    kind: str, f: Filter, bound: Resolved, index: StoreIndex
) -> Callable[[dict[str, Any]], bool]:
    other = bound.get(f.value)
    if other is None:
        raise EntityError(f"filter {f.key}={f.value}: no earlier variable {f.value!r}")
    if f.key == "not":
        return lambda e: e != other
    if kind == "customer" and f.key == "owner_of":
        owner = other.get("customer_id")
        return lambda e: e["id"] == owner
    if kind == "order" and f.key in {"owner", "not_owner"}:
        cid = other.get("id") or other.get("customer_id")
        if f.key == "owner":
            return lambda e: e["customer_id"] == cid
        return lambda e: e["customer_id"] != cid
    raise EntityError(f"filter {f.key!r} does not apply to a {kind}")


def _matcher(query: Query, bound: Resolved, index: StoreIndex) -> Callable[[dict[str, Any]], bool]:
    tests: list[Callable[[dict[str, Any]], bool]] = []
    sample = next(iter(_pool(query.kind, index).values()), {})
    for f in query.filters:
        if f.key == "pick":
            continue
        if f.key in _VAR_FILTERS:
            tests.append(_var_filter(query.kind, f, bound, index))
            continue
        if f.key == "has_status" and query.kind == "customer":
            statuses = {o["customer_id"] for o in index.orders.values() if o["status"] == f.value}
            tests.append(lambda e, s=statuses: e["id"] in s)
            continue
        if f.key not in sample:
            raise EntityError(
                f"unknown {query.kind} field {f.key!r}; known: {', '.join(sorted(sample))}"
            )
        if f.op == "flag":
            tests.append(lambda e, k=f.key, neg=f.negated: bool(e[k]) != neg)
        else:
            tests.append(lambda e, k=f.key, op=f.op, v=f.value: _compare(e[k], op, v))
    return lambda e: all(t(e) for t in tests)


def _pool(kind: str, index: StoreIndex) -> dict[str, dict[str, Any]]:
    pools = {"product": index.products, "order": index.orders, "customer": index.customers}
    return pools[kind] if kind in pools else {"policy": index.policies, "store": index.store}[kind]


def _stable_pick(seed: str, count: int) -> int:
    return int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16) % count


def resolve_vars(dialog_id: str, queries: Mapping[str, str], index: StoreIndex) -> Resolved:
    """Bind every variable of a dialog to an entity of the store (EntityError if none)."""
    bound: Resolved = {}
    kinds: dict[str, str] = {}
    for name, text in queries.items():
        try:
            query = parse_query(text)
            test = _matcher(query, bound, index)
        except EntityError as exc:
            raise EntityError(f"variable {name!r}: {exc}") from None
        taken = [bound[v] for v, k in kinds.items() if k == query.kind]
        matches = [
            e
            for _, e in sorted(_pool(query.kind, index).items())
            if test(e) and (query.references or e not in taken)
        ]
        if not matches:
            raise EntityError(
                f"variable {name!r}: no {query.kind} in the eval store matches {text!r} "
                "(the store changed, or the filters are too narrow)"
            )
        pick = query.pick
        if pick is not None and pick > len(matches):
            raise EntityError(f"variable {name!r}: pick={pick} but only {len(matches)} match")
        chosen = (
            matches[pick - 1]
            if pick
            else matches[_stable_pick(f"{dialog_id}/{name}", len(matches))]
        )
        bound[name] = chosen
        kinds[name] = query.kind
    return bound


def substitute(value: Any, bound: Resolved) -> Any:
    """``value`` with every ``{var.field}`` replaced (recursively through lists and dicts)."""
    if isinstance(value, str):

        def repl(m: re.Match[str]) -> str:
            var, name = m.groups()
            if var not in bound:
                raise EntityError(f"{m.group(0)}: no variable {var!r} (declare it under vars)")
            entity = bound[var]
            if name not in entity:
                raise EntityError(
                    f"{m.group(0)}: unknown field {name!r}; known: {', '.join(sorted(entity))}"
                )
            return str(entity[name])

        return _TEMPLATE.sub(repl, value)
    if isinstance(value, list):
        return [substitute(v, bound) for v in value]
    if isinstance(value, dict):
        return {substitute(k, bound): substitute(v, bound) for k, v in value.items()}
    return value
