"""The profile store (payment methods, addresses, per-unit lines) on both databases: SQLite in
memory, and PostgreSQL when it runs (in CI it must). Test modules take the fixture with
``db = profile_dbs.db``."""

from __future__ import annotations

import os

import pytest
from factories_profiles import profile_store
from server_app import PgSchema, pg_available
from shopagent.tools.orders import StoreOrders
from shopagent.tools.policy import StorePolicy
from shopagent.tools.store.db import StoreDB

_pg_why = pg_available()


@pytest.fixture(params=["sqlite", "postgres"])
def db(request):
    if request.param == "sqlite":
        store = StoreDB.in_memory(profile_store())
        yield store
        store.close()
        return
    if _pg_why and not os.environ.get("CI"):
        pytest.skip(_pg_why)
    from shopagent.tools.store.pg import PgStoreDB

    schema = PgSchema()
    store = PgStoreDB(schema.url)
    store.load(profile_store())
    yield store
    store.close()
    schema.drop()


def world(db) -> tuple[StoreOrders, StorePolicy]:
    """The order and policy tools over ``db``."""
    data = profile_store()
    return StoreOrders(db), StorePolicy(data.policy, data.policy_docs)
