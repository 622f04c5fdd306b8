"""Typed results of the support actions (exchange, order changes, default address)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from shopagent.tools.store.schema import Address, Money

ChangeAction = Literal[
    "exchange_items",
    "modify_items",
    "modify_address",
    "modify_payment",
    "change_default_address",
    "return_items",
]
CHANGE_ACTIONS: tuple[str, ...] = ChangeAction.__args__  # type: ignore[attr-defined]


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class ItemSwap(_Result):
    """One order line becoming another variant of the same product."""

    item_id: str
    sku: str
    name: str
    new_sku: str
    new_name: str
    paid: Money
    new_price: Money

    @property
    def difference(self) -> Decimal:
        return self.new_price - self.paid


class ReturnUnit(_Result):
    """Units of one order line going back in a multi-item return, and their refund."""

    item_id: str
    sku: str
    name: str
    quantity: int
    item_total: Money
    restocking_fee: Money
    refund: Money
    refund_method: str = "original_payment"
    """What the category's rule says: ``original_payment`` or ``store_credit``."""


class ChangeCheck(_Result):
    """Whether a support action is allowed, and exactly what it would change."""

    action: ChangeAction
    eligible: bool
    reasons: list[str] = Field(default_factory=list)
    order_number: str | None = None
    swaps: list[ItemSwap] = Field(default_factory=list)
    returns: list[ReturnUnit] = Field(default_factory=list)
    address: Address | None = None
    method_id: str | None = None
    method_label: str | None = None
    amount: Decimal = Decimal(0)
    """Signed: > 0 charged to ``method_id``, < 0 refunded to it."""
    new_status: str | None = None


class ChangeDone(_Result):
    """A support action as recorded (``created`` False: it was already recorded)."""

    action_id: str
    action: ChangeAction
    order_number: str | None
    status: str
    created: bool
    amount: Decimal
    method_label: str | None = None
    order_status: str | None = None
