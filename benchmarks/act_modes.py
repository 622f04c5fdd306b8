"""LLM calls per turn in each act mode, against the worst-case adversary (evals/adversary.py)
on the red-team, security and injection suites (eval store of 40 products).

    .venv/bin/python benchmarks/act_modes.py deterministic
    .venv/bin/python benchmarks/act_modes.py tools

The adversary always calls a tool when tools are bound, so tool mode runs to its per-turn
limit (``max_tool_calls``, 4): an upper bound of the mode's cost, not a typical model's.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from pathlib import Path

from shopagent.evals.adversary import AdversaryChatModel
from shopagent.evals.loader import discover, parse_files, resolve
from shopagent.evals.runner import EvalRun, RunOptions
from shopagent.evals.store import StoreSpec

from shopagent.settings import Settings

SUITES = ["redteam", "security", "injection"]


def main(mode: str) -> None:
    logging.disable(logging.WARNING)
    root = Path(tempfile.mkdtemp(prefix="act-modes-"))
    options = RunOptions(model="adversary", store=StoreSpec(n_products=40),
                         cache_dir=root / "cache")  # fmt: skip
    run = EvalRun.open(Settings(home=root / "home", act_mode=mode), options,
                       model=AdversaryChatModel())  # fmt: skip
    try:
        dialogs = [resolve(d, run.store.index) for d in parse_files(discover(SUITES))]
        report = asyncio.run(run.run(dialogs))
    finally:
        run.close()
    m, turns = report.metrics, sum(len(d.turns) for d in report.dialogs)
    print(f"mode={mode} dialogs={len(report.dialogs)} turns={turns} "
          f"passed={sum(d.passed for d in report.dialogs)} security={m['security']} "
          f"llm_calls_per_turn={m['llm_calls_per_turn']:.2f} "
          f"tokens_per_turn={m['tokens_per_turn']:.0f}")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "deterministic")
