"""The agent's tools: typed functions with docstrings written for the model.

Each takes its dependency (catalog, inventory, ...) first and returns a pydantic result.
Security rules live here and below (order ownership), never in prompts.
"""

from __future__ import annotations

from agent.errors import NotVerified
from tools.protocols import Catalog, Inventory, Orders, Policy
from tools.results import (
    OrderStatusResult,
    PolicyResult,
    PriceStockResult,
    ProductDetails,
    SearchFilters,
    SearchResult,
    VerifiedCustomer,
)


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
    orders: Orders, customer: VerifiedCustomer | None, order_number: str | None = None
) -> OrderStatusResult:
    """Get the status of the verified customer's order, or their recent orders.

    Args:
        order_number: the order to look up (e.g. "SA-100234"); omit for the recent orders.

    Only orders of the verified customer are visible: any other order is "not found".
    Raises NotVerified when no customer is verified.
    """
    if customer is None:
        raise NotVerified("order lookups need a verified customer")
    if order_number:
        found = orders.order(customer.id, order_number)
        found_orders = [found] if found else []
    else:
        found_orders = orders.orders_for(customer.id)[:3]
    return OrderStatusResult(customer_name=customer.name, orders=found_orders)
