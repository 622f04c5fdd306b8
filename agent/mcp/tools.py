"""The MCP server: ShopAgent's chat tools as MCP tools (UCP names where one maps).

This module is the one registration point: the catalog, policy and order tools, the one-item
return and the cancellation are here; the support actions (exchange, order changes, default
address) come from :mod:`.tools_changes`, multi-item returns from :mod:`.tools_returns`, and
the protocol mapping table from :mod:`.mapping`.

Every tool calls the same function the chat graph calls (``shopagent.tools.functions``) and
returns its pydantic result, so ownership checks, the policy engine and idempotent writes are
the chat's own. Writes take two calls: ``propose_*`` returns the exact change and a
confirmation token, ``confirm_*`` with that token makes it (a replay writes nothing new).
A ShopAgentError becomes an ``isError`` result carrying its code, message and hint.
"""

import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field
from shopagent.agent.answering.templates import cancel_question, return_question
from shopagent.agent.graph.handlers.changes import with_reason
from shopagent.agent.mcp.confirmations import Confirmations
from shopagent.agent.mcp.deps import ToolDeps
from shopagent.agent.mcp.errors import NotFound, guard
from shopagent.agent.mcp.identity import Identity, signed_in
from shopagent.agent.mcp.models import CancelProposal, ReturnProposal
from shopagent.agent.mcp.tools_changes import register_changes
from shopagent.agent.mcp.tools_returns import register_returns
from shopagent.tools import functions as fn
from shopagent.tools.change_rules import cancel_reason_problems
from shopagent.tools.results import (
    CancelResult,
    ItemCondition,
    OrderHistoryResult,
    OrderView,
    PolicyResult,
    PriceStockResult,
    ProductDetails,
    ReturnCreated,
    SearchFilters,
    SearchResult,
    VerifiedCustomer,
)

from shopagent.errors import ActionNotAllowed, ConfigError

log = logging.getLogger("shopagent.mcp")

T = TypeVar("T")
DepsProvider = Callable[[], ToolDeps]

INSTRUCTIONS = (
    "Shopping and customer-service tools of one store. Search with search_catalog, then "
    "get_product and check_price_stock for details and live price/stock. Order tools act "
    "only for the signed-in shopper. Returns, cancellations, exchanges and order changes "
    "take two steps: propose_* shows the exact change; ask the shopper, and only after a "
    "clear yes call the matching confirm_* with the confirmation_token."
)

READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
PROPOSE = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
WRITE = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)


def build_server(
    deps: DepsProvider,
    identity: Identity,
    confirmations: Confirmations,
    *,
    name: str = "shopagent",
) -> MCPServer:
    """The MCP server over ``deps()`` (read at each call: on ``serve`` the agent starts in the
    app's lifespan), with the shopper from ``identity``."""
    server = MCPServer(name, instructions=INSTRUCTIONS, version="1")

    def customer(ctx: Context) -> VerifiedCustomer:
        return signed_in(identity, _headers(ctx), deps().orders)

    @server.tool(annotations=READ)
    async def search_catalog(
        query: Annotated[
            str,
            Field(
                min_length=1, max_length=500, description="What the shopper wants, in their words."
            ),
        ],
        min_price: Annotated[Decimal | None, Field(ge=0, description="Lowest list price.")] = None,
        max_price: Annotated[Decimal | None, Field(ge=0, description="Highest list price.")] = None,
        category: Annotated[
            str | None, Field(max_length=200, description="A catalog category, e.g. 'Electronics'.")
        ] = None,
        brand: Annotated[str | None, Field(max_length=200)] = None,
        attributes: Annotated[
            dict[str, str] | None, Field(description="Attribute filters, e.g. {'color': 'black'}.")
        ] = None,
        in_stock_only: bool = False,
        limit: Annotated[int, Field(ge=1, le=20, description="How many products.")] = 5,
    ) -> SearchResult:
        """Search the store's catalog (UCP search_catalog). Returns catalog list prices; call
        check_price_stock for the live price and stock."""
        filters = SearchFilters(
            min_price=min_price,
            max_price=max_price,
            category=category,
            brand=brand,
            attributes=attributes or {},
            in_stock_only=in_stock_only,
        )

        async def run() -> SearchResult:
            return fn.search_products(deps().catalog, query, filters, k=limit)

        return await guard(run, "search_catalog")

    @server.tool(annotations=READ)
    async def get_product(
        product_id: Annotated[
            str, Field(min_length=1, max_length=200, description="From search_catalog.")
        ],
    ) -> ProductDetails:
        """A product's description, attributes and variants (SKUs) (UCP get_product)."""

        async def run() -> ProductDetails:
            details = fn.get_product_details(deps().catalog, product_id)
            if details is None:
                raise NotFound(
                    f"no product {product_id!r}", hint="use a product_id from search_catalog"
                )
            return details

        return await guard(run, "get_product")

    @server.tool(annotations=READ)
    async def check_price_stock(
        skus: Annotated[
            list[Annotated[str, Field(max_length=200)]],
            Field(
                min_length=1, max_length=20, description="SKUs from search_catalog or get_product."
            ),
        ],
    ) -> PriceStockResult:
        """Live price and units in stock per SKU; unknown SKUs are listed in `unknown`."""

        async def run() -> PriceStockResult:
            return await fn.check_price_stock(deps().inventory, skus)

        return await guard(run, "check_price_stock")

    @server.tool(annotations=READ)
    async def get_return_policy(
        question: Annotated[
            str,
            Field(
                min_length=1, max_length=500, description="e.g. 'can I return opened headphones?'"
            ),
        ],
        category: Annotated[
            str | None, Field(max_length=200, description="The product category, if known.")
        ] = None,
    ) -> PolicyResult:
        """The sections of the store's return policy that answer a question, with the machine
        rule (window, condition, fees) of the category."""

        async def run() -> PolicyResult:
            return fn.lookup_return_policy(deps().policy, question, category)

        return await guard(run, "get_return_policy")

    @server.tool(annotations=READ)
    async def list_orders(
        ctx: Context,
        limit: Annotated[int, Field(ge=1, le=50, description="How many orders at most.")] = 20,
    ) -> OrderHistoryResult:
        """The signed-in shopper's order history, newest first: number, date, status, units
        and total of each order (`count`: how many there are). get_order has the items."""

        async def run() -> OrderHistoryResult:
            return fn.list_orders(deps().orders, customer(ctx), limit)

        return await guard(run, "list_orders")

    @server.tool(annotations=READ)
    async def get_order(
        ctx: Context,
        order_number: Annotated[
            str, Field(min_length=1, max_length=64, description="e.g. 'SA-100234'.")
        ],
    ) -> OrderView:
        """One order of the signed-in shopper: status, items, tracking (UCP get_order)."""

        async def run() -> OrderView:
            found = fn.get_order_status(deps().orders, customer(ctx), order_number).orders
            if not found:
                raise NotFound(
                    f"order {order_number} was not found on your account",
                    hint="list_orders shows the signed-in shopper's orders",
                )
            return found[0]

        return await guard(run, "get_order")

    @server.tool(annotations=PROPOSE)
    async def propose_return(
        ctx: Context,
        order_number: Annotated[str, Field(min_length=1, max_length=64)],
        sku: Annotated[
            str | None,
            Field(max_length=200, description="The item; needed when the order has several."),
        ] = None,
        condition: Annotated[
            ItemCondition | None, Field(description="What the shopper says about the item.")
        ] = None,
    ) -> ReturnProposal:
        """Check a return of one item of the signed-in shopper's order and propose it: the
        refund, fee and method, plus a confirmation token. Nothing is written."""

        async def run() -> ReturnProposal:
            d, who = deps(), customer(ctx)
            today = d.clock().date()
            check = fn.check_return_eligibility(
                d.orders, d.policy, who, order_number, today=today, sku=sku, condition=condition
            )
            if not check.items:
                raise NotFound(f"order {order_number} has no item {sku}",
                               hint="get_order lists the order's SKUs")  # fmt: skip
            if len(check.items) > 1:
                raise ConfigError(
                    f"order {order_number} has several items",
                    hint="pass sku, one of: " + ", ".join(i.sku for i in check.items),
                )
            verdict = check.items[0]
            if not verdict.eligible:
                raise ActionNotAllowed(
                    "this item cannot be returned: " + "; ".join(verdict.reasons),
                    hint="get_return_policy explains the rules",
                )
            token, expires = confirmations.issue(
                customer_id=who.id,
                action="start_return",
                order_number=verdict.order_number,
                sku=verdict.sku,
                condition=condition,
                refund_amount=verdict.refund_amount,
            )
            return ReturnProposal(order_number=verdict.order_number,
                                  question=return_question(verdict), change=verdict,
                                  confirmation_token=token, expires_at=expires)  # fmt: skip

        return await guard(run, "propose_return")

    @server.tool(annotations=WRITE)
    async def confirm_return(
        ctx: Context,
        confirmation_token: Annotated[
            str, Field(min_length=1, max_length=4096, description="From propose_return.")
        ],
    ) -> ReturnCreated:
        """Open the return propose_return described, after the shopper said yes. Replaying
        it returns the same return (`created` false) and writes nothing new."""

        async def run() -> ReturnCreated:
            d, who = deps(), customer(ctx)
            proposed = confirmations.check(
                confirmation_token, customer_id=who.id, action="start_return"
            )
            now = d.clock()
            number, sku = proposed.order_number, str(proposed.sku)
            condition: Any = proposed.condition
            if sku not in d.orders.returned_skus(who.id, number):
                check = fn.check_return_eligibility(
                    d.orders, d.policy, who, number, today=now.date(), sku=sku, condition=condition
                )
                if check.items and check.items[0].refund_amount != proposed.refund_amount:
                    raise ActionNotAllowed(
                        "the refund changed since the proposal",
                        hint="call propose_return again and confirm the new token",
                    )
            return fn.start_return(d.orders, d.policy, who, number, sku, now=now,
                                   condition=condition)  # fmt: skip

        return await guard(run, "confirm_return")

    @server.tool(annotations=PROPOSE)
    async def propose_cancel(
        ctx: Context,
        order_number: Annotated[str, Field(min_length=1, max_length=64)],
        reason: Annotated[
            str | None,
            Field(
                max_length=100,
                description="Why, one of the shop's cancel reasons, e.g. "
                "'no longer needed', 'ordered by mistake'.",
            ),
        ] = None,
    ) -> CancelProposal:
        """Check whether the signed-in shopper's order can still be cancelled and propose it,
        with the refund, the reason and a confirmation token. Nothing is written."""

        async def run() -> CancelProposal:
            d, who = deps(), customer(ctx)
            rules = d.policy.rules.actions
            if problems := cancel_reason_problems(reason, rules):
                raise ActionNotAllowed(problems[0], hint="omit reason or pass one of those")
            check = fn.check_cancel_eligibility(d.orders, who, order_number)
            if not check.eligible:
                raise ActionNotAllowed(
                    f"order {check.order_number} cannot be cancelled: {check.reason}",
                    hint="get_order shows its status",
                )
            token, expires = confirmations.issue(
                customer_id=who.id,
                action="cancel_order",
                order_number=check.order_number,
                refund_amount=check.refund_amount,
                reason=reason,
            )
            question = cancel_question(check)
            return CancelProposal(order_number=check.order_number, reason=reason,
                                  question=with_reason(question, reason) if reason else question,
                                  change=check, confirmation_token=token,
                                  expires_at=expires)  # fmt: skip

        return await guard(run, "propose_cancel")

    @server.tool(annotations=WRITE)
    async def confirm_cancel(
        ctx: Context,
        confirmation_token: Annotated[
            str, Field(min_length=1, max_length=4096, description="From propose_cancel.")
        ],
    ) -> CancelResult:
        """Cancel the order propose_cancel described, after the shopper said yes. Replaying
        it writes nothing new (`cancelled` false: it was already cancelled)."""

        async def run() -> CancelResult:
            d, who = deps(), customer(ctx)
            proposed = confirmations.check(
                confirmation_token, customer_id=who.id, action="cancel_order"
            )
            return fn.cancel_order(d.orders, who, proposed.order_number,
                                   today=d.clock().date(), reason=proposed.reason,
                                   rules=d.policy.rules.actions)  # fmt: skip

        return await guard(run, "confirm_cancel")

    register_changes(server, deps, customer, confirmations)
    register_returns(server, deps, customer, confirmations)
    return server


def _headers(ctx: Context) -> Mapping[str, str] | None:
    try:
        return ctx.headers
    except ValueError:  # no request (in-process use without a transport)
        return None
