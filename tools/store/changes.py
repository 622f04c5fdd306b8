"""Customer profiles (default address, payment methods) and the support actions' writes.

Every write is one transaction that locks the customer's row first (so two writes for one
customer never interleave), checks ownership in SQL (the order, the payment method and the
gift card must be this customer's), and records the action in ``order_actions`` under a
deterministic id: a replayed confirmation finds its row and writes nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from shopagent.tools.store.schema import Address, Customer, Order, PaymentMethod

from shopagent.errors import ActionNotAllowed


def load_profiles(conn: Any, customers: Iterable[Customer]) -> None:
    """Insert the customers' payment methods and default addresses (inside ``load``)."""
    customers = list(customers)
    conn.executemany(
        "INSERT INTO payment_methods VALUES (?,?,?,?,?,?)",
        [
            (
                m.id,
                c.id,
                m.kind,
                m.label(),
                None if m.balance is None else str(m.balance),
                m.model_dump_json(),
            )
            for c in customers
            for m in c.payment_methods
        ],
    )
    conn.executemany(
        "INSERT INTO addresses (customer_id, data) VALUES (?,?)",
        [(c.id, c.default_address.model_dump_json()) for c in customers if c.default_address],
    )


@dataclass
class Change:
    """One support action, as the write will record it."""

    action_id: str
    kind: str
    customer_id: str
    created_at: datetime
    details: dict[str, Any]
    order_number: str | None = None
    amount: Decimal = Decimal(0)
    """Signed: > 0 charged to the customer, < 0 refunded."""
    method_id: str | None = None
    status: str = "requested"
    update_order: Callable[[Order], Order] | None = None
    """The order as it is after the change; raises ActionNotAllowed when it no longer
    qualifies (it is re-checked inside the transaction, on the locked row)."""
    default_address: Address | None = None
    gift_card_debits: dict[str, Decimal] = field(default_factory=dict)
    """Gift card id -> amount taken from its balance (negative: given back)."""


class ChangeQueries:
    """The profile reads and action writes of :class:`~.queries.StoreQueries`."""

    FOR_UPDATE = ""

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        raise NotImplementedError

    def transaction(self) -> Any:
        raise NotImplementedError

    # -- reads ---------------------------------------------------------------------------
    def payment_methods_of(self, customer_id: str) -> list[PaymentMethod]:
        """The customer's saved payment methods, with gift card balances as they are now."""
        rows = self.rows(
            "SELECT data, balance FROM payment_methods WHERE customer_id = ? ORDER BY id",
            (customer_id,),
        )
        methods = []
        for row in rows:
            method = PaymentMethod.model_validate_json(row["data"])
            if row["balance"] is not None:
                method = method.model_copy(update={"balance": Decimal(row["balance"])})
            methods.append(method)
        return methods

    def default_address_of(self, customer_id: str) -> Address | None:
        rows = self.rows("SELECT data FROM addresses WHERE customer_id = ?", (customer_id,))
        return Address.model_validate_json(rows[0]["data"]) if rows else None

    def actions_of(self, customer_id: str, order_number: str | None = None) -> list[dict[str, Any]]:
        """The customer's recorded actions (of one order when given), oldest first."""
        sql = "SELECT * FROM order_actions WHERE customer_id = ?"
        params: list[object] = [customer_id]
        if order_number:
            sql += " AND order_number = ?"
            params.append(order_number.strip().upper())
        return [dict(r) for r in self.rows(sql + " ORDER BY created_at, id", params)]

    # -- the one write -------------------------------------------------------------------
    def apply_change(self, change: Change) -> tuple[dict[str, Any], bool]:
        """Write ``change`` atomically; (its order_actions row, created).

        KeyError when the customer, order or payment method is not this customer's;
        ActionNotAllowed when the order no longer qualifies or a gift card's balance is
        short. A change already recorded (same id) is returned with ``created`` False.
        """
        lock = self.FOR_UPDATE
        with self.transaction() as conn:
            who = conn.execute(
                f"SELECT id FROM customers WHERE id = ?{lock}", (change.customer_id,)
            ).fetchone()
            if who is None:
                raise KeyError(change.customer_id)
            done = conn.execute(
                "SELECT * FROM order_actions WHERE id = ? AND customer_id = ?",
                (change.action_id, change.customer_id),
            ).fetchone()
            if done is not None:
                return dict(done), False
            if change.method_id is not None:
                _owned_method(conn, change.customer_id, change.method_id)
            if change.order_number is not None:
                _update_order(conn, change, lock)
            for method_id, debit in change.gift_card_debits.items():
                _debit_gift_card(conn, change.customer_id, method_id, debit, lock)
            if change.default_address is not None:
                conn.execute(
                    "INSERT INTO addresses (customer_id, data, updated_at) VALUES (?,?,?) "
                    "ON CONFLICT (customer_id) DO UPDATE SET data = excluded.data, "
                    "updated_at = excluded.updated_at",
                    (
                        change.customer_id,
                        change.default_address.model_dump_json(),
                        change.created_at.isoformat(),
                    ),
                )
            conn.execute(
                "INSERT INTO order_actions VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    change.action_id,
                    change.customer_id,
                    change.order_number,
                    change.kind,
                    json.dumps(change.details, sort_keys=True, default=str),
                    str(change.amount),
                    change.method_id,
                    change.status,
                    change.created_at.isoformat(),
                ),
            )
            row = conn.execute(
                "SELECT * FROM order_actions WHERE id = ?", (change.action_id,)
            ).fetchone()
        return dict(row), True


def _owned_method(conn: Any, customer_id: str, method_id: str) -> None:
    found = conn.execute(
        "SELECT 1 FROM payment_methods WHERE id = ? AND customer_id = ?", (method_id, customer_id)
    ).fetchone()
    if found is None:
        raise KeyError(method_id)


def _update_order(conn: Any, change: Change, lock: str) -> None:
    number = change.order_number.strip().upper() if change.order_number else ""
    row = conn.execute(
        f"SELECT data FROM orders WHERE customer_id = ? AND number = ?{lock}",
        (change.customer_id, number),
    ).fetchone()
    if row is None:
        raise KeyError(number)
    if change.update_order is None:
        return
    after = change.update_order(Order.model_validate_json(row["data"]))
    conn.execute(
        "UPDATE orders SET status = ?, data = ? WHERE number = ? AND customer_id = ?",
        (after.status, after.model_dump_json(), number, change.customer_id),
    )


def _debit_gift_card(
    conn: Any, customer_id: str, method_id: str, debit: Decimal, lock: str
) -> None:
    row = conn.execute(
        "SELECT balance FROM payment_methods WHERE id = ? AND customer_id = ? "
        f"AND kind = 'gift_card'{lock}",
        (method_id, customer_id),
    ).fetchone()
    if row is None:
        raise KeyError(method_id)
    balance = Decimal(row["balance"] or "0")
    if balance < debit:
        raise ActionNotAllowed(
            f"the gift card's balance ({balance:.2f}) is less than {debit:.2f}",
            hint="choose another payment method",
        )
    conn.execute(
        "UPDATE payment_methods SET balance = ? WHERE id = ? AND customer_id = ?",
        (f"{balance - debit:.2f}", method_id, customer_id),
    )


def credit_if_gift_card(
    conn: Any, customer_id: str, method_id: str, amount: Decimal, lock: str
) -> None:
    """Give ``amount`` back to the customer's gift card ``method_id`` at once (a cancelled
    order's refund); cards and PayPal are refunded by the shop's backend as recorded."""
    row = conn.execute(
        "SELECT kind FROM payment_methods WHERE id = ? AND customer_id = ?",
        (method_id, customer_id),
    ).fetchone()
    if row is not None and row["kind"] == "gift_card":
        _debit_gift_card(conn, customer_id, method_id, -amount, lock)
