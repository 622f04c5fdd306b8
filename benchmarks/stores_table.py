"""Per-suite task success of eval runs side by side (e.g. the demo store vs a store profile).

    .venv/bin/python benchmarks/stores_table.py var/eval-runs/demo-all var/eval-runs/alder-all

Each argument is a run directory (or its report.json); the first column's name is the
directory's name. Prints a markdown table: suite, dialogs, task success per run, the
difference of the last run from the first, then the whole-suite rows (task success,
clarification precision/recall, repeated clarifying questions, policy violations).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _load(arg: str) -> tuple[str, dict]:
    path = Path(arg)
    report = path / "report.json" if path.is_dir() else path
    return (path if path.is_dir() else path.parent).name, json.loads(report.read_text())


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def main(args: list[str]) -> int:
    if len(args) < 2:
        print(__doc__)
        return 2
    runs = [_load(a) for a in args]
    suites = sorted({s for _, r in runs for s in r["per_suite"]})
    head = " | ".join(name for name, _ in runs)
    print(f"| suite | dialogs | {head} | last - first |")
    print("|---|---|" + "---|" * len(runs) + "---|")
    for suite in suites:
        rates = [r["per_suite"].get(suite, {}).get("task_success") for _, r in runs]
        n = next((r["per_suite"][suite]["runs"] for _, r in runs if suite in r["per_suite"]), 0)
        diff = (
            f"{100 * (rates[-1] - rates[0]):+.1f}" if None not in (rates[0], rates[-1]) else "n/a"
        )
        print(f"| {suite} | {n} | " + " | ".join(_pct(x) for x in rates) + f" | {diff} |")
    for key, label in (
        ("task_success", "**all**"),
        ("clarify_precision", "clarification precision"),
        ("clarify_recall", "clarification recall"),
    ):
        values = [r["metrics"].get(key) for _, r in runs]
        print(f"| {label} | | " + " | ".join(_pct(v) for v in values) + " | |")
    for key, label in (
        ("repeated_questions", "repeated clarifying questions"),
        ("policy_violations", "policy violations"),
    ):
        values = [r["metrics"].get(key, "n/a") for _, r in runs]
        print(f"| {label} | | " + " | ".join(str(v) for v in values) + " | |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
