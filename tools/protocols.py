"""Small protocols for ShopAgent's I/O boundaries.

Each has a real implementation and an in-memory one for tests. Nodes and tools depend on
these protocols only; the runtime context carries the concrete objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

from shopagent.tools.results import (
    HandoffResult,
    OrderView,
    PolicySection,
    ProductHit,
    ReturnCreated,
    ReturnEligibility,
    SearchFilters,
    StockQuote,
    VerifiedCustomer,
)
from shopagent.tools.store.schema import Product, ReturnPolicy


@runtime_checkable
class Catalog(Protocol):
    """Product search and lookup."""

    def search(
        self, query: str, *, filters: SearchFilters | None = None, k: int = 5
    ) -> list[ProductHit]:
        """Best matches for a shopper's words, filters applied in the store query."""
        ...

    def get(self, product_id: str) -> Product | None:
        """One product by id, or None."""
        ...


@runtime_checkable
class Inventory(Protocol):
    """Live price and stock per SKU."""

    async def quotes(self, skus: Sequence[str]) -> dict[str, StockQuote]:
        """Current price and stock for each known SKU (unknown SKUs are absent).

        Raises InventoryUnavailable when the source cannot answer.
        """
        ...


@runtime_checkable
class Orders(Protocol):
    """Customers and their orders. Ownership is enforced here, not by callers."""

    def verify(
        self, email: str, *, order_number: str | None = None, zip_code: str | None = None
    ) -> VerifiedCustomer | None:
        """The customer when email plus order number (or zip) match, else None."""
        ...

    def verify_name_zip(self, text: str, zip_code: str) -> VerifiedCustomer | None:
        """The one customer with this zip whose full name ``text`` contains, else None."""
        ...

    def customer_by_email(self, email: str) -> VerifiedCustomer | None:
        """A customer authenticated by the host system (trusted email)."""
        ...

    def orders_for(self, customer_id: str) -> list[OrderView]:
        """The customer's orders, newest first."""
        ...

    def order(self, customer_id: str, order_number: str) -> OrderView | None:
        """One order of this customer; another customer's order is None (not found)."""
        ...

    def create_return(
        self, customer_id: str, verdict: ReturnEligibility, *, now: datetime
    ) -> ReturnCreated:
        """Write the return a positive verdict describes; idempotent per order line."""
        ...

    def returned_skus(self, customer_id: str, order_number: str) -> set[str]:
        """SKUs of the customer's order that already have a return."""
        ...

    def cancel(
        self,
        customer_id: str,
        order_number: str,
        *,
        on: date,
        reason: str | None = None,
        statuses: Sequence[str] = ("pending",),
    ) -> OrderView | None:
        """Cancel the customer's order if its status is one of ``statuses`` (the shop's
        cancellable statuses; idempotent); None when not theirs."""
        ...


@runtime_checkable
class OrderChanges(Orders, Protocol):
    """Orders that also support the support actions (tools/changes.py)."""

    def payment_methods(self, customer_id: str) -> list[Any]: ...

    def default_address(self, customer_id: str) -> Any: ...

    def product(self, product_id: str) -> Any: ...

    def stock(self, skus: list[str]) -> dict[str, int]: ...

    def action(self, customer_id: str, action_id: str) -> dict[str, Any] | None: ...

    def apply(self, change: Any) -> tuple[dict[str, Any], bool]: ...


@runtime_checkable
class Policy(Protocol):
    """The store's return policy: machine rules and human-readable documents."""

    @property
    def rules(self) -> ReturnPolicy: ...

    def lookup(
        self, question: str, *, category: str | None = None, k: int = 2
    ) -> list[PolicySection]:
        """The policy sections that answer a question, best first."""
        ...


@runtime_checkable
class Handoffs(Protocol):
    """Tickets that hand a conversation over to a human."""

    def create(
        self, *, customer_id: str | None, thread_id: str, summary: str, reason: str
    ) -> HandoffResult:
        """Open a ticket; returns its id."""
        ...
