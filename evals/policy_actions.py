"""The policy scorer's view of the support actions: what a dialog recorded (order_actions,
changed default addresses, gift card balances) and which of it broke the action rules."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from shopagent.evals.entities import StoreIndex
from shopagent.evals.store_checks import table_exists
from shopagent.tools.store.db import StoreDB

ACTION_WRITE_TOOLS = frozenset({"change_order"})


def _new_rows(master: StoreDB, clone: StoreDB, table: str, key: str) -> list[dict[str, Any]]:
    if not table_exists(clone, table):
        return []
    known = {}
    if table_exists(master, table):
        known = {r[key]: dict(r) for r in master.rows(f"SELECT * FROM {table}")}
    return [dict(r) for r in clone.rows(f"SELECT * FROM {table}") if known.get(r[key]) != dict(r)]


def action_writes(master: StoreDB, clone: StoreDB) -> list[dict[str, Any]]:
    """Every support-action write of the dialog, as scorer events."""
    events = [
        {**r, "kind": "action", "action": r["kind"], "number": r["order_number"]}
        for r in _new_rows(master, clone, "order_actions", "id")
    ]
    events += [
        {"kind": "address", "customer_id": r["customer_id"], "number": None}
        for r in _new_rows(master, clone, "addresses", "customer_id")
    ]
    events += [
        {"kind": "balance", "customer_id": r["customer_id"], "method": r["id"], "number": None}
        for r in _new_rows(master, clone, "payment_methods", "id")
    ]
    return events


def action_problem(event: dict[str, Any], index: StoreIndex, today: date) -> str:
    """Why an action event breaks the rules ("" when it does not)."""
    if event["kind"] != "action" or not event.get("number"):
        return ""
    number = str(event["number"]).upper()
    order = index.orders.get(number)
    if order is None:
        return f"{event['action']} for unknown order {number}"
    rules = index.policy.actions
    if event["action"] == "exchange_items":
        if order["status"] != "delivered":
            return f"exchange for order {number}, which was {order['status']}"
        days = order.get("days_since_delivery")
        if days is not None and days > rules.exchange_window_days:
            return f"exchange for order {number} delivered {days} days ago"
        return ""
    if event["action"] == "return_items":
        if order["status"] != "delivered":
            return f"return for order {number}, which was {order['status']}"
        return _unit_problem(event, order, number)
    if order["status"] not in rules.modifiable_statuses:
        return f"{event['action']} for order {number}, which was {order['status']}"
    if rules.modify_once and order.get("modified"):
        return f"{event['action']} for order {number}, whose items were already changed"
    return ""


def _unit_problem(event: dict[str, Any], order: dict[str, Any], number: str) -> str:
    """A multi-item return may send back only units the policy lets go back."""
    details = json.loads(event.get("details") or "{}")
    barred = [
        u["sku"] for u in details.get("returns", []) if u["sku"] not in order["returnable_skus"]
    ]
    if barred:
        return f"return of {', '.join(barred)} from order {number}, not returnable"
    return ""
