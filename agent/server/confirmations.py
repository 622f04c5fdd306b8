"""The confirmations a turn may ask for, as the HTTP API and the widget carry them.

Each names its ``action`` and states the exact change; ``question`` is what the shopper is
asked. Extra keys may be present (they are the proposal the agent will write on a yes).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Confirmation(BaseModel):
    model_config = ConfigDict(extra="allow")

    question: str = Field("", description="The yes/no question stating the exact change.")
    order_number: str | None = None


class ReturnConfirmation(_Confirmation):
    action: Literal["start_return"]
    sku: str | None = None
    name: str | None = None
    quantity: int | None = None
    refund_amount: str | None = None
    restocking_fee: str | None = None
    refund_method: str | None = None


class CancelConfirmation(_Confirmation):
    action: Literal["cancel_order"]
    refund_amount: str | None = None
    reason: str | None = Field(None, description="no longer needed, ordered by mistake, ...")


class SwapItem(BaseModel):
    item_id: str
    name: str
    new_sku: str
    new_name: str
    price_difference: str


class ItemsConfirmation(_Confirmation):
    """An exchange of delivered items, or a variant swap in a pending order."""

    action: Literal["exchange_items", "modify_items"]
    swaps: dict[str, str] = Field(default_factory=dict, description="item id -> new SKU")
    items: list[SwapItem] = Field(default_factory=list)
    amount: str = Field("0", description="> 0 charged, < 0 refunded, to the payment method")
    method_id: str | None = None
    method_label: str | None = Field(None, description="e.g. 'Visa ending in 4242'")


class AddressConfirmation(_Confirmation):
    """A pending order's shipping address, or the customer's default address."""

    action: Literal["modify_address", "change_default_address"]
    address: dict[str, Any] = Field(default_factory=dict)


class PaymentConfirmation(_Confirmation):
    """Paying a pending order with another saved method (the old payment is refunded)."""

    action: Literal["modify_payment"]
    method_id: str | None = None
    method_label: str | None = None
    amount: str = "0"


class ReturnItem(BaseModel):
    item_id: str
    sku: str
    name: str
    quantity: int
    refund: str
    restocking_fee: str


class ReturnItemsConfirmation(_Confirmation):
    """Several items and quantities of one delivered order going back in one return."""

    action: Literal["return_items"]
    picks: dict[str, int] = Field(default_factory=dict, description="item id -> units")
    items: list[ReturnItem] = Field(default_factory=list)
    refund_amount: str = "0"
    method_id: str | None = None
    method_label: str | None = Field(None, description="where the refund goes")


Confirmation = Annotated[
    ReturnConfirmation
    | CancelConfirmation
    | ItemsConfirmation
    | AddressConfirmation
    | PaymentConfirmation
    | ReturnItemsConfirmation,
    Field(discriminator="action"),
]
"""Every confirmation the agent may ask for, told apart by ``action``."""
