"""``eval compare RUN_A RUN_B``: what changed between two runs, and whether it is a regression.

A metric regresses when it moves the wrong way by more than its threshold:

* quality rates (task success, intent accuracy, tool P/R, clarification P/R, groundedness,
  policy compliance, pass^k, judge scores): an absolute drop larger than ``threshold``
  (default 0.02, i.e. 2 points);
* ``policy_violations`` and ``repeated_questions`` (clarification loops): any increase;
* cost (latency p50/p95, LLM calls and tokens per turn): a relative increase larger than
  ``cost_threshold`` (default 0.5, i.e. +50%; latency is noisy on shared machines).

Per dialog, the pass rate over trials is compared: ``regressed`` (was passing more often),
``fixed``, ``new`` or ``removed``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

from shopagent.evals.metrics import HIGHER_IS_BETTER, LOWER_IS_BETTER, metric_value
from shopagent.evals.report_md import fmt_metric
from shopagent.evals.results import RunReport

COST_METRICS = ("latency.p50", "latency.p95", "llm_calls_per_turn", "tokens_per_turn")
DialogStatus = Literal["regressed", "fixed", "new", "removed"]


@dataclass
class MetricChange:
    """One metric in both runs."""

    name: str
    before: float | None
    after: float | None
    regressed: bool = False
    improved: bool = False

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


@dataclass
class DialogChange:
    """A dialog whose pass rate changed between the runs."""

    id: str
    before: float | None
    after: float | None
    status: DialogStatus
    failures: list[str] = field(default_factory=list)


@dataclass
class Comparison:
    """The result of comparing run A (baseline) with run B (candidate)."""

    metrics: list[MetricChange]
    dialogs: list[DialogChange]
    warnings: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> list[MetricChange]:
        return [m for m in self.metrics if m.regressed]

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)


def _pass_rates(report: RunReport) -> dict[str, float]:
    runs: dict[str, list[bool]] = defaultdict(list)
    for d in report.dialogs:
        runs[d.id].append(d.passed)
    return {k: sum(v) / len(v) for k, v in runs.items()}


def _metric_names(a: RunReport, b: RunReport) -> list[str]:
    names = list(HIGHER_IS_BETTER) + list(LOWER_IS_BETTER)
    ks = set(a.metrics.get("pass_hat_k") or {}) & set(b.metrics.get("pass_hat_k") or {})
    names += [f"pass_hat_k.{k}" for k in sorted(ks, key=int)]
    return names


def _judge(name: str, before: float, after: float, threshold: float, cost: float) -> int:
    """-1 regressed, +1 improved, 0 unchanged (within thresholds)."""
    if name in {"policy_violations", "repeated_questions"}:
        return -1 if after > before else (1 if after < before else 0)
    if name in COST_METRICS:
        if before <= 0:
            return 0
        change = (after - before) / before
        return -1 if change > cost else (1 if change < -cost else 0)
    if name in LOWER_IS_BETTER:
        return -1 if after - before > threshold else (1 if before - after > threshold else 0)
    scale = 5.0 if name.startswith("judge_") else 1.0  # judge scores are 1-5
    drop = (before - after) / scale
    return -1 if drop > threshold else (1 if -drop > threshold else 0)


def compare_reports(
    a: RunReport, b: RunReport, *, threshold: float = 0.02, cost_threshold: float = 0.5
) -> Comparison:
    """Compare baseline ``a`` with candidate ``b``."""
    metrics = []
    for name in _metric_names(a, b):
        before, after = metric_value(a.metrics, name), metric_value(b.metrics, name)
        if before is None and after is None:
            continue
        change = MetricChange(name=name, before=before, after=after)
        if before is not None and after is not None:
            verdict = _judge(name, before, after, threshold, cost_threshold)
            change.regressed, change.improved = verdict < 0, verdict > 0
        metrics.append(change)
    rates_a, rates_b = _pass_rates(a), _pass_rates(b)
    failures = {d.id: d.failures() for d in b.dialogs if not d.passed}
    dialogs: list[DialogChange] = []
    for dialog_id in sorted(set(rates_a) | set(rates_b)):
        before, after = rates_a.get(dialog_id), rates_b.get(dialog_id)
        if before is None:
            status: DialogStatus = "new"
        elif after is None:
            status = "removed"
        elif after < before:
            status = "regressed"
        elif after > before:
            status = "fixed"
        else:
            continue
        dialogs.append(
            DialogChange(dialog_id, before, after, status, failures.get(dialog_id, [])[:3])
        )
    warnings = []
    store_a = a.meta.get("store", {}).get("hash")
    store_b = b.meta.get("store", {}).get("hash")
    if store_a and store_b and store_a != store_b:
        warnings.append(f"the runs used different eval stores ({store_a} vs {store_b})")
    if set(rates_a) != set(rates_b):
        warnings.append("the runs have different dialogs; suite metrics are not like for like")
    return Comparison(metrics=metrics, dialogs=dialogs, warnings=warnings)


def format_value(name: str, value: float | None) -> str:
    """A metric value for people (rates as percentages)."""
    key = "pass_hat_k" if name.startswith("pass_hat_k") else name
    if name.startswith("judge_") and value is not None:
        return f"{value:.2f}"
    return fmt_metric(key, value)


def pass_rate_change(change: DialogChange) -> str:
    """``"100.0% → 0.0%"``."""
    before = format_value("task_success", change.before)
    return f"{before} → {format_value('task_success', change.after)}"


def render_markdown(comparison: Comparison, *, label_a: str = "A", label_b: str = "B") -> str:
    """The comparison as markdown (for CI logs and PR comments)."""
    lines = [f"| metric | {label_a} | {label_b} | change |", "| --- | --- | --- | --- |"]
    for m in comparison.metrics:
        flag = " ❌ regressed" if m.regressed else (" ✅ improved" if m.improved else "")
        delta = m.delta
        shown = "" if delta is None else f"{delta:+.4g}"
        before, after = format_value(m.name, m.before), format_value(m.name, m.after)
        lines.append(f"| {m.name} | {before} | {after} | {shown}{flag} |")
    if comparison.dialogs:
        lines += ["", "| dialog | change | pass rate | why (B) |", "| --- | --- | --- | --- |"]
        for d in comparison.dialogs:
            rate = pass_rate_change(d)
            why = "; ".join(d.failures).replace("|", "\\|")
            lines.append(f"| {d.id} | {d.status} | {rate} | {why} |")
    for warning in comparison.warnings:
        lines += ["", f"warning: {warning}"]
    verdict = (
        f"REGRESSED: {', '.join(m.name for m in comparison.regressions)}"
        if comparison.regressed
        else "no regression beyond thresholds"
    )
    lines += ["", verdict]
    return "\n".join(lines)
