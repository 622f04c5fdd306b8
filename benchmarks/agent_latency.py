"""Agent latency on the embedded default: cold start of `shopagent ask` (a new process) and
warm per-turn latency inside one process, per intent, with LLM calls and tokens per turn.

    .venv/bin/python benchmarks/agent_latency.py [--cold 3] [--rounds 3] [--json]

Needs the demo store and index (`make demo` or `make data model`). Prints a table, and with
--json one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time

from shopagent.agent.cli.demo import demo_script
from shopagent.agent.service import ShopAgent
from shopagent.tools.store.db import StoreDB

from shopagent.settings import get_settings


def cold_starts(message: str, runs: int) -> list[float]:
    """Wall time of `shopagent ask --json` in a fresh process, seconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "shopagent.agent.cli.main", "ask", "--json", message],
            check=True,
            capture_output=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        times.append(time.perf_counter() - started)
    return times


async def warm_turns(script: list[str], rounds: int) -> list[dict]:
    """Every scripted turn ``rounds`` times in one process (a new thread per round)."""
    rows = []
    async with await ShopAgent.open(get_settings()) as agent:
        await agent.ask("hello", thread_id="warmup")
        for r in range(rounds):
            for message in script:
                result = await agent.ask(message, thread_id=f"bench-{r}")
                rows.append(
                    {
                        "intent": result.intent,
                        "ms": result.latency_ms,
                        "llm_calls": result.llm_calls,
                        "tokens": result.tokens,
                        "source": result.answer_source,
                    }
                )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", type=int, default=3, help="cold-start runs")
    parser.add_argument("--rounds", type=int, default=3, help="warm rounds of the script")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    settings = get_settings()
    script = demo_script(StoreDB.open(settings.database))
    cold = cold_starts(script[2], args.cold)
    rows = asyncio.run(warm_turns(script, args.rounds))

    per_intent: dict[str, dict] = {}
    for intent in dict.fromkeys(r["intent"] for r in rows):
        mine = [r for r in rows if r["intent"] == intent]
        per_intent[intent] = {
            "turns": len(mine),
            "median_ms": round(statistics.median(r["ms"] for r in mine), 1),
            "llm_calls_per_turn": round(statistics.mean(r["llm_calls"] for r in mine), 2),
            "tokens_per_turn": round(statistics.mean(r["tokens"] for r in mine), 1),
            "model_answers": sum(r["source"] == "model" for r in mine),
        }
    summary = {
        "model": settings.model,
        "cold_start_s": {"median": round(statistics.median(cold), 2), "runs": len(cold)},
        "warm_turn_ms": {
            "median": round(statistics.median(r["ms"] for r in rows), 1),
            "p95": round(sorted(r["ms"] for r in rows)[int(0.95 * (len(rows) - 1))], 1),
            "turns": len(rows),
        },
        "llm_calls_per_turn": round(statistics.mean(r["llm_calls"] for r in rows), 2),
        "tokens_per_turn": round(statistics.mean(r["tokens"] for r in rows), 1),
        "per_intent": per_intent,
    }
    print(f"cold start (new process, one turn): median {summary['cold_start_s']['median']} s")
    print(
        f"warm turn: median {summary['warm_turn_ms']['median']} ms, "
        f"p95 {summary['warm_turn_ms']['p95']} ms over {len(rows)} turns"
    )
    for intent, row in per_intent.items():
        print(
            f"  {intent:15} {row['median_ms']:>8} ms  llm/turn {row['llm_calls_per_turn']}"
            f"  tokens/turn {row['tokens_per_turn']}  model answers {row['model_answers']}"
            f"/{row['turns']}"
        )
    if args.json:
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
