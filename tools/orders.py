"""Customers and orders over the store database, with ownership enforced in every query."""

from __future__ import annotations

import hmac
import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from shopagent.tools.results import (
    OrderLine,
    OrderView,
    ReturnCreated,
    ReturnEligibility,
    VerifiedCustomer,
)
from shopagent.tools.store.changes import Change
from shopagent.tools.store.db import StoreDB
from shopagent.tools.store.schema import Address, Customer, Order, PaymentMethod, Product


def _normalise_zip(value: str) -> str:
    return value.strip().split("-")[0]


class StoreOrders:
    """The ``Orders`` protocol over a :class:`StoreDB`."""

    def __init__(self, db: StoreDB) -> None:
        self.db = db

    def verify(
        self, email: str, *, order_number: str | None = None, zip_code: str | None = None
    ) -> VerifiedCustomer | None:
        """The customer when the email matches AND the order number or zip is theirs."""
        customer = self.db.customer_by_email(email)
        if customer is None or not (order_number or zip_code):
            return None
        owns_order = bool(order_number) and self.db.order_of(customer.id, order_number) is not None
        zip_ok = bool(zip_code) and hmac.compare_digest(
            _normalise_zip(customer.zip), _normalise_zip(zip_code or "")
        )
        return _verified(customer) if owns_order or zip_ok else None

    def verify_name_zip(self, text: str, zip_code: str) -> VerifiedCustomer | None:
        """The one customer with this zip code whose full name the shopper typed in
        ``text``; None when nobody (or more than one customer) matches."""
        words = _words(text)
        found = [
            c for c in self.db.customers_with_zip(zip_code) if _contains(words, _words(c.name))
        ]
        return _verified(found[0]) if len(found) == 1 else None

    def customer_by_email(self, email: str) -> VerifiedCustomer | None:
        """A customer the host system authenticated; the email is trusted."""
        customer = self.db.customer_by_email(email)
        return _verified(customer) if customer else None

    def orders_for(self, customer_id: str) -> list[OrderView]:
        """The customer's orders, newest first."""
        return [self._view(o) for o in self.db.orders_of(customer_id)]

    def order(self, customer_id: str, order_number: str) -> OrderView | None:
        """One of this customer's orders; anyone else's is reported as not found (None)."""
        found = self.db.order_of(customer_id, order_number)
        return self._view(found) if found else None

    def create_return(
        self, customer_id: str, verdict: ReturnEligibility, *, now: datetime
    ) -> ReturnCreated:
        """Write the return ``verdict`` describes (idempotent per order line)."""
        row, created = self.db.create_return(
            customer_id=customer_id,
            order_number=verdict.order_number,
            sku=verdict.sku,
            quantity=verdict.quantity,
            restocking_fee=verdict.restocking_fee,
            refund_amount=verdict.refund_amount,
            refund_method=verdict.refund_method,
            created_at=now,
        )
        return ReturnCreated(
            return_id=row["id"],
            order_number=row["order_number"],
            sku=row["sku"],
            name=verdict.name,
            quantity=row["quantity"],
            restocking_fee=Decimal(row["restocking_fee"]),
            refund_amount=Decimal(row["refund_amount"]),
            refund_method=row["refund_method"],
            status=row["status"],
            created=created,
        )

    def returned_skus(self, customer_id: str, order_number: str) -> set[str]:
        """SKUs of this order that already have a return."""
        return {r["sku"] for r in self.db.returns_of(customer_id, order_number)}

    def cancel(
        self,
        customer_id: str,
        order_number: str,
        *,
        on: date,
        reason: str | None = None,
        statuses: Sequence[str] = ("pending",),
    ) -> OrderView | None:
        """Cancel the customer's order if its status is one of ``statuses`` (idempotent);
        None when not theirs."""
        order = self.db.cancel_order(
            customer_id, order_number, on=on, reason=reason, statuses=statuses
        )
        return self._view(order) if order else None

    # -- what the support actions need (see tools/changes.py) ------------------------------
    def payment_methods(self, customer_id: str) -> list[PaymentMethod]:
        return self.db.payment_methods_of(customer_id)

    def default_address(self, customer_id: str) -> Address | None:
        return self.db.default_address_of(customer_id)

    def product(self, product_id: str) -> Product | None:
        return self.db.product(product_id)

    def stock(self, skus: list[str]) -> dict[str, int]:
        return {r["sku"]: int(r["stock"]) for r in self.db.sku_rows(skus)}

    def action(self, customer_id: str, action_id: str) -> dict[str, Any] | None:
        rows = self.db.rows(
            "SELECT * FROM order_actions WHERE customer_id = ? AND id = ?", (customer_id, action_id)
        )
        return dict(rows[0]) if rows else None

    def apply(self, change: Change) -> tuple[dict[str, Any], bool]:
        return self.db.apply_change(change)

    def _view(self, order: Order) -> OrderView:
        lines = []
        for item, item_id in zip(order.items, order.item_ids(), strict=True):
            product = self.db.product(item.product_id)
            lines.append(
                OrderLine(
                    **item.model_dump(exclude={"item_id"}),
                    item_id=item_id,
                    category=product.category if product else "",
                    final_sale=product.final_sale if product else False,
                )
            )
        data = order.model_dump(exclude={"items", "customer_id"})
        return OrderView(**data, items=lines, total=order.total)


def _words(text: str) -> list[str]:
    """Casefolded words without accents ("José O'Neil" -> ["jose", "o'neil"])."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return re.findall(r"\w+(?:['’-]\w+)*", plain.replace("’", "'"))


def _contains(words: list[str], name: list[str]) -> bool:
    """Whether ``name`` (all its words, in order) occurs in ``words``."""
    n = len(name)
    return n > 0 and any(words[i : i + n] == name for i in range(len(words) - n + 1))


def _verified(customer: Customer) -> VerifiedCustomer:
    return VerifiedCustomer(id=customer.id, name=customer.name, email=str(customer.email))
