"""The support actions as a user runs them: ``shopagent ask`` and ``shopagent chat`` in
subprocesses over a fresh ``SHOPAGENT_HOME`` whose store is the profile store (payment
methods, per-unit lines) on SQLite or on PostgreSQL (``SHOPAGENT_STORE_URL``), with the real
bundled models, the deterministic act mode and the clock fixed at ``factories_profiles.NOW``.

Test modules take the fixture with ``shop = cli_actions_common.shop``; :class:`Shop` runs the
CLI and reads the store database the CLI wrote to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from factories_profiles import HOME, NOW, profile_store
from server_app import PgSchema, pg_available
from shopagent.tools.orders import StoreOrders
from shopagent.tools.store.schema import Order, OrderItem, Payment, StoreData

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "shopagent.agent.cli.main"]
ADA = "ada@example.com"
_pg_why = pg_available()

KITCHEN_ORDER = Order(  # delivered 6 days ago, paid with PayPal; every line refunds to it
    number="SA-100009",
    customer_id="C1",
    status="delivered",
    placed_at=datetime(2026, 11, 10, 9),
    items=[
        OrderItem(
            item_id="1",
            sku="W-300",
            product_id="P3",
            name="ThermaCup Desk Mug Warmer",
            quantity=2,  # one line of two units: "one of the mug warmers" is a quantity
            unit_price=Decimal("24.99"),
        ),
        OrderItem(
            item_id="2",
            sku="K-200",
            product_id="P2",
            name="Hearth Classic Kettle",
            quantity=1,
            unit_price=Decimal("29.49"),
        ),
    ],
    shipped_at=date(2026, 11, 11),
    delivered_at=date(2026, 11, 14),
    shipping_address=HOME,
    payments=[Payment(kind="payment", amount=Decimal("79.47"), method_id="paypal-1")],
)


SPARE_PENDING = Order(  # a second pending order of Ada's, to cancel
    number="SA-100010",
    customer_id="C1",
    status="pending",
    placed_at=datetime(2026, 11, 19, 15),
    items=[
        OrderItem(
            item_id="1",
            sku="K-200",
            product_id="P2",
            name="Hearth Classic Kettle",
            quantity=1,
            unit_price=Decimal("29.49"),
        )
    ],
    shipping_address=HOME,
    payments=[Payment(kind="payment", amount=Decimal("29.49"), method_id="card-1")],
)


def cli_store() -> StoreData:
    """The profile store plus :data:`KITCHEN_ORDER` and :data:`SPARE_PENDING`."""
    data = profile_store()
    return data.model_copy(update={"orders": [*data.orders, KITCHEN_ORDER, SPARE_PENDING]})


@dataclass
class Shop:
    """A home the CLI runs in, and the store database it writes to."""

    backend: str
    env: dict[str, str]
    db: Any

    def ask(self, message: str, thread: str, customer: str = ADA) -> dict[str, Any]:
        """``shopagent ask --json``: the printed TurnResult."""
        done = subprocess.run(
            [*CLI, "ask", "--json", "--thread", thread, "--customer", customer, message],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    def ask_here(self, message: str, thread: str, customer: str = ADA) -> dict[str, Any]:
        """The same ``shopagent ask --json`` in this process (typer's CliRunner): each call
        opens the agent from the settings and closes it, the thread resumes from the
        checkpoint file; only the loaded model weights are shared between calls."""
        from shopagent.agent.cli.main import app
        from typer.testing import CliRunner

        from shopagent.settings import get_settings

        argv = ["ask", "--json", "--thread", thread, "--customer", customer, message]
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(self.env)
        get_settings.cache_clear()
        try:
            done = CliRunner().invoke(app, argv)
        finally:
            os.environ.clear()
            os.environ.update(saved)
            get_settings.cache_clear()
        assert done.exit_code == 0, done.output
        return json.loads(done.stdout.strip().splitlines()[-1])

    def chat(self, lines: list[str], thread: str, customer: str = ADA) -> list[str]:
        """``shopagent chat`` fed ``lines`` on stdin: the assistant's answer to each."""
        done = subprocess.run(
            [*CLI, "chat", "--thread", thread, "--customer", customer],
            env={**self.env, "COLUMNS": "1000", "NO_COLOR": "1"},
            input="".join(f"{line}\n" for line in lines),
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stderr
        answers = [
            part.split("\n  ")[0].strip()  # the answer, without its dim intent · tools line
            for part in done.stdout.split("assistant> ")[1:]
        ]
        assert len(answers) == len(lines), done.stdout
        return answers

    def actions(self, order_number: str | None = None) -> list[dict[str, Any]]:
        """Ada's recorded support actions, with ``details`` parsed."""
        rows = self.db.actions_of("C1", order_number)
        return [{**r, "details": json.loads(r["details"])} for r in rows]

    def order(self, number: str):
        return StoreOrders(self.db).order("C1", number)

    def balance(self, method_id: str) -> Decimal | None:
        methods = {m.id: m for m in self.db.payment_methods_of("C1")}
        return methods[method_id].balance


@pytest.fixture(params=["sqlite", "postgres"])
def shop(request, tmp_path):
    """A fresh home with :func:`cli_store`: its catalog indexed, its database SQLite
    (``<home>/store.db``) or a PostgreSQL schema (then there is no ``store.db`` at all)."""
    from shopagent.tools.catalog import CatalogConfig, open_catalog

    from shopagent.settings import Settings

    if request.param == "postgres" and _pg_why and not os.environ.get("CI"):
        pytest.skip(_pg_why)
    data = cli_store()
    home = tmp_path / "home"
    settings = Settings(home=home)
    open_catalog(CatalogConfig.of(settings)).index(data.products)
    env = {
        **os.environ,
        "SHOPAGENT_HOME": str(home),
        "SHOPAGENT_MODEL_CACHE_DIR": str(REPO / "var" / "models"),
        "SHOPAGENT_NOW": NOW.isoformat(),
        "SHOPAGENT_ACT_MODE": "deterministic",
        "HF_HUB_OFFLINE": "1",
    }
    for name in ("SHOPAGENT_INVENTORY_URL", "SHOPAGENT_STORE_URL", "SHOPAGENT_CHECKPOINT_URL"):
        env.pop(name, None)
    schema = None
    if request.param == "sqlite":
        from shopagent.tools.store.db import StoreDB

        db: Any = StoreDB(settings.database)
    else:
        from shopagent.tools.store.pg import PgStoreDB

        schema = PgSchema()
        db = PgStoreDB(schema.url)
        env["SHOPAGENT_STORE_URL"] = schema.url
    db.load(data)
    yield Shop(request.param, env, db)
    db.close()
    if schema is not None:
        schema.drop()
