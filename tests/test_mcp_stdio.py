"""MCP over stdio: the SDK's client starts `shopagent mcp` as a subprocess, over a real home
(SQLite store, Chroma index with MiniLM, the price/stock API on loopback). The store is the
profile store (the tiny store plus payment methods, addresses and SA-100007/8) so the
support actions run here too (tests/mcp_changes_common.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import mcp_changes_common as sc
import pytest
from factories import IN_WINDOW
from factories_profiles import profile_store
from mcp import Client, StdioServerParameters
from shopagent.tools.catalog import open_catalog
from shopagent.tools.store.db import StoreDB
from test_mcp_http import ADA, TOOLS

from shopagent.settings import Settings

REPO = Path(__file__).resolve().parents[1]
CLI = ["-m", "shopagent.agent.cli.main", "mcp"]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A SHOPAGENT_HOME with the tiny store loaded and indexed; the clock inside the return
    window of SA-100002 (Ada's delivered headphones)."""
    root = tmp_path_factory.mktemp("mcp-home")
    settings = Settings(home=root, model_cache_dir=REPO / "var" / "models")
    db = StoreDB(settings.database)
    db.load(profile_store())
    open_catalog(settings).index(list(db.products()))
    db.close()
    env = {
        **os.environ,
        "SHOPAGENT_HOME": str(root),
        "SHOPAGENT_MODEL_CACHE_DIR": str(REPO / "var" / "models"),
        "SHOPAGENT_NOW": IN_WINDOW.isoformat(),
    }
    for name in ("SHOPAGENT_INVENTORY_URL", "SHOPAGENT_MCP_CUSTOMER", "SHOPAGENT_STORE_URL"):
        env.pop(name, None)
    return env


def params(env: dict[str, str], *args: str) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=[*CLI, *args], env=env, cwd=REPO)


def store_of(env: dict[str, str]) -> StoreDB:
    return StoreDB(Settings(home=Path(env["SHOPAGENT_HOME"])).database)


@pytest.fixture
def fresh(home: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """A copy of the module's home: each test writes to its own store."""
    root = tmp_path / "home"
    shutil.copytree(home["SHOPAGENT_HOME"], root)
    return {**home, "SHOPAGENT_HOME": str(root)}


def returns_in(env: dict[str, str]) -> int:
    db = StoreDB(Settings(home=Path(env["SHOPAGENT_HOME"])).database)
    try:
        return sum(len(db.returns_of(c)) for c in ("C1", "C2", "C3"))
    finally:
        db.close()


async def test_signed_in_shopper_session(home: dict[str, str]) -> None:
    before = returns_in(home)
    async with Client(params(home, "--customer", ADA), read_timeout_seconds=120) as client:
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS

        found = await client.call_tool("search_catalog", {"query": "gooseneck kettle"})
        assert not found.is_error, found.content
        assert found.structured_content["hits"][0]["name"] == "Brewster Gooseneck Kettle"

        order = await client.call_tool("get_order", {"order_number": "SA-100002"})
        assert order.structured_content["status"] == "delivered"
        theirs = await client.call_tool("get_order", {"order_number": "SA-100003"})  # Ben's
        assert theirs.is_error and theirs.structured_content["error"]["code"] == "not_found"
        steal = await client.call_tool("propose_cancel", {"order_number": "SA-100003"})
        assert steal.is_error and "confirmation_token" not in steal.structured_content

        proposed = await client.call_tool(
            "propose_return", {"order_number": "SA-100002", "condition": "unopened"}
        )
        token = proposed.structured_content["confirmation_token"]
        first = await client.call_tool("confirm_return", {"confirmation_token": token})
        replay = await client.call_tool("confirm_return", {"confirmation_token": token})
    assert first.structured_content["created"] is True
    assert replay.structured_content["created"] is False
    assert returns_in(home) == before + 1


async def test_without_a_customer_only_public_tools(home: dict[str, str]) -> None:
    async with Client(params(home), read_timeout_seconds=120) as client:
        policy = await client.call_tool(
            "get_return_policy", {"question": "can I return opened headphones?"}
        )
        orders = await client.call_tool("list_orders", {})
    assert not policy.is_error and policy.structured_content["sections"]
    assert orders.is_error
    assert "--customer" in orders.structured_content["error"]["hint"]


def test_unknown_customer_is_a_clear_error(home: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, *CLI],
        env={**home, "SHOPAGENT_MCP_CUSTOMER": "nobody@example.com"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    assert "nobody@example.com" in done.stderr and "fix:" in done.stderr
    assert "Traceback" not in done.stderr


async def test_exchange_replay_and_tokens_bound_to_their_change(fresh: dict[str, str]) -> None:
    db = store_of(fresh)
    try:
        async with Client(params(fresh, "--customer", ADA), read_timeout_seconds=120) as client:
            await sc.token_of_one_change_confirms_no_other(client, db)
            await sc.exchange_and_replay(client, db)
    finally:
        db.close()


async def test_address_change_and_multi_item_return(fresh: dict[str, str]) -> None:
    db = store_of(fresh)
    try:
        async with Client(params(fresh, "--customer", ADA), read_timeout_seconds=120) as client:
            await sc.address_change(client, db)
            await sc.multi_item_return(client, db)
    finally:
        db.close()
