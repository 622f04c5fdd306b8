"""MCP tools of the support actions: exchange delivered items, change a pending order's items,
shipping address or payment method, change the default address. Two steps each:
``propose_*`` checks the change with the chat's own tool (``shopagent.tools.changes``) and
returns it exactly (items and new variants, price difference, charge or refund and its
payment method, address) with a confirmation token; ``confirm_*`` re-checks that very change
(the token carries its inputs and its ``action_id``) and writes it with ``do_change``:
ownership checked in SQL, idempotent (a replay returns the recorded action).
"""

from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field
from shopagent.agent.graph.handlers.changes import change_proposal
from shopagent.agent.graph.nodes.confirm_changes import check_proposal
from shopagent.agent.mcp.confirmations import Confirmations, InvalidConfirmation
from shopagent.agent.mcp.deps import ToolDeps
from shopagent.agent.mcp.errors import guard
from shopagent.agent.mcp.models import (
    ChangeProposal,
    ItemSwapArg,
    PaymentMethods,
    SavedPaymentMethod,
)
from shopagent.tools import changes as ch
from shopagent.tools.results import VerifiedCustomer
from shopagent.tools.results_changes import ChangeAction, ChangeCheck, ChangeDone
from shopagent.tools.store.schema import Address

from shopagent.errors import ActionNotAllowed, ConfigError

DepsProvider = Callable[[], ToolDeps]
Who = Callable[[Context], VerifiedCustomer]

READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
PROPOSE = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
WRITE = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)
INPUTS = ("swaps", "picks", "method_id", "address", "condition", "to_gift_card")
"""What a re-check needs of a proposal (``check_proposal``); signed into the token."""

Number = Annotated[str, Field(min_length=1, max_length=64, description="e.g. 'SA-100234'.")]
Token = Annotated[
    str, Field(min_length=1, max_length=4096, description="From the matching propose tool.")
]
Swaps = Annotated[
    list[ItemSwapArg],
    Field(min_length=1, max_length=20, description="Each line to change and its new SKU."),
]
MethodId = Annotated[
    str | None,
    Field(max_length=64, description="A saved payment method of the shopper; default: the "
          "order's own (charged or refunded the price difference)."),
]  # fmt: skip

# action -> (propose tool, confirm tool, the hint when it is refused)
NAMES: dict[str, tuple[str, str, str]] = {
    "exchange_items": ("propose_exchange", "confirm_exchange",
                       "get_order lists the items (item_id), get_product the variants"),
    "modify_items": ("propose_item_change", "confirm_item_change",
                     "get_order lists the items (item_id), get_product the variants"),
    "modify_address": ("propose_shipping_address", "confirm_shipping_address",
                       "get_order shows the order's status"),
    "modify_payment": ("propose_payment_change", "confirm_payment_change",
                       "pass payment_method_id, one of list_payment_methods"),
    "change_default_address": ("propose_default_address", "confirm_default_address",
                               "give a full address: line1, city, zip"),
    "return_items": ("propose_return_items", "confirm_return_items",
                     "get_order lists the items (item_id); get_return_policy explains the rules"),
}  # fmt: skip


def propose(
    confirmations: Confirmations, who: VerifiedCustomer, check: ChangeCheck, proposal: dict
) -> ChangeProposal:
    """The proposal of an eligible ``check`` (``proposal``: the chat's proposal of it),
    with a token bound to its inputs and its ``action_id``; refused otherwise."""
    if not check.eligible:
        raise ActionNotAllowed(
            "this change is not allowed: " + "; ".join(check.reasons), hint=NAMES[check.action][2]
        )
    change_id = ch.action_id(who.id, check)
    token, expires = confirmations.issue(
        customer_id=who.id,
        action=check.action,
        order_number=check.order_number or "",
        refund_amount=check.amount,  # signed: > 0 charged, < 0 refunded
        change_id=change_id,
        change={k: proposal[k] for k in INPUTS if proposal.get(k) is not None},
    )
    return ChangeProposal(
        order_number=check.order_number or "",
        question=proposal["question"],
        action=check.action,
        change=check,
        change_id=change_id,
        confirmation_token=token,
        expires_at=expires,
    )


def confirm(
    deps: ToolDeps,
    who: VerifiedCustomer,
    confirmations: Confirmations,
    token: str,
    action: ChangeAction,
) -> ChangeDone:
    """Make the change ``token`` was proposed for, after the shopper's yes: re-checked from
    its signed inputs now, written only when it is still exactly that change (same
    ``action_id``, same amount); a replay returns the recorded action, written once."""
    proposed = confirmations.check(token, customer_id=who.id, action=action)
    if not proposed.change_id or proposed.change is None:
        raise InvalidConfirmation("the confirmation token is not valid")
    now = deps.clock()
    inputs = {**proposed.change, "action": action, "order_number": proposed.order_number or None}
    fresh = check_proposal(deps.orders, deps.policy, who, inputs, today=now.date())
    done = ch.recorded_change(deps.orders, who, proposed.change_id, method_label=fresh.method_label)
    if done is not None:
        return done
    if ch.action_id(who.id, fresh) != proposed.change_id or fresh.amount != proposed.refund_amount:
        raise ActionNotAllowed(
            "the change is no longer the one proposed (the order, a price or the stock changed)",
            hint=f"call {NAMES[action][0]} again and confirm the new token",
        )
    return ch.do_change(deps.orders, deps.policy, who, fresh, now=now)


def swaps_of(items: list[ItemSwapArg]) -> dict[str, str]:
    swaps = {i.item_id: i.new_sku for i in items}
    if len(swaps) != len(items):
        raise ConfigError("an item is named twice", hint="name each item_id once")
    return swaps


def register_changes(server: MCPServer, deps: DepsProvider, customer: Who,
                     confirmations: Confirmations) -> None:  # fmt: skip
    """Add the support actions' propose and confirm tools to ``server``."""

    def swap_tool(exchange: bool) -> Callable[..., Any]:
        async def tool(
            ctx: Context, order_number: Number, items: Swaps, payment_method_id: MethodId = None
        ) -> ChangeProposal:
            async def run() -> ChangeProposal:
                d, who = deps(), customer(ctx)
                check = ch.check_swap(d.orders, d.policy, who, order_number,
                                      swaps_of(items), payment_method_id,
                                      today=d.clock().date(), exchange=exchange)  # fmt: skip
                return propose(confirmations, who, check, change_proposal(check))

            return await guard(run, tool.__name__)

        return tool

    exchange, modify = swap_tool(True), swap_tool(False)
    exchange.__name__, modify.__name__ = "propose_exchange", "propose_item_change"
    server.add_tool(exchange, name="propose_exchange", annotations=PROPOSE, description=(
        "Check exchanging delivered items of the signed-in shopper's order for other variants "
        "of the same products (size, colour) and propose it: the new variants, the price "
        "difference charged or refunded and the payment method, plus a confirmation token. "
        "Nothing is written."))  # fmt: skip
    server.add_tool(modify, name="propose_item_change", annotations=PROPOSE, description=(
        "Check swapping items of the signed-in shopper's pending order for other variants of "
        "the same products and propose it, with the price difference, payment method and a "
        "confirmation token. Nothing is written."))  # fmt: skip

    async def propose_shipping_address(
        ctx: Context, order_number: Number, address: Address
    ) -> ChangeProposal:
        """Check changing the shipping address of the signed-in shopper's pending order and
        propose it, with a confirmation token. Nothing is written."""

        async def run() -> ChangeProposal:
            d, who = deps(), customer(ctx)
            check = ch.check_address(d.orders, d.policy, who, address, order_number)
            return propose(confirmations, who, check, change_proposal(check))

        return await guard(run, "propose_shipping_address")

    async def propose_payment_change(
        ctx: Context,
        order_number: Number,
        payment_method_id: Annotated[str, Field(min_length=1, max_length=64)],
    ) -> ChangeProposal:
        """Check paying the signed-in shopper's pending order with another of their saved
        payment methods (the original payment is refunded) and propose it, with a
        confirmation token. Nothing is written."""

        async def run() -> ChangeProposal:
            d, who = deps(), customer(ctx)
            check = ch.check_payment(d.orders, d.policy, who, order_number, payment_method_id)
            return propose(confirmations, who, check, change_proposal(check))

        return await guard(run, "propose_payment_change")

    async def propose_default_address(ctx: Context, address: Address) -> ChangeProposal:
        """Propose changing the signed-in shopper's default address (used for new orders),
        with a confirmation token. Nothing is written."""

        async def run() -> ChangeProposal:
            d, who = deps(), customer(ctx)
            check = ch.check_address(d.orders, d.policy, who, address)
            return propose(confirmations, who, check, change_proposal(check))

        return await guard(run, "propose_default_address")

    async def list_payment_methods(ctx: Context) -> PaymentMethods:
        """The signed-in shopper's saved payment methods (id, kind, label, a gift card's
        balance): the ids propose_payment_change and the price differences of exchanges and
        item changes take."""

        async def run() -> PaymentMethods:
            d, who = deps(), customer(ctx)
            return PaymentMethods(methods=[
                SavedPaymentMethod(id=m.id, kind=m.kind, label=m.label(),
                                   balance=None if m.balance is None else str(m.balance))
                for m in d.orders.payment_methods(who.id)
            ])  # fmt: skip

        return await guard(run, "list_payment_methods")

    server.add_tool(list_payment_methods, annotations=READ)
    for fn in (propose_shipping_address, propose_payment_change, propose_default_address):
        server.add_tool(fn, annotations=PROPOSE)
    for action in ("exchange_items", "modify_items", "modify_address", "modify_payment",
                   "change_default_address"):  # fmt: skip
        add_confirm(server, deps, customer, confirmations, action)


def add_confirm(server: MCPServer, deps: DepsProvider, customer: Who,
                confirmations: Confirmations, action: ChangeAction) -> None:  # fmt: skip
    """Add ``confirm_*`` of ``action``: make the proposed change after the shopper's yes."""
    propose_name, name, _ = NAMES[action]

    async def tool(ctx: Context, confirmation_token: Token) -> ChangeDone:
        async def run() -> ChangeDone:
            return confirm(deps(), customer(ctx), confirmations, confirmation_token, action)

        return await guard(run, name)

    server.add_tool(tool, name=name, annotations=WRITE, description=(
        f"Make the change {propose_name} described, after the shopper said yes. Replaying it "
        "returns the same recorded action (`created` false) and writes nothing new."))  # fmt: skip
