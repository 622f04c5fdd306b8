"""Fault injection through the whole agent: the real price/stock API over HTTP with injected
latency, 503 bursts and dropped connections; a deliberately lying chat model; the real graph.

For each fault profile, asks the price of N products and counts turns answered, turns that
said live data could not be confirmed, and invented numbers: any money amount in an answer
that is not the price the API served for that turn. The goal is invented = 0.

    .venv/bin/python benchmarks/inventory_faults.py [--turns 30] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from datetime import date

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langgraph.checkpoint.memory import InMemorySaver
from shopagent.agent.service import ShopAgent
from shopagent.tools.catalog import InMemoryCatalog
from shopagent.tools.inventory import inventory_from_url
from shopagent.tools.inventory_api import FaultConfig, create_app, serve_in_thread
from shopagent.tools.store.db import StoreDB
from shopagent.tools.store.generate import generate_store

from shopagent.settings import Settings

PROFILES = {
    "healthy": FaultConfig(),
    "slow (2.5 s > 2 s timeout)": FaultConfig(latency_s=2.5),
    "503 burst of 2 with Retry-After": FaultConfig(fail_first_n=2, retry_after_s=0.2),
    "30% 503": FaultConfig(fail_rate=0.3, retry_after_s=0.1, seed=3),
    "30% dropped connections": FaultConfig(drop_rate=0.3, seed=5),
    "down (100% 503)": FaultConfig(fail_rate=1.0, retry_after_s=0.1),
}
MONEY = re.compile(r"\$\s?(\d+(?:\.\d{2})?)")


async def run_profile(name: str, faults: FaultConfig, turns: int, data) -> dict:
    db = StoreDB.in_memory(data)
    server = serve_in_thread(create_app(db, faults=faults))
    settings = Settings(inventory_timeout_s=2.0, inventory_retries=2, turn_budget_s=15)
    inventory = inventory_from_url(
        server.url,
        timeout_s=settings.inventory_timeout_s,
        retries=settings.inventory_retries,
    )
    liar = FakeListChatModel(responses=["Great news: it's only $1.00 and we have 999 in stock!"])
    agent = await ShopAgent.open(
        settings,
        model=liar,
        db=db,
        inventory=inventory,
        catalog=InMemoryCatalog(data.products),
        checkpointer=InMemorySaver(),
    )
    answered = unconfirmed = invented = 0
    latencies = []
    try:
        for product in data.products[:turns]:
            inventory.clear_cache()
            started = time.perf_counter()
            result = await agent.ask(f"how much is the {product.name}?")
            latencies.append(time.perf_counter() - started)
            answered += bool(result.answer.strip())
            served = {
                q["price"]
                for c in result.tool_calls
                if c["name"] == "check_price_stock" and c["ok"]
                for q in c["result"]["quotes"]
            }
            said = set(MONEY.findall(result.answer))
            invented += len(said - served)
            unconfirmed += "can't confirm live price" in result.answer
    finally:
        await agent.aclose()
        await inventory.aclose()
        server.stop()
    latencies.sort()
    return {
        "profile": name,
        "turns": turns,
        "answered": answered,
        "unconfirmed": unconfirmed,
        "invented_numbers": invented,
        "p50_s": round(latencies[len(latencies) // 2], 2),
        "max_s": round(latencies[-1], 2),
        "api_requests": faults.requests,
        "faults_injected": faults.failed + faults.dropped,
    }


async def main_async(turns: int) -> list[dict]:
    data = generate_store(
        n_products=max(turns, 50), n_customers=20, n_orders=40, today=date(2026, 11, 20)
    )
    return [await run_profile(n, f, turns, data) for n, f in PROFILES.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = asyncio.run(main_async(args.turns))
    print(f"{'profile':34} answered unconfirmed invented  p50 s  max s  faults/requests")
    for r in rows:
        print(
            f"{r['profile']:34} {r['answered']:>4}/{r['turns']:<4} {r['unconfirmed']:>8} "
            f"{r['invented_numbers']:>8} {r['p50_s']:>6} {r['max_s']:>6}  "
            f"{r['faults_injected']}/{r['api_requests']}"
        )
    if args.json:
        print(
            json.dumps(
                {"profiles": rows, "invented_numbers": sum(r["invented_numbers"] for r in rows)}
            )
        )


if __name__ == "__main__":
    main()
