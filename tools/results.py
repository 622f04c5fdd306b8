"""Typed results that tools return and the composer verifies answers against."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from shopagent.tools.store.schema import Address, Money, OrderStatus, Payment, ReturnRule


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class SearchFilters(_Result):
    """Structured constraints parsed from a request and applied in the store query."""

    min_price: Decimal | None = None
    max_price: Decimal | None = None
    category: str | None = None
    brand: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    in_stock_only: bool = False


class ProductHit(_Result):
    """One catalog search result."""

    product_id: str
    name: str
    brand: str
    category: str
    sku: str = Field(description="The default (cheapest) SKU of the product.")
    skus: list[str] = Field(default_factory=list)
    price: Money = Field(description="Catalog list price of the default SKU.")
    currency: str = "USD"
    score: float = 0.0
    reason: str = Field("", description="Why it matched, in a few words.")


class StockQuote(_Result):
    """Live price and stock of one SKU, as served by the inventory API."""

    sku: str
    price: Money
    currency: str = "USD"
    stock: int = Field(ge=0)
    as_of: datetime | None = None

    @property
    def in_stock(self) -> bool:
        return self.stock > 0


class VerifiedCustomer(_Result):
    """A customer whose identity was verified (or asserted by the host system)."""

    id: str
    name: str
    email: str


class OrderLine(_Result):
    item_id: str = ""
    """The line's id within the order (its position in old-format stores)."""
    sku: str
    product_id: str
    name: str
    quantity: int
    unit_price: Money
    category: str = ""
    final_sale: bool = False


class OrderView(_Result):
    """An order as the owning customer may see it."""

    number: str
    status: OrderStatus
    placed_at: datetime
    items: list[OrderLine]
    total: Money
    currency: str = "USD"
    carrier: str | None = None
    tracking_number: str | None = None
    shipped_at: date | None = None
    delivered_at: date | None = None
    cancelled_at: date | None = None
    returned_at: date | None = None
    shipping_address: Address | None = None
    payments: list[Payment] = Field(default_factory=list)
    modified: bool = False
    cancel_reason: str | None = None


class PolicySection(_Result):
    """A section of the store's policy documents that answers a question."""

    document: str
    heading: str
    text: str
    score: float = 0.0
    category: str | None = None
    rule: ReturnRule | None = None


class SearchResult(_Result):
    """Result of ``search_products``."""

    query: str
    filters: SearchFilters
    hits: list[ProductHit]


class PriceStockResult(_Result):
    """Result of ``check_price_stock``: live quotes; SKUs the API does not know are listed."""

    quotes: list[StockQuote]
    unknown: list[str] = Field(default_factory=list)


class ProductDetails(_Result):
    """Result of ``get_product_details``."""

    product_id: str
    name: str
    brand: str
    category: str
    description: str
    attributes: dict[str, str]
    variants: list[dict[str, str]] = Field(
        default_factory=list, description="sku plus variant attributes (price comes live)."
    )
    final_sale: bool = False


class PolicyResult(_Result):
    """Result of ``lookup_return_policy``."""

    question: str
    category: str | None
    sections: list[PolicySection]


class OrderStatusResult(_Result):
    """Result of ``get_order_status``: the verified customer's order(s)."""

    customer_name: str
    orders: list[OrderView]


class OrderSummary(_Result):
    """One order of a customer's history, in one line."""

    number: str
    status: str
    placed_at: datetime
    units: int
    total: Decimal
    currency: str = "USD"


class OrderHistoryResult(_Result):
    """Result of ``list_orders``: the verified customer's orders, newest first."""

    customer_name: str
    orders: list[OrderSummary]
    count: int
    """How many orders the customer has (``orders`` may hold fewer: the newest)."""


class HandoffResult(_Result):
    """Result of ``request_human``."""

    ticket_id: str
    reason: str


ItemCondition = Literal["unopened", "unused", "used"]
"""What the shopper says about an item's condition."""


class ReturnEligibility(_Result):
    """The verdict for returning one order line, with the money it would refund."""

    eligible: bool
    reasons: list[str]
    order_number: str
    sku: str
    name: str
    quantity: int
    window_days: int
    window_ends: date | None = None
    days_left: int | None = None
    condition_required: str
    item_total: Decimal
    restocking_fee: Decimal
    refund_amount: Decimal
    refund_method: str


class CancelEligibility(_Result):
    """Whether an order can still be cancelled."""

    eligible: bool
    reason: str
    order_number: str
    refund_amount: Decimal


class ReturnCheckResult(_Result):
    """Result of ``check_return_eligibility``: a verdict per order line considered."""

    order_number: str
    items: list[ReturnEligibility]


class ReturnCreated(_Result):
    """Result of ``start_return``: the return record (``created`` False if it existed)."""

    return_id: str
    order_number: str
    sku: str
    name: str
    quantity: int
    restocking_fee: Decimal
    refund_amount: Decimal
    refund_method: str
    status: str
    created: bool


class CancelResult(_Result):
    """Result of ``cancel_order``."""

    order_number: str
    status: str
    cancelled: bool
    refund_amount: Decimal


class RecommendationResult(_Result):
    """Result of ``recommend_for_customer``: complements of recent purchases."""

    based_on: list[str] = Field(description="Names of the recent purchases used.")
    hits: list[ProductHit]
