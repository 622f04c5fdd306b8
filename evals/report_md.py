"""``report.md``: the run summary a team reads in a PR or CI log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shopagent.evals.results import RunReport

REPORT_MD = "report.md"

SUMMARY_ROWS: tuple[tuple[str, str], ...] = (
    ("task_success", "task success (dialogs)"),
    ("intent_accuracy", "intent accuracy"),
    ("tool_call_precision", "tool-call precision"),
    ("tool_call_recall", "tool-call recall"),
    ("tool_arg_accuracy", "tool-call argument accuracy"),
    ("clarify_precision", "clarification precision"),
    ("clarify_recall", "clarification recall"),
    ("repeated_questions", "repeated clarifying questions"),
    ("groundedness", "groundedness"),
    ("policy_violations", "policy violations"),
    ("security.leaks", "leaks (unauthorized reads)"),
    ("security.unauthorized_writes", "unauthorized writes"),
    ("latency.p50", "latency p50 (ms/turn)"),
    ("latency.p95", "latency p95 (ms/turn)"),
    ("llm_calls_per_turn", "LLM calls per turn"),
    ("tokens_per_turn", "tokens per turn"),
)
_RATES = {
    "task_success",
    "intent_accuracy",
    "tool_call_precision",
    "tool_call_recall",
    "tool_arg_accuracy",
    "clarify_precision",
    "clarify_recall",
    "groundedness",
    "policy_compliance",
}


def fmt_metric(name: str, value: Any) -> str:
    """A metric for people: rates as percentages, counts plain, n/a for None."""
    if value is None:
        return "n/a"
    if name in _RATES or name.startswith("pass_hat_k"):
        return f"{float(value):.1%}"
    if name.startswith("latency"):
        return f"{float(value):,.0f}"
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 10 else f"{value:.2f}"
    return str(value)


def get_metric(metrics: dict[str, Any], name: str) -> Any:
    """A metric by dotted name (``latency.p50``), None when absent."""
    value: Any = metrics
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def results_table(report: RunReport) -> str:
    """The headline metrics as a markdown table (also used for BENCHMARKS.md)."""
    m = report.metrics
    rows = [(label, fmt_metric(name, get_metric(m, name))) for name, label in SUMMARY_ROWS]
    for k, v in (m.get("pass_hat_k") or {}).items():
        rows.append((f"pass^{k}", fmt_metric("pass_hat_k", v)))
    for key in ("judge_helpfulness", "judge_tone"):
        if m.get(key) is not None:
            rows.append((key.replace("_", " ") + " (1-5)", f"{m[key]:.2f}"))
    lines = ["| metric | value |", "| --- | --- |"]
    lines += [f"| {label} | {value} |" for label, value in rows]
    return "\n".join(lines)


def render_markdown(report: RunReport) -> str:
    """The whole ``report.md``."""
    meta, m = report.meta, report.metrics
    store = meta.get("store", {})
    out = [
        "# Eval report",
        "",
        f"Model `{meta.get('model')}` · {m.get('dialogs')} dialogs × {meta.get('repeat', 1)} "
        f"trial(s) · {m.get('turns')} turns · seed {meta.get('seed')} · "
        f"{meta.get('duration_s')} s · started {meta.get('started_at')}",
        "",
        f"Eval store: {_profile(store)}seed {store.get('seed')}, today {store.get('today')}, "
        f"{store.get('products')} products, hash `{store.get('hash')}`.",
        "",
        results_table(report),
        "",
    ]
    if m.get("policy_violations_by_kind"):
        kinds = ", ".join(f"{k}: {v}" for k, v in m["policy_violations_by_kind"].items())
        out += [f"Policy violations by kind: {kinds}.", ""]
    out += ["## Per suite", "", "| suite | runs | task success |", "| --- | --- | --- |"]
    for suite, s in report.per_suite.items():
        out.append(f"| {suite} | {s['runs']:.0f} | {s['task_success']:.1%} |")
    out += [
        "",
        "## Per intent",
        "",
        "| intent | turns | intent accuracy | turns passed |",
        "| --- | --- | --- | --- |",
    ]
    for intent, s in report.per_intent.items():
        out.append(
            f"| {intent} | {s['turns']:.0f} | {s['intent_accuracy']:.1%} | "
            f"{s['turn_pass_rate']:.1%} |"
        )
    failed = [d for d in report.dialogs if not d.passed]
    out += ["", f"## Failures ({len(failed)})", ""]
    if not failed:
        out.append("Every dialog passed.")
    for d in failed:
        trial = f" (trial {d.trial})" if meta.get("repeat", 1) > 1 else ""
        out.append(f"- **{d.id}**{trial} [{d.suite}]: " + "; ".join(d.failures()[:4]))
    out.append("")
    return "\n".join(out)


def write_markdown(report: RunReport, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / REPORT_MD
    path.write_text(render_markdown(report), encoding="utf-8")
    return path


def _profile(store: dict) -> str:
    profile = store.get("profile")
    return f"profile {profile}, " if profile and profile != "None" else ""
