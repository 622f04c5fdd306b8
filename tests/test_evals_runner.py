"""The runner end to end on a small real eval store: real index and embedder, inventory API
over HTTP, per-dialog store copies; a keyword router and a deterministic stand-in chat model
(classification and wording are tested elsewhere); record, replay, judge, reports and the
``eval run`` command."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
import typer
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from shopagent.agent.understanding.intents import Understanding
from shopagent.evals.cassette import CassetteChatModel, CassetteMiss
from shopagent.evals.cli import eval_app
from shopagent.evals.loader import parse_files, resolve
from shopagent.evals.report_html import write_html
from shopagent.evals.report_json import load_report, write_json
from shopagent.evals.report_md import write_markdown
from shopagent.evals.runner import EvalRun, RunOptions
from shopagent.evals.store import StoreSpec
from typer.testing import CliRunner

from shopagent.settings import Settings

SMALL = StoreSpec(n_products=40)

SUITE = """
dialogs:
  - id: t-price
    vars: {p: "product: in_stock"}
    turns:
      - user: "How much is the {p.name}?"
        expect: {intent: price_stock, tools: [check_price_stock], contains: ["{p.price}"]}
      - user: "Is it in stock?"
        expect:
          tools: {mode: strict, calls: [{name: check_price_stock, args: {skus: ["{p.sku}"]}}]}
  - id: t-order
    vars: {o: "order: status=shipped"}
    turns:
      - user: "Where is my order {o.number}? My email is {o.email}"
        expect: {intent: order_status, contains: ["{o.number}"]}
  - id: t-return
    vars: {o: "order: within_window, items=1"}
    fixtures: {customer: "{o.email}"}
    turns:
      - user: "I'd like to return my order {o.number}"
      - user: "yes"
    expect_store:
      - {table: returns, where: {order_number: "{o.number}"}, count: 1}
  - id: t-fault
    vars: {p: "product: in_stock"}
    fixtures: {inventory: {fail_rate: 1.0}}
    turns:
      - user: "How much is the {p.name}?"
        expect: {not_contains: ["{p.price}"]}
"""


class KeywordRouter:
    """Routes by keywords, so these tests do not depend on classification quality."""

    RULES = (("return", "return_request"), ("order", "order_status"), ("stock", "price_stock"))

    def classify(self, message: str) -> Understanding:
        lowered = message.casefold()
        intent = next((i for word, i in self.RULES if word in lowered), "price_stock")
        if lowered.strip() == "yes":
            intent = "greeting"
        return Understanding(intent=intent, confidence=0.9, intents=[intent])


class EchoFacts(BaseChatModel):
    """Answers with the first fact line of the compose prompt (deterministic, offline)."""

    @property
    def _llm_type(self) -> str:
        return "echo-facts"

    def _generate(self, messages: list, stop: Any = None, run_manager: Any = None, **kw: Any):
        lines = [x[2:] for x in str(messages[-1].content).splitlines() if x.startswith("- ")]
        usage = {"input_tokens": 20, "output_tokens": 8, "total_tokens": 28}
        reply = AIMessage(lines[0] if lines else "Sorry.", usage_metadata=usage)
        return ChatResult(generations=[ChatGeneration(message=reply)])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One recorded run (2 trials) shared by the tests of this module."""
    root = tmp_path_factory.mktemp("evals")
    suite = root / "tiny.yaml"
    suite.write_text(SUITE)
    settings = Settings(home=root / "home")
    router = KeywordRouter()
    options = RunOptions(
        model="echo",
        repeat=2,
        concurrency=2,
        store=SMALL,
        cache_dir=root / "cache",
        record=root / "cassette",
    )
    run = EvalRun.open(settings, options, model=EchoFacts(), router=router)
    try:
        dialogs = [resolve(d, run.store.index) for d in parse_files([suite])]
        report = asyncio.run(run.run(dialogs))
        master_returns = run.store.db.rows("SELECT COUNT(*) AS n FROM returns")[0]["n"]
    finally:
        run.close()
    return {
        "root": root,
        "suite": suite,
        "settings": settings,
        "router": router,
        "report": report,
        "master_returns": master_returns,
    }


def test_run_scores_every_turn(world: dict[str, Any]) -> None:
    report = world["report"]
    assert report.metrics["dialogs"] == 4 and report.metrics["runs"] == 8
    assert report.metrics["errors"] == 0
    for key in (
        "task_success",
        "intent_accuracy",
        "tool_call_precision",
        "tool_call_recall",
        "clarify_precision",
        "clarify_recall",
        "groundedness",
        "policy_violations",
        "latency",
        "llm_calls_per_turn",
        "tokens_per_turn",
        "pass_hat_k",
    ):
        assert key in report.metrics
    assert set(report.metrics["pass_hat_k"]) == {"1", "2"}
    price = next(d for d in report.dialogs if d.id == "t-price")
    assert price.passed, price.failures()
    assert [t.tool_calls[0]["name"] for t in price.turns] == [
        "search_products",
        "check_price_stock",
    ]
    assert price.turns[0].tokens == 28 and price.turns[0].grounding.claims > 0
    fault = next(d for d in report.dialogs if d.id == "t-fault")
    assert fault.turns[0].tool_calls[-1]["ok"] is False  # real HTTP, injected 503s
    # writes stay in the dialog's copy of the store
    assert world["master_returns"] == 0
    assert {c.name.split("{")[0] for d in report.dialogs for c in d.store_checks} == {"returns"}
    assert sorted({d.trial for d in report.dialogs}) == [0, 1]


def test_reports(world: dict[str, Any], tmp_path: Path) -> None:
    report = world["report"]
    paths = [
        write_json(report, tmp_path),
        write_markdown(report, tmp_path),
        write_html(report, tmp_path),
    ]
    assert [p.name for p in paths] == ["report.json", "report.md", "report.html"]
    data = json.loads(paths[0].read_text())
    assert data["metrics"]["task_success"] == report.metrics["task_success"]
    assert load_report(tmp_path).metrics == report.metrics
    assert "| task success (dialogs) |" in paths[1].read_text()
    html = paths[2].read_text()
    assert html.count("<svg") == 3 and "<script" not in html
    assert re.search(r"(src|href)=\"?https?:", html) is None  # self-contained


async def test_replay_makes_no_network_call_and_builds_no_model(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch, _no_network: Any
) -> None:
    def no_model(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("replay must not build a chat model")

    monkeypatch.setattr("shopagent.agent.models.providers.build_chat_model", no_model)
    root = world["root"]
    options = RunOptions(
        model="echo", store=SMALL, cache_dir=root / "cache", replay=root / "cassette"
    )
    run = EvalRun.open(world["settings"], options, router=world["router"])
    try:
        assert isinstance(run.shared.model, CassetteChatModel)
        assert run.shared.model.inner is None
        dialogs = [resolve(d, run.store.index) for d in parse_files([world["suite"]])]
        report = await run.run(dialogs)
    finally:
        run.close()
    recorded = {(d.id, tuple(t.answer for t in d.turns)) for d in world["report"].dialogs}
    replayed = {(d.id, tuple(t.answer for t in d.turns)) for d in report.dialogs}
    assert replayed == recorded
    assert report.meta["cassette"]["hits"] > 0 and report.meta["cassette"]["recorded"] == 0
    assert _no_network.blocked == []


async def test_replay_miss_fails_loudly(world: dict[str, Any], tmp_path: Path) -> None:
    changed = tmp_path / "changed.yaml"
    changed.write_text(world["suite"].read_text().replace("How much is", "What does"))
    root = world["root"]
    options = RunOptions(
        model="echo", store=SMALL, cache_dir=root / "cache", replay=root / "cassette"
    )
    run = EvalRun.open(world["settings"], options, router=world["router"])
    try:
        dialogs = [resolve(d, run.store.index) for d in parse_files([changed], ["t-price"])]
        with pytest.raises(CassetteMiss, match="replay cache miss in dialog 't-price' turn 1"):
            await run.run(dialogs)
    finally:
        run.close()


async def test_judge_verdicts_are_cached(
    world: dict[str, Any], tmp_path: Path, scripted_model
) -> None:
    verdict = '{"helpfulness": 4, "tone": 5, "reason": "clear"}'
    root = world["root"]

    async def judged(judge: BaseChatModel) -> Any:
        options = RunOptions(
            model="echo",
            store=SMALL,
            cache_dir=root / "cache",
            judge="openai:judge",
            judge_cache=tmp_path / "judge",
        )
        run = EvalRun.open(
            world["settings"], options, model=EchoFacts(), judge_model=judge, router=world["router"]
        )
        try:
            dialogs = [
                resolve(d, run.store.index) for d in parse_files([world["suite"]], ["t-order"])
            ]
            return await run.run(dialogs)
        finally:
            run.close()

    first = await judged(scripted_model([("Customer:", verdict)]))
    assert first.dialogs[0].judge == {"helpfulness": 4, "tone": 5, "reason": "clear"}
    assert first.metrics["judge_helpfulness"] == 4 and first.metrics["judge_tone"] == 5
    second = await judged(scripted_model([]))  # any call would fail: the verdict is cached
    assert second.dialogs[0].judge == first.dialogs[0].judge


def test_cli_run_replay(world: dict[str, Any], tmp_path: Path, monkeypatch) -> None:
    root = world["root"]
    monkeypatch.setenv("SHOPAGENT_HOME", str(root / "home"))
    from shopagent.settings import get_settings

    get_settings.cache_clear()
    app = typer.Typer()
    app.add_typer(eval_app, name="eval")
    out = tmp_path / "run"
    args = [
        "eval", "run", str(world["suite"]), "--model", "echo", "--replay", str(root / "cassette"),
        "--cache-dir", str(root / "cache"), "--store-products", "40", "--out", str(out),
        "--dialog", "t-order",
    ]  # fmt: skip
    try:
        result = CliRunner().invoke(app, args)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {"report.json", "report.md", "report.html"}
    assert load_report(out).metrics["dialogs"] == 1
