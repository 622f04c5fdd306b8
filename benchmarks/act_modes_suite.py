"""The two act modes on the built-in suite, side by side, from their eval reports.

Each report comes from ``shopagent eval run`` with a cassette (``--record`` once against the
stand-in of a capable model, ``--replay`` afterwards with no model at all); this script only
reads the reports and prints one Markdown table (BENCHMARKS.md, "Act modes on the built-in
suite"). The whole procedure, on loopback:

    .venv/bin/python benchmarks/stand_in_model.py --port 8765 &
    export SHOPAGENT_OPENAI_BASE_URL=http://127.0.0.1:8765/v1 OPENAI_API_KEY=stand-in
    export SHOPAGENT_TURN_BUDGET_S=600   # no turn may fall back to a template on time (below)
    SHOPAGENT_ACT_MODE=deterministic .venv/bin/shopagent eval run $SUITES -m openai:stand-in \\
        --record var/cassettes/stand-in-deterministic --out var/eval-runs/am-deterministic-record
    SHOPAGENT_ACT_MODE=tools .venv/bin/shopagent eval run $SUITES -m openai:stand-in \\
        --record var/cassettes/stand-in-tools --out var/eval-runs/am-tools-record
    # the same two commands with --replay (and the stand-in stopped) reproduce the runs offline
    .venv/bin/python benchmarks/act_modes_suite.py \\
        deterministic=var/eval-runs/am-deterministic-record/report.json \\
        tools=var/eval-runs/am-tools-record/report.json

A turn that runs out of its time budget (``turn_budget_s``, 30 s) answers from the template
without the model call it would have made; on a loaded machine that happens during the
recording and not during the (instant) replay, whose request then misses the cassette. Record
and replay with a budget no turn reaches.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROWS = [
    ("task success", "task_success", "{:.1%}"),
    ("intent accuracy", "intent_accuracy", "{:.1%}"),
    ("tool-call precision", "tool_call_precision", "{:.1%}"),
    ("tool-call recall", "tool_call_recall", "{:.1%}"),
    ("groundedness", "groundedness", "{:.1%}"),
    ("policy violations", "policy_violations", "{}"),
    ("LLM calls per turn", "llm_calls_per_turn", "{:.2f}"),
    ("tokens per turn", "tokens_per_turn", "{:.0f}"),
]


def _load(arg: str) -> tuple[str, dict[str, Any]]:
    name, _, path = arg.partition("=")
    if not path:
        raise SystemExit(f"expected NAME=REPORT.json, got {arg!r}")
    return name, json.loads(Path(path).read_text(encoding="utf-8"))


def table(reports: list[tuple[str, dict[str, Any]]]) -> str:
    head = "| | " + " | ".join(name for name, _ in reports) + " |"
    lines = [head, "|---" * (len(reports) + 1) + "|"]
    for label, key, fmt in ROWS:
        cells = [fmt.format(r["metrics"][key]) for _, r in reports]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for label, key in (("leaks", "leaks"), ("unauthorized writes", "unauthorized_writes")):
        cells = [str(r["metrics"]["security"][key]) for _, r in reports]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    suites = sorted({s for _, r in reports for s in r["per_suite"]})
    for suite in suites:
        cells = [
            "{:.1%}".format(r["per_suite"][suite]["task_success"])
            if suite in r["per_suite"]
            else "-"
            for _, r in reports
        ]
        lines.append(f"| suite {suite} | " + " | ".join(cells) + " |")
    cassettes = [r["meta"].get("cassette") or {} for _, r in reports]
    lines.append(
        "| cassette | "
        + " | ".join(
            f"{c.get('mode', '-')}: {c.get('hits', 0)} hits, {c.get('recorded', 0)} new"
            for c in cassettes
        )
        + " |"
    )
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    if len(argv) < 1:
        raise SystemExit(__doc__)
    reports = [_load(a) for a in argv]
    first = reports[0][1]["meta"]
    store = first["store"]
    print(f"{first['model_spec']} · store {store['hash']} ({store['products']} products) · turns "
          + ", ".join(
        f"{n}: {r['metrics']['turns']}" for n, r in reports))  # fmt: skip
    print(table(reports))


if __name__ == "__main__":
    main(sys.argv[1:])
