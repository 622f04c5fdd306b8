"""Crash safety of the support actions, proven by really killing the server (the pattern of
tests/test_crash.py): ``shopagent serve`` over SQLite or PostgreSQL is ``kill -9``ed after a
confirmed exchange was written to the store but before the turn's checkpoint was saved (the
checkpoint storage is locked by the test). After the restart (a day later, so a second
write would show) the client retries its confirmation: the store holds exactly one exchange,
one price-difference payment, and the order is exchange requested.
"""

from __future__ import annotations

import json
import os
from typing import Any

import httpx
import pytest
from factories_profiles import profile_store
from openai_server import serve_fake_openai
from server_app import pg_available
from shopagent.tools.store.db import StoreDB
from test_crash import ADA, Deployment, retry_confirmation, wait_for

DAY_1, DAY_2 = "2026-11-20T10:00:00+00:00", "2026-11-21T10:00:00+00:00"
EXCHANGE = "I'd like to exchange the kettle from order SA-100007 for the blue one"
DONE = "the exchange for order SA-100007 is requested"


def _load_profiles(dep: Deployment) -> None:
    """The deployment's store with the support actions' fields (payment methods, per-unit
    lines, payments): the tiny store's products and customers, plus SA-100007."""
    if dep.schema is not None:
        from shopagent.tools.store.pg import PgStoreDB

        db: Any = PgStoreDB(dep.schema.url)
    else:
        db = StoreDB(dep.home / "store.db")
    db.load(profile_store())
    db.close()


@pytest.fixture(params=["sqlite", "postgres"])
def deployment(request, tmp_path):
    if request.param == "postgres" and (why := pg_available()) and not os.environ.get("CI"):
        pytest.skip(why)
    with serve_fake_openai() as fake:
        dep = Deployment(tmp_path, request.param, fake)
        _load_profiles(dep)
        try:
            yield dep
        finally:
            dep.close()


def _exchanges(dep: Deployment) -> list[dict[str, Any]]:
    return dep.store_rows(
        "SELECT * FROM order_actions WHERE order_number = ? AND kind = ?",
        ("SA-100007", "exchange_items"),
    )


def _order(dep: Deployment) -> dict[str, Any]:
    rows = dep.store_rows("SELECT data FROM orders WHERE number = ?", ("SA-100007",))
    return json.loads(rows[0]["data"])


def test_kill_9_between_a_confirmed_exchange_and_its_checkpoint(deployment) -> None:
    dep = deployment
    dep.start(DAY_1)
    ada = dep.thread(ADA)
    asked = dep.say(ada, EXCHANGE, ADA)
    assert asked["confirmation"]["action"] == "exchange_items", asked
    assert asked["confirmation"]["swaps"] == {"1": "K-100-BLU"}
    assert _exchanges(dep) == []

    with dep.checkpoints_locked():
        confirming = dep.in_flight(f"/v1/threads/{ada}/confirmation", {"approve": True}, ADA)
        wait_for(lambda: _exchanges(dep), "the exchange to be written")
        dep.kill()
    assert isinstance(confirming.outcome(), httpx.TransportError)  # no answer came back
    written = _exchanges(dep)
    assert len(written) == 1 and written[0]["status"] == "requested"
    order = _order(dep)
    assert order["status"] == "exchange_requested"

    dep.start(DAY_2)
    retry_confirmation(dep, ada, ADA, DONE)
    assert _exchanges(dep) == written  # exactly one exchange, recorded on day 1
    after = _order(dep)
    assert after == order
    differences = [p for p in after["payments"] if p.get("purpose") == "difference"]
    assert len(differences) == 1 and differences[0]["amount"] in ("3.00", 3.0, "3")
    # asking again on day 2 proposes nothing: the order has an open exchange
    again = dep.say(ada, EXCHANGE, ADA)
    assert again["confirmation"] is None, again
    assert _exchanges(dep) == written
