"""Human handoff tickets, written to the store database."""

from __future__ import annotations

import uuid

from shopagent.tools.results import HandoffResult
from shopagent.tools.store.db import StoreDB


class StoreHandoffs:
    """The ``Handoffs`` protocol over the store database's ``handoffs`` table."""

    def __init__(self, db: StoreDB) -> None:
        self.db = db

    def create(
        self, *, customer_id: str | None, thread_id: str, summary: str, reason: str
    ) -> HandoffResult:
        ticket = f"HO-{uuid.uuid4().hex[:8].upper()}"
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO handoffs (id, customer_id, thread_id, summary, reason, created_at)"
                " VALUES (?,?,?,?,?, datetime('now'))",
                (ticket, customer_id, thread_id, summary[:2000], reason),
            )
        return HandoffResult(ticket_id=ticket, reason=reason)

    def tickets(self) -> list[dict[str, str]]:
        """All tickets, oldest first."""
        return [dict(r) for r in self.db.rows("SELECT * FROM handoffs ORDER BY created_at")]
