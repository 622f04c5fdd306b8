"""MCP tools of multi-item returns: several items and quantities of one order in one
confirmation. ``propose_return_items`` checks them with the chat's own tool
(``shopagent.tools.returns.check_returns``: each unit's refund, fee, where the refund goes);
``confirm_return_items`` re-checks that very return and records it idempotently
(:func:`shopagent.agent.mcp.tools_changes.confirm`)."""

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field
from shopagent.agent.graph.handlers.returns import returns_proposal
from shopagent.agent.mcp.confirmations import Confirmations
from shopagent.agent.mcp.errors import guard
from shopagent.agent.mcp.models import ChangeProposal, ReturnPickArg
from shopagent.agent.mcp.tools_changes import (
    PROPOSE,
    DepsProvider,
    Number,
    Who,
    add_confirm,
    propose,
)
from shopagent.tools.results import ItemCondition
from shopagent.tools.returns import check_returns

from shopagent.errors import ConfigError


def register_returns(server: MCPServer, deps: DepsProvider, customer: Who,
                     confirmations: Confirmations) -> None:  # fmt: skip
    """Add ``propose_return_items`` and ``confirm_return_items`` to ``server``."""

    async def propose_return_items(
        ctx: Context,
        order_number: Number,
        items: Annotated[
            list[ReturnPickArg],
            Field(min_length=1, max_length=20, description="Each line and how many units."),
        ],
        condition: Annotated[
            ItemCondition | None, Field(description="What the shopper says about the items.")
        ] = None,
        refund_to_gift_card: Annotated[
            bool, Field(description="The shopper asks for the refund on their gift card.")
        ] = False,
    ) -> ChangeProposal:
        """Check returning several items (and quantities) of the signed-in shopper's order in
        one request and propose it: each item's refund and restocking fee, the total refund
        and where it goes, plus a confirmation token. Nothing is written."""

        async def run() -> ChangeProposal:
            d, who = deps(), customer(ctx)
            picks = {i.item_id: i.quantity for i in items}
            if len(picks) != len(items):
                raise ConfigError("an item is named twice", hint="name each item_id once")
            check = check_returns(d.orders, d.policy, who, order_number, picks,
                                  today=d.clock().date(), condition=condition,
                                  to_gift_card=refund_to_gift_card)  # fmt: skip
            proposal = returns_proposal(check, condition, refund_to_gift_card)
            return propose(confirmations, who, check, proposal)

        return await guard(run, "propose_return_items")

    server.add_tool(propose_return_items, annotations=PROPOSE)
    add_confirm(server, deps, customer, confirmations, "return_items")
