"""Results of the MCP propose tools, and the structured arguments of the support actions.
Everything else an MCP tool returns is the chat tools' own result model
(``shopagent.tools.results``, ``shopagent.tools.results_changes``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from shopagent.tools.results import CancelEligibility, ReturnEligibility
from shopagent.tools.results_changes import ChangeAction, ChangeCheck


class _Proposal(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_number: str
    question: str = Field(description="What to ask the shopper before confirming.")
    confirmation_token: str = Field(
        description="Pass it to the confirm tool once the shopper said yes; it is valid only "
        "for this shopper and this change."
    )
    expires_at: int = Field(description="Unix time after which the token is refused.")


class ReturnProposal(_Proposal):
    """The exact return ``confirm_return`` would open: the item, its refund, how it is paid."""

    action: Literal["start_return"] = "start_return"
    change: ReturnEligibility


class CancelProposal(_Proposal):
    """The exact cancellation ``confirm_cancel`` would make, with the refund."""

    action: Literal["cancel_order"] = "cancel_order"
    change: CancelEligibility
    reason: str | None = None


class ChangeProposal(_Proposal):
    """The exact support action the matching ``confirm_*`` would make: the items and their
    new variants, price differences, the refund or charge and its payment method, the new
    address; ``change_id`` is the id it will be recorded under."""

    action: ChangeAction
    change: ChangeCheck
    change_id: str = Field(description="The change's id (a digest of exactly this change).")


class ItemSwapArg(BaseModel):
    """One order line and the variant it should become."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item_id: str = Field(min_length=1, max_length=64, description="From get_order's items.")
    new_sku: str = Field(
        min_length=1, max_length=200, description="Another variant of the same product."
    )


class ReturnPickArg(BaseModel):
    """One order line and how many of its units go back."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item_id: str = Field(min_length=1, max_length=64, description="From get_order's items.")
    quantity: int = Field(1, ge=1, le=100)


class SavedPaymentMethod(BaseModel):
    """One of the shopper's saved payment methods, named as the assistant names it (brand and
    last 4 digits at most; a PayPal account's address is never shown)."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="Pass it as payment_method_id to the change tools.")
    kind: Literal["card", "paypal", "gift_card"]
    label: str
    balance: str | None = Field(None, description="A gift card's balance.")


class PaymentMethods(BaseModel):
    """The signed-in shopper's saved payment methods."""

    model_config = ConfigDict(frozen=True)

    methods: list[SavedPaymentMethod]
