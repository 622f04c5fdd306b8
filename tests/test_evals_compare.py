"""``eval compare``: regressions beyond thresholds fail the gate."""

from __future__ import annotations

from pathlib import Path

import typer
from shopagent.evals.cli import eval_app
from shopagent.evals.compare import compare_reports, render_markdown
from shopagent.evals.metrics import compute_metrics
from shopagent.evals.report_json import write_json
from shopagent.evals.results import Check, DialogRecord, RunReport, TurnRecord
from typer.testing import CliRunner


def _report(passing: dict[str, bool], latency: float = 100.0) -> RunReport:
    dialogs = [
        DialogRecord(
            id=dialog_id,
            suite="s",
            turns=[
                TurnRecord(
                    index=1,
                    user="hi",
                    latency_ms=latency,
                    checks=[Check(name="intent", ok=ok, detail="expected x, got y")],
                )
            ],
        )
        for dialog_id, ok in passing.items()
    ]
    return RunReport(
        meta={"store": {"hash": "abc"}}, metrics=compute_metrics(dialogs), dialogs=dialogs
    )


def test_identical_runs_do_not_regress() -> None:
    a = _report({"d1": True, "d2": True})
    result = compare_reports(a, a)
    assert not result.regressed and result.dialogs == []


def test_broken_change_regresses() -> None:
    a = _report({"d1": True, "d2": True, "d3": True})
    b = _report({"d1": True, "d2": False, "d3": True})
    result = compare_reports(a, b)
    assert result.regressed
    assert {m.name for m in result.regressions} == {"task_success", "intent_accuracy"}
    (change,) = result.dialogs
    assert (change.id, change.status, change.before, change.after) == ("d2", "regressed", 1, 0)
    assert change.failures == ["turn 1: intent: expected x, got y"]
    text = render_markdown(result)
    assert "REGRESSED: task_success" in text and "| d2 | regressed |" in text


def test_thresholds() -> None:
    a = _report({f"d{i}": True for i in range(100)})
    b = _report({**{f"d{i}": True for i in range(99)}, "d99": False})
    assert compare_reports(a, b, threshold=0.02).regressed is False
    assert compare_reports(a, b, threshold=0.005).regressed is True
    slow = _report({f"d{i}": True for i in range(100)}, latency=180.0)
    assert {m.name for m in compare_reports(a, slow).regressions} == {"latency.p50", "latency.p95"}
    assert not compare_reports(a, slow, cost_threshold=1.0).regressed  # +80% tolerated


def test_cli_exit_codes(tmp_path: Path) -> None:
    app = typer.Typer()
    app.add_typer(eval_app, name="eval")
    good, bad = tmp_path / "good", tmp_path / "bad"
    write_json(_report({"d1": True, "d2": True}), good)
    write_json(_report({"d1": True, "d2": False}), bad)
    runner = CliRunner()
    same = runner.invoke(app, ["eval", "compare", str(good), str(good)])
    assert same.exit_code == 0, same.output
    md = tmp_path / "cmp.md"
    worse = runner.invoke(app, ["eval", "compare", str(good), str(bad), "--markdown", str(md)])
    assert worse.exit_code == 1
    assert "task_success" in worse.output and "regressed" in md.read_text()
    missing = runner.invoke(app, ["eval", "compare", str(good), str(tmp_path / "nope")])
    assert missing.exit_code == 2
