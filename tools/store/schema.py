"""The store's data model: one pydantic model per record of docs/store-format.md."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field
from shopagent.tools.policy_categories import policy_category_for


def _cents(value: Decimal) -> Decimal:
    try:
        return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than Decimal arithmetic carries
        raise ValueError("amount too large") from None


MAX_COUNT = 2**63 - 1
"""The largest stock or quantity a database INTEGER column holds."""


Money = Annotated[Decimal, Field(ge=0), AfterValidator(_cents)]
"""A non-negative amount rounded to cents (half up)."""

OrderStatus = Literal["pending", "processing", "shipped", "delivered", "cancelled", "returned"]
ORDER_STATUSES: tuple[OrderStatus, ...] = (
    "pending",
    "processing",
    "shipped",
    "delivered",
    "cancelled",
    "returned",
)
Condition = Literal["any", "unused", "unopened"]
RefundMethod = Literal["original_payment", "store_credit"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreInfo(_Record):
    """``store.yaml``: the shop itself."""

    name: str = Field(min_length=1)
    currency: str = Field("USD", min_length=3, max_length=3)
    timezone: str = "UTC"
    support_email: str | None = None
    support_hours: str | None = None


class Variant(_Record):
    """One purchasable SKU of a product (e.g. a colour/size combination)."""

    sku: str = Field(min_length=1, max_length=64)
    attributes: dict[str, str] = Field(default_factory=dict)
    price: Money
    currency: str = Field("USD", min_length=3, max_length=3)


SEARCH_TEXT_ORDER = (
    "name",
    "brand_category",
    "description",
    "attributes",
    "variant_attributes",
    "tags",
)
"""The order of :meth:`Product.text_parts` in the lexical search text."""


class Product(_Record):
    """A catalog product (``products.jsonl``, one per line)."""

    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=300)
    brand: str = Field(min_length=1, max_length=120)
    category: str = Field(min_length=1, max_length=120)
    description: str = Field(max_length=10_000)
    attributes: dict[str, str] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    final_sale: bool = False
    variants: list[Variant] = Field(min_length=1)

    def text_parts(self) -> dict[str, str]:
        """The searchable text of the product, by part (empty parts are empty strings)."""
        variant_attrs = sorted(
            {f"{k}: {v}" for variant in self.variants for k, v in variant.attributes.items()}
        )
        return {
            "name": self.name,
            "brand_category": f"{self.brand} · {self.category}",
            "description": self.description,
            "attributes": ", ".join(f"{k}: {v}" for k, v in sorted(self.attributes.items())),
            "variant_attributes": ", ".join(variant_attrs),
            "tags": ", ".join(self.tags),
        }

    def search_text(self, order: tuple[str, ...] = SEARCH_TEXT_ORDER) -> str:
        """The text that is indexed for search (hashing it detects changes): the non-empty
        :meth:`text_parts` in ``order``, one per line."""
        parts = self.text_parts()
        return "\n".join(parts[name] for name in order if parts[name])


class StockLevel(_Record):
    """``stock.jsonl``: units on hand per SKU."""

    sku: str = Field(min_length=1, max_length=64)
    stock: int = Field(ge=0, le=MAX_COUNT)


class Customer(_Record):
    """``customers.jsonl``: a registered customer."""

    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    zip: str = Field(min_length=3, max_length=12)


class OrderItem(_Record):
    """One line of an order."""

    sku: str
    product_id: str
    name: str
    quantity: int = Field(ge=1, le=MAX_COUNT)
    unit_price: Money


class Order(_Record):
    """``orders.jsonl``: an order and its lifecycle dates."""

    number: str = Field(min_length=1, max_length=64)
    customer_id: str
    status: OrderStatus
    placed_at: datetime
    items: list[OrderItem] = Field(min_length=1)
    currency: str = Field("USD", min_length=3, max_length=3)
    carrier: str | None = None
    tracking_number: str | None = None
    shipped_at: date | None = None
    delivered_at: date | None = None
    cancelled_at: date | None = None
    returned_at: date | None = None

    @property
    def total(self) -> Decimal:
        return _cents(sum((i.unit_price * i.quantity for i in self.items), Decimal(0)))


class ReturnRule(_Record):
    """Machine-readable return rule for a category (``policy/rules.yaml``)."""

    window_days: int = Field(ge=0, le=3650)
    condition: Condition = "unused"
    final_sale: bool = False
    restocking_fee_pct: Decimal = Field(Decimal(0), ge=0, le=100)
    refund_method: RefundMethod = "original_payment"


class ReturnPolicy(_Record):
    """``policy/rules.yaml``: a default rule and per-category overrides."""

    default: ReturnRule
    categories: dict[str, ReturnRule] = Field(default_factory=dict)

    def rule_for(self, category: str) -> ReturnRule:
        """The rule that applies to ``category`` (case-insensitive; a product category named
        unlike the policy's, "Bedding" for "Bedding & Bath", by the words they share), else
        the default."""
        name = policy_category_for(category, self.categories)
        return self.categories[name] if name is not None else self.default


class StoreData(BaseModel):
    """A whole store, as read from (or written to) a store directory."""

    info: StoreInfo
    products: list[Product]
    stock: list[StockLevel]
    customers: list[Customer]
    orders: list[Order]
    policy: ReturnPolicy
    policy_docs: dict[str, str] = Field(
        default_factory=dict, description="Markdown policy documents by file stem."
    )
