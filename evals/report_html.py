"""``report.html``: one self-contained page (inline CSS and SVG, no scripts, no network).

Sections: headline metrics, per-intent accuracy chart, per-suite task success chart, latency
distribution, and every failed dialog with its transcript, what each turn did (intent, tools,
answer source) and what was expected.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from shopagent.evals.report_md import SUMMARY_ROWS, fmt_metric, get_metric
from shopagent.evals.results import DialogRecord, RunReport, TurnRecord
from shopagent.evals.svg import bar_chart, histogram

REPORT_HTML = "report.html"

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1000px;color:#222;padding:0 1rem}
h1{margin-bottom:.2rem}.meta{color:#666;font-size:.9rem}
.cards{display:flex;flex-wrap:wrap;gap:.6rem;margin:1rem 0}
.card{border:1px solid #ddd;border-radius:6px;padding:.5rem .8rem;min-width:130px}
.card b{display:block;font-size:1.3rem}.card span{color:#666;font-size:.8rem}
.charts{display:flex;flex-wrap:wrap;gap:2rem}
details{border:1px solid #ddd;border-radius:6px;margin:.5rem 0;padding:.4rem .8rem}
summary{cursor:pointer;font-weight:600}.fail{color:#c62828}.ok{color:#2e7d32}
.turn{border-left:3px solid #1565c0;margin:.6rem 0;padding-left:.7rem}
.user{font-weight:600}.answer{white-space:pre-wrap;background:#f6f6f6;padding:.4rem;border-radius:4px}
.small{font-size:.82rem;color:#555}code,pre{font-size:.8rem}
pre{background:#fafafa;border:1px solid #eee;padding:.4rem;overflow-x:auto}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}
"""


def _cards(report: RunReport) -> str:
    cards = []
    for name, label in SUMMARY_ROWS:
        value = fmt_metric(name, get_metric(report.metrics, name))
        cards.append(f'<div class="card"><b>{escape(value)}</b><span>{escape(label)}</span></div>')
    for k, v in (report.metrics.get("pass_hat_k") or {}).items():
        cards.append(
            f'<div class="card"><b>{fmt_metric("pass_hat_k", v)}</b><span>pass^{k}</span></div>'
        )
    return '<div class="cards">' + "".join(cards) + "</div>"


def _charts(report: RunReport) -> str:
    intents = [(name, s["intent_accuracy"]) for name, s in report.per_intent.items()]
    suites = [(name, s["task_success"]) for name, s in report.per_suite.items()]
    latencies = [t.latency_ms for d in report.dialogs for t in d.turns if t.error is None]
    latency = report.metrics.get("latency", {})
    return (
        '<div class="charts">'
        + bar_chart(intents, title="Intent accuracy per intent")
        + bar_chart(suites, title="Task success per suite")
        + histogram(
            latencies,
            title="Latency per turn",
            marks={"p50": latency.get("p50"), "p95": latency.get("p95")},
        )
        + "</div>"
    )


def _tools(turn: TurnRecord) -> str:
    calls = [
        f"{c.get('name')}({json.dumps(c.get('args', {}), ensure_ascii=False, default=str)})"
        + ("" if c.get("ok") else " ✗")
        for c in turn.tool_calls
    ]
    return ", ".join(calls) or "no tools"


def _turn(turn: TurnRecord) -> str:
    failed = [c for c in turn.checks if not c.ok]
    marks = "".join(
        f'<div class="fail">✗ {escape(c.name)}: {escape(c.detail)}</div>' for c in failed
    )
    if turn.error:
        marks += f'<div class="fail">✗ error: {escape(turn.error)}</div>'
    status = '<span class="ok">✓</span>' if turn.passed else '<span class="fail">✗</span>'
    expect = json.dumps(turn.expect, ensure_ascii=False, indent=1, default=str)
    unsupported = (
        f" · unsupported claims: {escape(', '.join(turn.grounding.unsupported))}"
        if turn.grounding.unsupported
        else ""
    )
    return (
        f'<div class="turn">{status} <span class="user">Turn {turn.index} · shopper:</span> '
        f"{escape(turn.user)}"
        f'<div class="answer">{escape(turn.answer)}</div>'
        f'<div class="small">intent {escape(turn.intent)} · source '
        f"{escape(turn.answer_source)} · {turn.latency_ms:.0f} ms · {turn.llm_calls} LLM "
        f"call(s) · tools: {escape(_tools(turn))}{unsupported}</div>"
        f"{marks}<details><summary class=small>expected</summary><pre>{escape(expect)}</pre>"
        "</details></div>"
    )


def _dialog(d: DialogRecord, repeat: int) -> str:
    trial = f" (trial {d.trial})" if repeat > 1 else ""
    extras = "".join(
        f'<div class="fail">✗ store {escape(c.name)}: {escape(c.detail)}</div>'
        for c in d.store_checks
        if not c.ok
    )
    extras += "".join(
        f'<div class="fail">✗ policy {escape(v.kind)}: {escape(v.detail)}</div>'
        for v in d.violations
    )
    if d.error:
        extras += f'<div class="fail">✗ error: {escape(d.error)}</div>'
    bindings = ", ".join(f"{k} = {v}" for k, v in d.bindings.items())
    who = f" · customer {escape(d.customer)}" if d.customer else ""
    return (
        f"<details><summary>{escape(d.id)}{trial} <span class=small>[{escape(d.suite)}] "
        f"{escape(d.description)}</span></summary>"
        f'<div class="small">{escape(bindings)}{who}</div>'
        + extras
        + "".join(_turn(t) for t in d.turns)
        + "</details>"
    )


def render_html(report: RunReport) -> str:
    """The whole page."""
    meta, m = report.meta, report.metrics
    failed = [d for d in report.dialogs if not d.passed]
    repeat = int(meta.get("repeat", 1))
    header = (
        f"Model <code>{escape(str(meta.get('model')))}</code> · {m.get('dialogs')} dialogs × "
        f"{repeat} trial(s) · {m.get('turns')} turns · seed {meta.get('seed')} · "
        f"{meta.get('duration_s')} s · {escape(str(meta.get('started_at')))}"
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<title>ShopAgent eval report</title>"
        f"<style>{_CSS}</style></head><body>"
        f'<h1>ShopAgent eval report</h1><div class="meta">{header}</div>'
        + _cards(report)
        + "<h2>Charts</h2>"
        + _charts(report)
        + f"<h2>Failures ({len(failed)})</h2>"
        + ("<p>Every dialog passed.</p>" if not failed else "")
        + "".join(_dialog(d, repeat) for d in failed)
        + "</body></html>\n"
    )


def write_html(report: RunReport, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / REPORT_HTML
    path.write_text(render_html(report), encoding="utf-8")
    return path
