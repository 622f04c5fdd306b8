"""The store's data model: one pydantic model per record of docs/store-format.md."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator
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

OrderStatus = Literal[
    "pending",
    "processing",
    "shipped",
    "delivered",
    "cancelled",
    "returned",
    "exchange_requested",
    "return_requested",
]
ORDER_STATUSES: tuple[OrderStatus, ...] = get_args(OrderStatus)
PaymentKind = Literal["card", "paypal", "gift_card"]
PaymentEvent = Literal["payment", "refund"]
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


class Address(_Record):
    """A postal address (a customer's default, an order's shipping address)."""

    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    state: str | None = Field(None, max_length=100)
    zip: str = Field(min_length=3, max_length=12)
    country: str = Field("US", min_length=2, max_length=2)

    def one_line(self) -> str:
        """The address on one line, as the assistant says it."""
        parts = [self.line1, self.line2, self.city, " ".join(filter(None, (self.state, self.zip)))]
        return ", ".join(p for p in parts if p)


class PaymentMethod(_Record):
    """One of a customer's saved payment methods."""

    id: str = Field(min_length=1, max_length=64)
    kind: PaymentKind
    brand: str | None = Field(None, max_length=40, description="card brand (Visa, Mastercard)")
    last4: str | None = Field(None, pattern=r"^[0-9]{4}$", description="card's last 4 digits")
    email: str | None = Field(None, max_length=254, description="PayPal account")
    balance: Money | None = Field(None, description="gift card balance")

    @model_validator(mode="after")
    def _complete(self) -> PaymentMethod:
        if self.kind == "card" and not (self.brand and self.last4):
            raise ValueError("a card needs its brand and last4")
        if self.kind == "gift_card" and self.balance is None:
            raise ValueError("a gift card needs its balance")
        if self.kind != "gift_card" and self.balance is not None:
            raise ValueError("only a gift card has a balance")
        return self

    def label(self) -> str:
        """How the assistant names the method: never more than brand and last 4 digits."""
        if self.kind == "card":
            return f"{self.brand or 'card'} ending in {self.last4 or '????'}"
        if self.kind == "paypal":
            return "PayPal"
        return f"gift card {self.id}"


class Customer(_Record):
    """``customers.jsonl``: a registered customer."""

    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    zip: str = Field(min_length=3, max_length=12)
    default_address: Address | None = None
    payment_methods: list[PaymentMethod] = Field(default_factory=list)


class OrderItem(_Record):
    """One line of an order (a per-unit line when ``item_id`` is set and quantity is 1)."""

    sku: str
    product_id: str
    name: str
    quantity: int = Field(ge=1, le=MAX_COUNT)
    unit_price: Money
    item_id: str | None = Field(
        None, min_length=1, max_length=64, description="unique within the order"
    )


class Payment(_Record):
    """One entry of an order's payment history: money taken or given back, and how."""

    kind: PaymentEvent
    amount: Money
    method_id: str = Field(min_length=1, max_length=64)
    at: datetime | None = None
    purpose: Literal["order", "difference"] = "order"
    """``order``: the order's own payment (or its refund); ``difference``: the price
    difference of an exchange or item change."""


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
    shipping_address: Address | None = None
    payments: list[Payment] = Field(default_factory=list)
    modified: bool = Field(False, description="items were changed after the order was placed")
    cancel_reason: str | None = Field(None, max_length=200)

    @property
    def total(self) -> Decimal:
        return _cents(sum((i.unit_price * i.quantity for i in self.items), Decimal(0)))

    def item_ids(self) -> list[str]:
        """Each line's id: its ``item_id``, else its 1-based position (old-format stores)."""
        return [item.item_id or str(n) for n, item in enumerate(self.items, 1)]

    @property
    def payment_method_id(self) -> str | None:
        """The order's payment method: that of its latest own payment (None when the store
        records no payments)."""
        return paid_with(self.payments)


def paid_with(payments: list[Payment]) -> str | None:
    """The method of the latest ``order`` payment in ``payments``."""
    own = [p.method_id for p in payments if p.kind == "payment" and p.purpose == "order"]
    return own[-1] if own else None


class ReturnRule(_Record):
    """Machine-readable return rule for a category (``policy/rules.yaml``)."""

    window_days: int = Field(ge=0, le=3650)
    condition: Condition = "unused"
    final_sale: bool = False
    restocking_fee_pct: Decimal = Field(Decimal(0), ge=0, le=100)
    refund_method: RefundMethod = "original_payment"


class ActionRules(_Record):
    """``actions`` in ``policy/rules.yaml``: what support actions the assistant may take.

    Every field has a default, so a rules file without ``actions`` keeps working.
    """

    exchange_window_days: int = Field(30, ge=0, le=3650)
    """Days after delivery an exchange may be requested."""
    modifiable_statuses: list[OrderStatus] = Field(default_factory=lambda: ["pending"])
    """Statuses in which an order's items, address or payment method may be changed."""
    cancellable_statuses: list[OrderStatus] = Field(default_factory=lambda: ["pending"])
    modify_once: bool = True
    """An order whose items were modified cannot be modified or cancelled again."""
    cancel_reasons: list[str] = Field(
        default_factory=lambda: ["no longer needed", "ordered by mistake"]
    )
    return_to_gift_card: bool = True
    """Refunds of returns may go to a gift card of the customer instead of the original
    payment method."""


class ReturnPolicy(_Record):
    """``policy/rules.yaml``: a default rule and per-category overrides."""

    default: ReturnRule
    categories: dict[str, ReturnRule] = Field(default_factory=dict)
    actions: ActionRules = Field(default_factory=ActionRules)

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
