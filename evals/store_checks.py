"""``expect_store``: checks of a dialog's store copy after its last turn."""

from __future__ import annotations

import sqlite3
from typing import Any

from shopagent.evals.format import StoreCheck
from shopagent.evals.results import Check
from shopagent.evals.scorers import match_value
from shopagent.tools.store.db import StoreDB


def table_exists(db: StoreDB, table: str) -> bool:
    rows = db.rows("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
    return bool(rows)


def select(db: StoreDB, table: str, where: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of ``table`` where every column equals its value (a missing table is empty).

    Names were validated as identifiers by :class:`~shopagent.evals.format.StoreCheck`.
    """
    if not table_exists(db, table):
        return []
    clause = " AND ".join(f"{column} = ?" for column in where) or "1"
    try:
        rows = db.rows(f"SELECT * FROM {table} WHERE {clause}", list(where.values()))
    except sqlite3.OperationalError as exc:  # e.g. a column that does not exist
        raise ValueError(f"{table}: {exc}") from None
    return [dict(r) for r in rows]


def run_store_checks(db: StoreDB, checks: list[StoreCheck]) -> list[Check]:
    """One :class:`Check` per ``expect_store`` entry."""
    out = []
    for check in checks:
        name = f"{check.table}{check.where or ''}"
        try:
            rows = select(db, check.table, check.where)
        except ValueError as exc:
            out.append(Check(name=name, ok=False, detail=str(exc)))
            continue
        problems = []
        if check.count is not None and len(rows) != check.count:
            problems.append(f"expected {check.count} row(s), found {len(rows)}")
        if check.values:
            if not rows:
                problems.append("no matching row")
            for row in rows:
                wrong = {
                    k: row.get(k) for k, v in check.values.items() if not match_value(v, row.get(k))
                }
                if wrong:
                    problems.append(f"expected {check.values}, found {wrong}")
                    break
        out.append(Check(name=name, ok=not problems, detail="; ".join(problems)))
    return out
