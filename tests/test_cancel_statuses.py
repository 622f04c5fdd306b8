"""Cancellation follows the shop's ``actions.cancellable_statuses`` down to the locked row,
on SQLite and PostgreSQL: a shop that lists ``processing`` (docs/store-format.md, "Mapping
your backend's order states") gets its processing orders cancelled, not reported as
cancellable and then left as they were."""

from __future__ import annotations

from datetime import date

import profile_dbs
import pytest
from profile_dbs import world
from shopagent.tools import functions as fn
from shopagent.tools.results import VerifiedCustomer
from shopagent.tools.store.schema import ActionRules

from shopagent.errors import ActionNotAllowed

CY = VerifiedCustomer(id="C3", name="Cy Noor", email="cy@example.com")  # SA-100006 processing
TODAY = date(2026, 11, 20)

db = profile_dbs.db


def test_a_listed_processing_order_is_cancelled_once(db) -> None:
    orders, _ = world(db)
    rules = ActionRules(cancellable_statuses=["pending", "processing"])
    assert fn.check_cancel_eligibility(orders, CY, "SA-100006", rules).eligible
    done = fn.cancel_order(
        orders, CY, "SA-100006", today=TODAY, reason="no longer needed", rules=rules
    )
    assert done.cancelled and done.status == "cancelled"
    order = orders.order("C3", "SA-100006")
    assert order.status == "cancelled" and order.cancelled_at == TODAY
    assert order.cancel_reason == "no longer needed"
    again = fn.cancel_order(orders, CY, "SA-100006", today=TODAY, rules=rules)  # a replay
    assert not again.cancelled and again.status == "cancelled"
    assert orders.order("C3", "SA-100006") == order


def test_by_default_a_processing_order_is_refused_and_kept(db) -> None:
    orders, _ = world(db)
    with pytest.raises(ActionNotAllowed):
        fn.cancel_order(orders, CY, "SA-100006", today=TODAY)
    # the row itself refuses a status the shop does not list, whatever the caller checked
    assert orders.cancel("C3", "SA-100006", on=TODAY).status == "processing"
    assert orders.order("C3", "SA-100006").status == "processing"
