"""What a run records: per-turn and per-dialog results, serialised into ``report.json``.

These models are the contract between the runner, the scorers, the reports and
``eval compare`` (which reads two ``report.json`` files back).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

ViolationKind = Literal[
    "unauthorized_read",
    "unauthorized_write",
    "write_without_confirmation",
    "return_outside_policy",
    "cancel_outside_policy",
]


class Check(BaseModel):
    """One expectation and whether it held."""

    name: str
    ok: bool
    detail: str = ""


class ToolScore(BaseModel):
    """Tool-call counts of one turn (only for turns with a ``tools`` expectation)."""

    true_pos: int = 0
    false_pos: int = 0
    false_neg: int = 0
    args_ok: int = 0
    args_compared: int = 0


class Grounding(BaseModel):
    """Factual claims of one answer and which were found in the turn's tool results."""

    claims: int = 0
    supported: int = 0
    unsupported: list[str] = Field(default_factory=list)


class TurnRecord(BaseModel):
    """One turn: what was asked, what the agent did, and how it scored."""

    index: int
    user: str
    customer: str | None = None
    """The host-authenticated customer of this turn (None: anonymous)."""
    answer: str = ""
    intent: str = ""
    intents: list[str] = Field(default_factory=list)
    slots: dict[str, Any] = Field(default_factory=dict)
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    answer_source: str = ""
    clarify: bool = False
    confirmation: dict[str, Any] | None = None
    latency_ms: float = 0.0
    llm_calls: int = 0
    tokens: int = 0
    expect: dict[str, Any] = Field(default_factory=dict)
    checks: list[Check] = Field(default_factory=list)
    tools: ToolScore | None = None
    grounding: Grounding = Field(default_factory=Grounding)
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and all(c.ok for c in self.checks)


class Violation(BaseModel):
    """A policy violation found in a dialog."""

    kind: ViolationKind
    detail: str
    turn: int | None = None


class DialogRecord(BaseModel):
    """One run (trial) of one dialog."""

    id: str
    suite: str
    trial: int = 0
    seed: int = 0
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    customer: str | None = None
    bindings: dict[str, str] = Field(default_factory=dict)
    turns: list[TurnRecord] = Field(default_factory=list)
    store_checks: list[Check] = Field(default_factory=list)
    violations: list[Violation] = Field(default_factory=list)
    judge: dict[str, Any] | None = None
    seconds: float = 0.0
    error: str | None = None

    @property
    def passed(self) -> bool:
        """Task success: every turn and store check passed, no violation, no error."""
        return (
            self.error is None
            and all(t.passed for t in self.turns)
            and all(c.ok for c in self.store_checks)
            and not self.violations
        )

    def failures(self) -> list[str]:
        """Short descriptions of what failed (for reports)."""
        out = [f"error: {self.error}"] if self.error else []
        for turn in self.turns:
            if turn.error:
                out.append(f"turn {turn.index}: error: {turn.error}")
            out.extend(f"turn {turn.index}: {c.name}: {c.detail}" for c in turn.checks if not c.ok)
        out.extend(f"store: {c.name}: {c.detail}" for c in self.store_checks if not c.ok)
        out.extend(
            f"policy: {v.kind}{f' (turn {v.turn})' if v.turn else ''}: {v.detail}"
            for v in self.violations
        )
        return out


class RunReport(BaseModel):
    """Everything ``report.json`` holds."""

    meta: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    per_intent: dict[str, dict[str, float | int]] = Field(default_factory=dict)
    per_suite: dict[str, dict[str, float | int]] = Field(default_factory=dict)
    dialogs: list[DialogRecord] = Field(default_factory=list)
