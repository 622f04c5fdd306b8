"""Typed claims: what an answer must (or may) say, computed from the turn's tool results.

An :class:`~shopagent.agent.answering.plan.AnswerPlan` holds these; the realisers (templates,
the model) phrase them and the verifier checks an answer against them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Claim(BaseModel):
    model_config = ConfigDict(frozen=True)


class ProductRef(_Claim):
    """A product the answer may name, with the live figures the tools reported for it."""

    product_id: str = ""
    name: str
    brand: str = ""
    category: str = ""
    sku: str = ""
    variant: str = Field("", description="The asked variant's values (e.g. 'Slate'), if any.")
    price: Decimal | None = Field(None, description="Live price (None: not quoted this turn).")
    currency: str = "USD"
    stock: int | None = Field(None, description="Live stock (None: not quoted this turn).")
    final_sale: bool = False


class PriceStock(_Claim):
    """The price and/or stock of the asked product (variant)."""

    kind: Literal["price_stock"] = "price_stock"
    product: ProductRef
    asks: Literal["price", "stock", "both"] = "both"


class Comparison(_Claim):
    """Which of two products is cheaper, with both prices."""

    kind: Literal["comparison"] = "comparison"
    cheaper: ProductRef
    dearer: ProductRef
    same_price: bool = False
    differences: list[str] = Field(default_factory=list, description="Attribute differences.")


class AttributeAnswer(_Claim):
    """A product attribute: its value, a yes/no verdict, or "the listing doesn't say"."""

    kind: Literal["attribute"] = "attribute"
    product: ProductRef
    attribute: str = Field(description="What was asked, in the shopper's words or the key.")
    value: str | None = Field(None, description="The value from the data (None: not stated).")
    verdict: Literal["yes", "no"] | None = Field(None, description="For yes/no questions.")
    evidence: str | None = Field(None, description="The closest relevant listing sentence.")


class PolicyRule(_Claim):
    """The return rule of the product's own policy category, with its flags."""

    kind: Literal["policy"] = "policy"
    category: str | None = None
    product: str | None = Field(None, description="The product asked about, if any.")
    window_days: int
    condition: str
    final_sale: bool
    restocking_fee_pct: Decimal = Decimal(0)
    refund_method: str = "original_payment"
    heading: str = ""
    excerpt: str = Field("", description="The cited policy section text.")


class OrderState(_Claim):
    """One order: status, its date, tracking and the next step."""

    kind: Literal["order"] = "order"
    number: str
    status: str
    date: str | None = None
    carrier: str | None = None
    tracking: str | None = None
    items: list[str] = Field(default_factory=list)
    total: Decimal | None = None
    currency: str = "USD"
    next_step: str = ""


class Eligibility(_Claim):
    """Whether an order line can be returned (or an order cancelled), and why."""

    kind: Literal["eligibility"] = "eligibility"
    action: Literal["return", "cancel"]
    order_number: str
    item: str = ""
    eligible: bool
    reasons: list[str] = Field(default_factory=list)
    refund_amount: Decimal | None = None
    window_days: int | None = None


class ProductList(_Claim):
    """Search results: the products found (summarised when long)."""

    kind: Literal["product_list"] = "product_list"
    products: list[ProductRef]
    found: int = Field(
        0, description="How many products were found (more than listed: summarised)."
    )
    based_on: list[str] = Field(default_factory=list)
    left_out: list[str] = Field(default_factory=list)


class Features(_Claim):
    """2-3 features of a product, chosen by relevance to the shopper's need."""

    kind: Literal["features"] = "features"
    product: ProductRef
    features: list[str]
    need: str = ""
    attributes: list[str] = Field(
        default_factory=list, description="Attribute keys of the product ('key: value' features)."
    )


class Notice(_Claim):
    """A fixed statement: a tool failed, nothing was found, the identity is needed."""

    kind: Literal["notice"] = "notice"
    code: Literal["inventory_down", "search_down", "not_found", "order_not_found", "verify_first"]
    text: str


Claim = Annotated[
    PriceStock
    | Comparison
    | AttributeAnswer
    | PolicyRule
    | OrderState
    | Eligibility
    | ProductList
    | Features
    | Notice,
    Field(discriminator="kind"),
]
