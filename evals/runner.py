"""The eval runner: every dialog, K times, in isolated worlds, scored turn by turn.

:class:`EvalRun` builds the shared parts once (eval store and index, embedder, router, chat
model, optional judge), then :meth:`EvalRun.run` plays the dialogs with bounded concurrency
and returns a :class:`~shopagent.evals.results.RunReport`. Trial ``t`` of every dialog runs with
seed
``options.seed + t`` (Python's and torch's RNGs are seeded before each dialog; injected
faults have their own seed), so a run is reproducible; with ``--replay`` it is exact.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from shopagent.agent.service import ShopAgent
from shopagent.agent.understanding.intents import IntentRouter
from shopagent.agent.understanding.model_router import make_router
from shopagent.evals.cassette import Cassette, CassetteChatModel, CassetteMiss, cassette_model
from shopagent.evals.fixtures import SharedParts, dialog_world
from shopagent.evals.format import Dialog, Turn
from shopagent.evals.grounding import evidence_text, ground
from shopagent.evals.judge import judge_dialog
from shopagent.evals.loader import LoadedDialog
from shopagent.evals.metrics import compute_metrics, per_intent, per_suite
from shopagent.evals.policy import find_violations
from shopagent.evals.provenance import git_revision, seed_everything
from shopagent.evals.results import DialogRecord, RunReport, TurnRecord
from shopagent.evals.scorers import check_turn
from shopagent.evals.store import EvalStore, StoreSpec, open_eval_store
from shopagent.evals.store_checks import run_store_checks
from shopagent.tools.embeddings import (
    MULTILINGUAL_BACKEND,
    Embedder,
    get_embedder,
    shared_embedder,
)

from shopagent.errors import ConfigError, ShopAgentError
from shopagent.settings import Settings

Progress = Callable[[DialogRecord], None]
META_FILE = "meta.json"
_TURN_FIELDS = (
    "answer",
    "intent",
    "intents",
    "slots",
    "tool_calls",
    "answer_source",
    "clarify",
    "confirmation",
    "latency_ms",
    "llm_calls",
    "tokens",
)


@dataclass
class RunOptions:
    """How to run the suite (the ``shopagent eval run`` options)."""

    model: str = "local"
    repeat: int = 1
    concurrency: int = 1
    seed: int = 0
    record: Path | None = None
    replay: Path | None = None
    judge: str | None = None
    judge_cache: Path | None = None
    store: StoreSpec = field(default_factory=StoreSpec)
    cache_dir: Path = Path("var/evals")

    def __post_init__(self) -> None:
        if self.repeat < 1 or self.concurrency < 1:
            raise ConfigError("--repeat and --concurrency must be at least 1")
        if self.record and self.replay:
            raise ConfigError(
                "--record and --replay exclude each other",
                hint="record once with --record DIR, then run CI with --replay DIR",
            )

    @property
    def judge_dir(self) -> Path:
        return self.judge_cache or (self.replay or self.record or self.cache_dir) / "judge"


def _generation_params(settings: Settings) -> dict[str, Any]:
    return {"max_new_tokens": settings.max_new_tokens, "temperature": settings.temperature}


def _spec_has_tool_calling(spec: str) -> bool:
    """What a spec's model can do, when only the spec is known (a replay without meta.json)."""
    from shopagent.agent.models.providers import parse_spec

    try:
        return parse_spec(spec).kind == "openai"
    except ConfigError:
        return False


def _chat_model(
    settings: Settings, options: RunOptions, injected: BaseChatModel | None
) -> tuple[BaseChatModel, str, CassetteChatModel | None]:
    """(the model the agent gets, its name, the cassette wrapper or None)."""
    params = _generation_params(settings)
    if options.replay:
        meta_path = options.replay / META_FILE
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        tool_calling = meta.get("tool_calling", _spec_has_tool_calling(options.model))
        wrapper = cassette_model(
            Cassette(options.replay, "replay"),
            spec=options.model,
            tool_calling=bool(tool_calling),
            json_output=bool(meta.get("json_output", False)),
            params=params,
        )
        return wrapper, str(meta.get("model_name") or options.model), wrapper
    if injected is not None:
        inner = injected
    else:
        from shopagent.agent.models.providers import build_chat_model

        inner = build_chat_model(options.model, settings)
    from shopagent.agent.models.probe import probed

    caps = probed(inner, settings)  # what the model can do, as the service finds it
    if options.record:
        wrapper = cassette_model(
            Cassette(options.record, "record"),
            spec=options.model,
            tool_calling=caps.tool_calling,
            json_output=caps.json_output,
            params=params,
            inner=inner,
        )
        meta = {"spec": options.model, "model_name": caps.name}
        meta |= {"tool_calling": caps.tool_calling, "json_output": caps.json_output}
        (options.record / META_FILE).write_text(json.dumps(meta, indent=1) + "\n")
        return wrapper, caps.name, wrapper
    return inner, caps.name, None


def _judge_model(
    settings: Settings, options: RunOptions, injected: BaseChatModel | None
) -> CassetteChatModel | None:
    if not options.judge:
        return None
    if options.replay:
        cassette = Cassette(options.judge_dir, "replay")
        return cassette_model(cassette, spec=options.judge, tool_calling=False)
    if injected is not None:
        inner = injected
    else:
        from shopagent.agent.models.providers import build_chat_model

        inner = build_chat_model(options.judge, settings)
    cassette = Cassette(options.judge_dir, "record")
    return cassette_model(cassette, spec=options.judge, tool_calling=False, inner=inner)


class EvalRun:
    """Shared parts of one eval run; use :meth:`open`, then :meth:`run`, then :meth:`close`."""

    def __init__(
        self,
        settings: Settings,
        options: RunOptions,
        shared: SharedParts,
        cassette: CassetteChatModel | None,
        judge: CassetteChatModel | None,
    ) -> None:
        self.settings = settings
        self.options = options
        self.shared = shared
        self.cassette = cassette
        self.judge = judge

    @property
    def store(self) -> EvalStore:
        return self.shared.store

    @classmethod
    def open(
        cls,
        settings: Settings,
        options: RunOptions,
        *,
        model: BaseChatModel | None = None,
        judge_model: BaseChatModel | None = None,
        router: IntentRouter | None = None,
        embedder: Embedder | None = None,
        index_progress: Callable[[int, int], None] | None = None,
    ) -> EvalRun:
        """Build the eval store (and its index), the router and the models.

        ``model``/``judge_model``/``router`` replace the ones built from the options (tests);
        in replay mode no model is built or used at all.
        """
        if embedder is None and settings.embedder == MULTILINGUAL_BACKEND:
            embedder = shared_embedder(MULTILINGUAL_BACKEND)  # zh/es suites (issue 16)
        embedder = embedder or get_embedder()
        store = open_eval_store(
            options.store, options.cache_dir, settings, embedder=embedder, progress=index_progress
        )
        from shopagent.agent.models.probe import probed

        try:
            chat, name, cassette = _chat_model(settings, options, model)
            judge = _judge_model(settings, options, judge_model)
            shared = SharedParts(
                settings=settings,
                store=store,
                # built as the service builds it: the intent model trained on the eval
                # store, under the model router when the probed capabilities allow one
                router=router
                or make_router(chat, store.intent_router(embedder), probed(chat, settings)),
                model=chat,
                model_name=name,
            )
        except BaseException:
            store.close()
            raise
        return cls(settings, options, shared, cassette, judge)

    def close(self) -> None:
        self.shared.store.close()

    # -- running ------------------------------------------------------------------------
    def _check_misses(self, where: str) -> None:
        for model in (self.cassette, self.judge):
            if model is not None and (misses := model.take_misses()):
                raise CassetteMiss(
                    f"replay cache miss in {where}: no recorded reply for request "
                    f"{misses[0][:12]} in {model.cassette.directory}"
                )

    async def run_dialog(self, loaded: LoadedDialog, trial: int) -> DialogRecord:
        """Play one dialog in its own world and score it."""
        dialog = loaded.dialog
        seed = self.options.seed + trial
        record = DialogRecord(
            id=dialog.id,
            suite=loaded.suite,
            trial=trial,
            seed=seed,
            description=dialog.description,
            tags=dialog.tags,
            customer=dialog.fixtures.customer,
            bindings={
                name: str(e.get("name") or e.get("number") or e.get("id"))
                for name, e in loaded.bindings.items()
            },
        )
        started = time.perf_counter()
        seed_everything(seed)
        try:
            async with dialog_world(self.shared, dialog.fixtures) as world:
                thread = f"{dialog.id}-t{trial}"
                for number, turn in enumerate(dialog.turns, 1):
                    earlier = [c for t in record.turns for c in t.tool_calls]
                    turn_record = await self._turn(
                        world.agent, thread, dialog, number, turn, earlier
                    )
                    record.turns.append(turn_record)
                    self._check_misses(f"dialog {dialog.id!r} turn {number}")
                    if turn_record.error:
                        break
                record.store_checks = run_store_checks(world.db, dialog.expect_store)
                record.violations = find_violations(
                    record.turns,
                    authenticated=dialog.fixtures.customer,
                    index=self.store.index,
                    master=self.store.db,
                    clone=world.db,
                    today=world.clock().date(),
                    public_text=dialog.fixtures.store.planted_text(),
                )
        except CassetteMiss:
            raise
        except Exception as exc:  # a broken dialog or agent fails this dialog, not the run
            record.error = f"{type(exc).__name__}: {exc}".split("\n")[0]
        if self.judge is not None and record.turns:
            record.judge = await judge_dialog(self.judge, record)
            self._check_misses(f"the judge of dialog {dialog.id!r}")
        record.seconds = round(time.perf_counter() - started, 2)
        return record

    async def _turn(
        self, agent: ShopAgent, thread: str, dialog: Dialog, number: int, turn: Turn, earlier: list
    ) -> TurnRecord:
        """Ask one turn and score it; an error becomes the turn's ``error``. Groundedness
        also accepts the ``earlier`` turns' tool results the conversation refers back to."""
        expect = turn.expect.model_dump(mode="json", exclude_defaults=True)
        customer = turn.customer_for(dialog.fixtures.customer)
        try:
            result = await agent.ask(turn.user, thread_id=thread, customer_email=customer)
        except CassetteMiss:
            raise
        except Exception as exc:  # an agent error is this turn's failure, reported as such
            kind = "" if isinstance(exc, ShopAgentError) else f"{type(exc).__name__}: "
            message = kind + str(exc).split("\n")[0]
            return TurnRecord(
                index=number, user=turn.user, customer=customer, expect=expect, error=message
            )
        data = result.model_dump(mode="json")
        evidence = evidence_text(turn.user, data["tool_calls"])
        checks, tools = check_turn(turn.expect, data, evidence)
        return TurnRecord(
            index=number,
            user=turn.user,
            customer=customer,
            expect=expect,
            checks=checks,
            tools=tools,
            grounding=ground(data["answer"], evidence_text(turn.user, data["tool_calls"], earlier)),
            **{k: data[k] for k in _TURN_FIELDS},
        )

    async def run(self, dialogs: list[LoadedDialog], progress: Progress | None = None) -> RunReport:
        """Run every dialog ``repeat`` times; records come back in (trial, suite) order."""
        started = datetime.now(UTC)
        clock = time.perf_counter()
        gate = asyncio.Semaphore(self.options.concurrency)
        jobs = [(t, d) for t in range(self.options.repeat) for d in dialogs]

        async def one(trial: int, loaded: LoadedDialog) -> DialogRecord:
            async with gate:
                record = await self.run_dialog(loaded, trial)
            if progress is not None:
                progress(record)
            return record

        tasks = [asyncio.ensure_future(one(t, d)) for t, d in jobs]
        try:
            records = list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return RunReport(
            meta=self._meta(dialogs, started, time.perf_counter() - clock),
            metrics=compute_metrics(records),
            per_intent=per_intent(records),
            per_suite=per_suite(records),
            dialogs=records,
        )

    def _meta(self, dialogs: list[LoadedDialog], started: datetime, seconds: float) -> dict:
        options = self.options
        meta: dict[str, Any] = {
            "model": self.shared.model_name,
            "model_spec": options.model,
            "repeat": options.repeat,
            "concurrency": options.concurrency,
            "seed": options.seed,
            "suites": sorted({d.suite for d in dialogs}),
            "started_at": started.isoformat(timespec="seconds"),
            "duration_s": round(seconds, 1),
            "store": self.store.describe(),
            "git": git_revision(),
            "max_new_tokens": self.settings.max_new_tokens,
            "temperature": self.settings.temperature,
        }
        if options.replay or options.record:
            meta["cassette"] = {
                "mode": "replay" if options.replay else "record",
                "dir": str(options.replay or options.record),
                **(self.cassette.stats if self.cassette else {}),
            }
        if options.judge:
            meta["judge"] = options.judge
        return meta
