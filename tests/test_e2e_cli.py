"""End to end, as a user runs it: the `shopagent` CLI in subprocesses, a real inventory API
process on loopback, real Chroma and MiniLM, the real bundled SmolLM2, SQLite checkpoints."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from shopagent.tools.store.db import StoreDB

pytestmark = pytest.mark.real_model

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "shopagent.agent.cli.main"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A fresh SHOPAGENT_HOME with a small demo store, indexed; the model cache is shared."""
    root = tmp_path_factory.mktemp("home")
    env = {
        **os.environ,
        "SHOPAGENT_HOME": str(root),
        "SHOPAGENT_MODEL_CACHE_DIR": str(REPO / "var" / "models"),
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("SHOPAGENT_INVENTORY_URL", None)
    for args in (["store", "demo", "--products", "200"], ["index"]):
        done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
    return env


@pytest.fixture(scope="module")
def inventory_url(home: dict[str, str]):
    """`shopagent inventory serve` as its own process."""
    port = _free_port()
    proc = subprocess.Popen(
        [*CLI, "inventory", "serve", "--port", str(port)],
        env=home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail(f"inventory API did not start: {proc.stderr.read().decode()}")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def ask(env: dict[str, str], message: str, *extra: str) -> dict:
    done = subprocess.run(
        [*CLI, "ask", "--json", *extra, message],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _a_product(env: dict[str, str]):
    db = StoreDB.open(Path(env["SHOPAGENT_HOME"]) / "store.db")
    row = db.rows(
        "SELECT p.id FROM products p JOIN skus s ON s.product_id = p.id WHERE s.stock > 0 "
        "ORDER BY p.id LIMIT 1 OFFSET 17"
    )[0]
    return db.product(row["id"])


def test_price_comes_from_the_inventory_api(home, inventory_url) -> None:
    env = {**home, "SHOPAGENT_INVENTORY_URL": inventory_url}
    product = _a_product(home)
    result = ask(env, f"how much is the {product.name}?")
    assert result["intent"] == "price_stock"
    quote_call = next(c for c in result["tool_calls"] if c["name"] == "check_price_stock")
    sku = quote_call["args"]["skus"][0]
    assert sku in {v.sku for v in product.variants}
    served = httpx.get(f"{inventory_url}/v1/skus/{sku}").json()
    assert quote_call["result"]["quotes"][0]["price"] == served["price"]
    assert f"${served['price']}" in result["answer"]
    assert product.name.split()[0] in result["answer"]
    for key in ("answer", "intent", "tool_calls", "model", "latency_ms", "thread_id"):
        assert key in result
    assert result["model"] == "local" and result["llm_calls"] <= 1


def test_thread_resumes_across_processes(home) -> None:
    product = _a_product(home)
    first = ask(home, f"how much is the {product.name}?", "--thread", "t1")
    second = ask(home, "is it in stock?", "--thread", "t1")
    assert second["thread_id"] == "t1"
    quoted = second["tool_calls"][0]
    assert quoted["name"] == "check_price_stock"
    assert quoted["args"]["skus"][0] in {v.sku for v in product.variants}
    stock = quoted["result"]["quotes"][0]["stock"]
    answer = second["answer"].casefold()
    assert product.name.split()[0].casefold() in answer
    assert ("out of stock" in answer) == (stock == 0)
    if second["answer_source"] != "model":
        assert (f"{stock} in stock" if stock else "out of stock") in answer
    assert first["thread_id"] == "t1"


def test_bad_input_gets_a_clear_error(home) -> None:
    done = subprocess.run([*CLI, "ask", "   "], env=home, capture_output=True, text=True)
    assert done.returncode == 2
    assert "message is empty" in done.stderr and "Traceback" not in done.stderr


def test_doctor_reports_ok_on_a_prepared_home(home) -> None:
    done = subprocess.run([*CLI, "doctor"], env=home, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
    assert "search index" in done.stdout


@pytest.mark.timeout(1500)  # seven turns of the real local model, on a shared machine
def test_demo_quotes_the_price_and_answers_the_status_turn(home) -> None:
    """`make demo` as run: its price turn states the product's live price; its "Where is my
    order X? My email is Y" turn answers the order's status (issue 14)."""
    from shopagent.agent.cli.demo import demo_script

    db = StoreDB.open(Path(home["SHOPAGENT_HOME"]) / "store.db")
    script = demo_script(db)
    env = {**home, "COLUMNS": "400", "NO_COLOR": "1"}
    done = subprocess.run(
        [*CLI, "demo"], env=env, capture_output=True, text=True, timeout=1200, cwd=REPO
    )
    assert done.returncode == 0, done.stderr
    turns = done.stdout.split("shopper: ")[1:]
    assert len(turns) == len(script)
    price_turn = next(t for t in turns if t.startswith("How much is"))
    name = price_turn.split("How much is the ", 1)[1].split("?", 1)[0]
    product = db.product(db.rows("SELECT id FROM products WHERE name = ?", (name,))[0]["id"])
    answer = price_turn.split("assistant: ", 1)[1]
    prices = {f"${v.price:.2f}" for v in product.variants}
    assert any(p in answer for p in prices), answer
    status_turn = next(t for t in turns if t.startswith("Where is my order"))
    number = script[5].split("order ", 1)[1].split("?", 1)[0]
    assert "intent: order_status ·" in status_turn, status_turn
    answer = status_turn.split("assistant: ", 1)[1]
    assert number in answer and "What would you like to change" not in answer, answer
