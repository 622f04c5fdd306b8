"""The agent's tools: typed functions with docstrings written for the model.

Each takes its dependency (catalog, inventory, ...) first and returns a pydantic result.
Security rules live here and below (order ownership), never in prompts.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from shopagent.tools.change_rules import cancel_reason_problems
from shopagent.tools.eligibility import cancel_eligibility, return_eligibility
from shopagent.tools.protocols import Catalog, Inventory, Orders, Policy
from shopagent.tools.results import (
    CancelEligibility,
    CancelResult,
    ItemCondition,
    OrderHistoryResult,
    OrderStatusResult,
    OrderSummary,
    OrderView,
    PolicyResult,
    PriceStockResult,
    ProductDetails,
    ProductHit,
    RecommendationResult,
    ReturnCheckResult,
    ReturnCreated,
    SearchFilters,
    SearchResult,
    VerifiedCustomer,
)
from shopagent.tools.store.schema import ActionRules

from shopagent.errors import ActionNotAllowed, NotVerified


def search_products(
    catalog: Catalog, query: str, filters: SearchFilters | None = None, k: int = 5
) -> SearchResult:
    """Search the store's catalog for products matching the shopper's words.

    Args:
        query: what the shopper is looking for, in their words (e.g. "gooseneck kettle").
        filters: optional price range, category, brand and attribute (colour, size) filters.
        k: how many products to return (1-20).

    Returns catalog list prices; call check_price_stock for live price and stock.
    """
    filters = filters or SearchFilters()
    hits = catalog.search(query, filters=filters, k=max(1, min(k, 20)))
    return SearchResult(query=query, filters=filters, hits=hits)


async def check_price_stock(inventory: Inventory, skus: list[str]) -> PriceStockResult:
    """Get the live price and units in stock for one or more SKUs from the inventory API.

    Args:
        skus: the SKUs to check (from search results or product details).

    Raises InventoryUnavailable when live data cannot be confirmed right now.
    """
    wanted = list(dict.fromkeys(s.strip() for s in skus if s.strip()))
    quotes = await inventory.quotes(wanted)
    return PriceStockResult(
        quotes=[quotes[s] for s in wanted if s in quotes],
        unknown=[s for s in wanted if s not in quotes],
    )


def get_product_details(catalog: Catalog, product_id: str) -> ProductDetails | None:
    """Get a product's description, attributes and variants (SKUs) by its product id."""
    product = catalog.get(product_id)
    if product is None:
        return None
    return ProductDetails(
        product_id=product.id,
        name=product.name,
        brand=product.brand,
        category=product.category,
        description=product.description,
        attributes=product.attributes,
        variants=[{"sku": v.sku, **v.attributes} for v in product.variants],
        final_sale=product.final_sale,
    )


def lookup_return_policy(
    policy: Policy, question: str, category: str | None = None
) -> PolicyResult:
    """Find the sections of the store's return policy that answer a question.

    Args:
        question: the shopper's policy question (e.g. "can I return opened headphones?").
        category: the product category it is about, if known (e.g. "Electronics").
    """
    return PolicyResult(
        question=question, category=category, sections=policy.lookup(question, category=category)
    )


def get_order_status(
    orders: Orders,
    customer: VerifiedCustomer | None,
    order_number: str | None = None,
    statuses: list[str] | None = None,
) -> OrderStatusResult:
    """Get the status of the verified customer's order, or their recent orders.

    Args:
        order_number: the order to look up (e.g. "SA-100234"); omit for the recent orders.
        statuses: with no order number, only orders in these statuses (e.g. ["delivered"]).

    Only orders of the verified customer are visible: any other order is "not found".
    Raises NotVerified when no customer is verified.
    """
    if customer is None:
        raise NotVerified("order lookups need a verified customer")
    if order_number:
        found = orders.order(customer.id, order_number)
        found_orders = [found] if found else []
    else:
        found_orders = [
            o for o in orders.orders_for(customer.id) if not statuses or o.status in statuses
        ][:5]
    return OrderStatusResult(customer_name=customer.name, orders=found_orders)


def list_orders(
    orders: Orders, customer: VerifiedCustomer | None, limit: int = 20
) -> OrderHistoryResult:
    """List the verified customer's order history, newest first: number, date, status,
    units and total of each order (at most ``limit``; ``count`` says how many there are).

    Only the verified customer's own orders are listed. Raises NotVerified when no
    customer is verified.
    """
    if customer is None:
        raise NotVerified("the order history needs a verified customer")
    mine = orders.orders_for(customer.id)
    rows = [
        OrderSummary(
            number=o.number,
            status=o.status,
            placed_at=o.placed_at,
            units=sum(i.quantity for i in o.items),
            total=o.total,
            currency=o.currency,
        )
        for o in mine[: max(1, min(limit, 50))]
    ]
    return OrderHistoryResult(customer_name=customer.name, orders=rows, count=len(mine))


def _own_order(orders: Orders, customer: VerifiedCustomer | None, order_number: str) -> OrderView:
    if customer is None:
        raise NotVerified("returns and cancellations need a verified customer")
    order = orders.order(customer.id, order_number)
    if order is None:
        raise ActionNotAllowed(f"order {order_number} was not found on your account")
    return order


def check_return_eligibility(
    orders: Orders,
    policy: Policy,
    customer: VerifiedCustomer | None,
    order_number: str,
    *,
    today: date,
    sku: str | None = None,
    condition: ItemCondition | None = None,
) -> ReturnCheckResult:
    """Check whether items of the verified customer's order can be returned, and the refund.

    Args:
        order_number: the order (e.g. "SA-100234").
        sku: one item of the order; omit to check every item.
        condition: what the shopper says about the item: "unopened", "unused" or "used".
    """
    order = _own_order(orders, customer, order_number)
    done = orders.returned_skus(customer.id, order.number) if customer else set()
    verdicts = []
    for line in order.items:
        if sku and line.sku != sku:
            continue
        rule = policy.rules.rule_for(line.category) if line.category else policy.rules.default
        verdict = return_eligibility(order, line, rule, today=today, condition=condition)
        if line.sku in done:
            verdict = verdict.model_copy(
                update={"eligible": False, "reasons": ["a return for this item is already open"]}
            )
        verdicts.append(verdict)
    return ReturnCheckResult(order_number=order.number, items=verdicts)


def start_return(
    orders: Orders,
    policy: Policy,
    customer: VerifiedCustomer | None,
    order_number: str,
    sku: str,
    *,
    now: datetime,
    condition: ItemCondition | None = None,
) -> ReturnCreated:
    """Open a return for one item of the verified customer's order (after they confirmed).

    Eligibility is checked again here, whatever the caller says; a repeated call for the
    same item returns the existing return instead of creating a second one.
    """
    order = _own_order(orders, customer, order_number)
    line = next((i for i in order.items if i.sku == sku), None)
    if line is None:
        raise ActionNotAllowed(f"order {order.number} has no item {sku}")
    rule = policy.rules.rule_for(line.category) if line.category else policy.rules.default
    verdict = return_eligibility(order, line, rule, today=now.date(), condition=condition)
    existing = sku in orders.returned_skus(customer.id, order.number)
    if not verdict.eligible and not existing:
        raise ActionNotAllowed("this item cannot be returned: " + "; ".join(verdict.reasons))
    return orders.create_return(customer.id, verdict, now=now)


def cancel_order(
    orders: Orders,
    customer: VerifiedCustomer | None,
    order_number: str,
    *,
    today: date,
    reason: str | None = None,
    rules: ActionRules | None = None,
) -> CancelResult:
    """Cancel the verified customer's order if its status may still be cancelled
    (``rules.cancellable_statuses``, after they confirmed).

    Args:
        reason: why, one of the shop's cancel reasons ("no longer needed", "ordered by
            mistake"); optional.
    """
    order = _own_order(orders, customer, order_number)
    rules = rules or ActionRules()
    verdict = cancel_eligibility(order, rules)
    problems = cancel_reason_problems(reason, rules)
    if (not verdict.eligible or problems) and order.status != "cancelled":
        why = "; ".join(filter(None, [verdict.reason, *problems]))
        raise ActionNotAllowed(f"order {order.number} cannot be cancelled: {why}")
    after = orders.cancel(
        customer.id,
        order.number,
        on=today,
        reason=reason,
        statuses=tuple(rules.cancellable_statuses),
    )
    status = after.status if after else order.status
    return CancelResult(
        order_number=order.number,
        status=status,
        cancelled=order.status != "cancelled" and status == "cancelled",
        refund_amount=order.total,
    )


def check_cancel_eligibility(
    orders: Orders,
    customer: VerifiedCustomer | None,
    order_number: str,
    rules: ActionRules | None = None,
) -> CancelEligibility:
    """Check whether the verified customer's order can still be cancelled."""
    return cancel_eligibility(_own_order(orders, customer, order_number), rules)


def _noun(name: str) -> str:
    words = [w for w in name.casefold().replace("–", " ").split() if w.isalpha()]
    return words[-1] if words else ""


def recent_purchases(orders: Orders, customer: VerifiedCustomer, *, limit: int = 5) -> list[Any]:
    """Order lines of the customer's most recent non-cancelled orders, newest first."""
    lines = []
    for order in orders.orders_for(customer.id):
        if order.status != "cancelled":
            lines.extend(order.items)
    return lines[:limit]


def recommend_for_customer(
    catalog: Catalog, orders: Orders, customer: VerifiedCustomer | None, k: int = 5
) -> RecommendationResult:
    """Recommend products that go with the verified customer's recent purchases.

    Picks other kinds of products from the categories they bought in, never the products
    (or kinds of product) they just bought.
    """
    if customer is None:
        raise NotVerified("personal recommendations need a verified customer")
    bought = recent_purchases(orders, customer)
    owned_ids = {line.product_id for line in bought}
    owned_kinds = {_noun(line.name) for line in bought}
    hits: list[ProductHit] = []
    for line in bought[:2]:
        if not line.category:
            continue
        found = catalog.search(line.category, filters=SearchFilters(category=line.category), k=20)
        for hit in found:
            fresh = hit.product_id not in owned_ids and _noun(hit.name) not in owned_kinds
            if fresh and hit.product_id not in {h.product_id for h in hits}:
                hits.append(hit)
    return RecommendationResult(based_on=[line.name for line in bought[:2]], hits=hits[:k])
