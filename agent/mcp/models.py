"""Results of the MCP propose tools. Everything else an MCP tool returns is the chat tools'
own result model (``shopagent.tools.results``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from shopagent.tools.results import CancelEligibility, ReturnEligibility


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
