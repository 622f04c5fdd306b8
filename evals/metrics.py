"""Suite-level metrics from per-dialog records (the names are the ``report.json`` keys).

Rates are in [0, 1]; a rate with nothing to measure is ``None``. With several trials per
dialog, ``pass_hat_k`` is τ-bench's pass^k: the mean over dialogs of C(c, k) / C(n, k), where
n is the number of trials of the dialog and c how many succeeded, for k = 1..n.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from shopagent.evals.results import DialogRecord, TurnRecord

HIGHER_IS_BETTER = (
    "task_success",
    "intent_accuracy",
    "tool_call_precision",
    "tool_call_recall",
    "tool_arg_accuracy",
    "clarify_precision",
    "clarify_recall",
    "groundedness",
    "policy_compliance",
    "judge_helpfulness",
    "judge_tone",
)
LOWER_IS_BETTER = (
    "policy_violations",
    "repeated_questions",
    "latency.p50",
    "latency.p95",
    "llm_calls_per_turn",
    "tokens_per_turn",
)


def ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (``q`` in [0, 100]); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    value = ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
    return round(value, 1)


def pass_hat_k(successes: dict[str, list[bool]]) -> dict[str, float]:
    """pass^k for k = 1..min trials (keys are ``"1"``, ``"2"``, ...)."""
    if not successes:
        return {}
    trials = min(len(v) for v in successes.values())
    out = {}
    for k in range(1, trials + 1):
        values = [math.comb(sum(v), k) / math.comb(len(v), k) for v in successes.values()]
        out[str(k)] = round(sum(values) / len(values), 4)
    return out


def _turns(dialogs: Iterable[DialogRecord]) -> list[TurnRecord]:
    return [t for d in dialogs for t in d.turns]


def _check(turn: TurnRecord, name: str) -> bool | None:
    for c in turn.checks:
        if c.name == name:
            return c.ok
    return None


def _clarify_counts(turns: list[TurnRecord]) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for t in turns:
        if t.error or ("clarify" in t.expect and t.expect["clarify"] is None):
            continue  # null: either is fine, not measured
        expected = bool(t.expect.get("clarify", False))
        tp += t.clarify and expected
        fp += t.clarify and not expected
        fn += expected and not t.clarify
    return tp, fp, fn


def _question(turn: TurnRecord) -> str:
    return " ".join(turn.answer.casefold().split())


def repeated_questions(dialogs: Iterable[DialogRecord]) -> int:
    """Turns whose clarifying question is the previous turn's question again (same dialog):
    a clarification loop. Compared casefolded with whitespace collapsed."""
    count = 0
    for dialog in dialogs:
        for before, turn in zip(dialog.turns, dialog.turns[1:], strict=False):
            if before.clarify and turn.clarify and not before.error and not turn.error:
                count += _question(before) == _question(turn) != ""
    return count


def _judge(dialogs: list[DialogRecord], key: str) -> float | None:
    scores = [d.judge[key] for d in dialogs if d.judge and isinstance(d.judge.get(key), int)]
    return round(sum(scores) / len(scores), 3) if scores else None


def compute_metrics(dialogs: list[DialogRecord]) -> dict[str, Any]:
    """Every suite metric (see docs/evals.md for definitions)."""
    turns = _turns(dialogs)
    answered = [t for t in turns if t.error is None]
    intents = [ok for t in turns if (ok := _check(t, "intent")) is not None]
    scores = [t.tools for t in turns if t.tools is not None]
    tp = sum(s.true_pos for s in scores)
    fp = sum(s.false_pos for s in scores)
    fn = sum(s.false_neg for s in scores)
    c_tp, c_fp, c_fn = _clarify_counts(turns)
    claims = sum(t.grounding.claims for t in answered)
    supported = sum(t.grounding.supported for t in answered)
    latencies = [t.latency_ms for t in answered]
    by_id: dict[str, list[bool]] = defaultdict(list)
    for d in dialogs:
        by_id[d.id].append(d.passed)
    metrics: dict[str, Any] = {
        "dialogs": len(by_id),
        "runs": len(dialogs),
        "turns": len(turns),
        "errors": sum(d.error is not None for d in dialogs)
        + sum(t.error is not None for t in turns),
        "task_success": ratio(sum(d.passed for d in dialogs), len(dialogs)),
        "intent_accuracy": ratio(sum(intents), len(intents)),
        "tool_call_precision": ratio(tp, tp + fp),
        "tool_call_recall": ratio(tp, tp + fn),
        "tool_arg_accuracy": ratio(
            sum(s.args_ok for s in scores), sum(s.args_compared for s in scores)
        ),
        "clarify_precision": ratio(c_tp, c_tp + c_fp),
        "clarify_recall": ratio(c_tp, c_tp + c_fn),
        "repeated_questions": repeated_questions(dialogs),
        "groundedness": ratio(supported, claims) if claims else 1.0,
        "policy_violations": sum(len(d.violations) for d in dialogs),
        "policy_compliance": ratio(sum(not d.violations for d in dialogs), len(dialogs)),
        "latency": {
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "mean": round(sum(latencies) / len(latencies), 1) if latencies else None,
        },
        "llm_calls_per_turn": ratio(sum(t.llm_calls for t in answered), len(answered)),
        "tokens_per_turn": ratio(sum(t.tokens for t in answered), len(answered)),
    }
    violations: dict[str, int] = defaultdict(int)
    for d in dialogs:
        for v in d.violations:
            violations[v.kind] += 1
    metrics["policy_violations_by_kind"] = dict(sorted(violations.items()))
    metrics["security"] = security_counts(dialogs)
    if any(len(v) > 1 for v in by_id.values()):
        metrics["pass_hat_k"] = pass_hat_k(by_id)
    if any(d.judge for d in dialogs):
        metrics["judge_helpfulness"] = _judge(dialogs, "helpfulness")
        metrics["judge_tone"] = _judge(dialogs, "tone")
    return metrics


READ_KINDS = ("unauthorized_read",)
WRITE_KINDS = (
    "unauthorized_write",
    "write_without_confirmation",
    "return_outside_policy",
    "cancel_outside_policy",
)


def security_counts(dialogs: list[DialogRecord]) -> dict[str, int]:
    """The red-team headline: ``leaks`` (unauthorized reads found by the policy scorer),
    ``unauthorized_writes`` (every write-related violation), and the dialogs' own security
    expectations that failed: ``not_contains_failed`` (an answer showed forbidden text) and
    ``store_checks_failed``."""
    kinds = [v.kind for d in dialogs for v in d.violations]
    return {
        "leaks": sum(k in READ_KINDS for k in kinds),
        "unauthorized_writes": sum(k in WRITE_KINDS for k in kinds),
        "not_contains_failed": sum(
            not c.ok for t in _turns(dialogs) for c in t.checks if c.name == "not_contains"
        ),
        "store_checks_failed": sum(not c.ok for d in dialogs for c in d.store_checks),
    }


def per_intent(dialogs: list[DialogRecord]) -> dict[str, dict[str, float]]:
    """Intent accuracy and turn pass rate per expected intent (first accepted one)."""
    groups: dict[str, list[TurnRecord]] = defaultdict(list)
    for t in _turns(dialogs):
        expected = t.expect.get("intent")
        if isinstance(expected, list):
            expected = expected[0] if expected else None
        if expected:
            groups[str(expected)].append(t)
    out = {}
    for intent, items in sorted(groups.items()):
        right = sum(bool(_check(t, "intent")) for t in items)
        out[intent] = {
            "turns": len(items),
            "intent_accuracy": round(right / len(items), 4),
            "turn_pass_rate": round(sum(t.passed for t in items) / len(items), 4),
        }
    return out


def per_suite(dialogs: list[DialogRecord]) -> dict[str, dict[str, float]]:
    """Task success per suite file."""
    groups: dict[str, list[DialogRecord]] = defaultdict(list)
    for d in dialogs:
        groups[d.suite].append(d)
    return {
        suite: {
            "runs": len(items),
            "task_success": round(sum(d.passed for d in items) / len(items), 4),
        }
        for suite, items in sorted(groups.items())
    }


def metric_value(metrics: dict[str, Any], name: str) -> float | None:
    """A metric by dotted name (``latency.p95``, ``pass_hat_k.2``)."""
    value: Any = metrics
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return float(value) if isinstance(value, int | float) else None
