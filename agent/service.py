"""ShopAgent as a running service: dependencies built once from settings, turns run through
the graph with a checkpointer. The CLI, evals and the HTTP server all use this."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import datetime
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command, Durability
from pydantic import BaseModel, Field
from shopagent.agent.graph.build import build_graph
from shopagent.agent.graph.checkpoints import TURN_READS, TurnReads, read_once
from shopagent.agent.graph.context import AgentContext
from shopagent.agent.graph.wiring import build_context
from shopagent.agent.records import AnswerSource, ToolCall
from shopagent.agent.safety.guardrails import mask_pii
from shopagent.agent.understanding.intents import IntentRouter
from shopagent.tools.protocols import Catalog, Inventory
from shopagent.tools.store.db import StoreDB
from shopagent.tools.store.unavailable import unavailable_when_locked

from shopagent.errors import ConfigError, NothingToConfirm
from shopagent.settings import Settings

MAX_MESSAGE_CHARS = 4000


class TurnResult(BaseModel):
    """One answered turn, as ``shopagent ask --json`` prints it."""

    answer: str
    intent: str
    intents: list[str] = Field(default_factory=list)
    slots: dict[str, Any] = Field(default_factory=dict)
    tool_calls: list[ToolCall] = Field(default_factory=list)
    answer_source: AnswerSource | Literal[""] = ""
    clarify: bool = False
    confirmation: dict[str, Any] | None = Field(
        None, description="A pending action the shopper must confirm (yes/no), if any."
    )
    model: str
    latency_ms: float
    llm_calls: int = 0
    tokens: int = 0
    thread_id: str
    carried_tool_calls: int = Field(
        0,
        exclude=True,
        description="Leading tool calls that belong to the turn that asked the confirmation "
        "this turn answered (already reported then); not serialized.",
    )


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def validate_message(message: str) -> str:
    """The message cleaned (control characters dropped, lone surrogates replaced, stripped);
    ConfigError when empty or too long."""
    text = message.encode("utf-8", "replace").decode("utf-8")
    text = _CONTROL.sub("", text).strip()
    if not text:
        raise ConfigError("the message is empty", hint="type a question for the assistant")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ConfigError(
            f"the message is {len(text)} characters long; the limit is {MAX_MESSAGE_CHARS}",
            hint="send a shorter message",
        )
    return text


CONVERSATIONS = "the conversation store"
"""How errors name the checkpointer's database (see tools.store.unavailable)."""


class ShopAgent:
    """The assistant: a compiled graph plus the context its nodes run with.

    Each turn reads the thread's checkpoint once (is a confirmation pending? the graph run
    reuses that read) and takes its result from the run itself. ``durability`` is
    LangGraph's checkpoint durability: ``"exit"`` (default) saves one checkpoint when the
    turn ends or asks for a confirmation, instead of one per step. A process killed
    mid-turn therefore resumes the thread from its last completed turn (the interrupted
    turn leaves no trace; its message must be sent again). Writes stay exactly-once
    because they run only after a confirmation and the write tools are idempotent: a
    confirmation replayed after a crash finds the write already made.
    """

    def __init__(
        self,
        context: AgentContext,
        checkpointer: BaseCheckpointSaver | None,
        model_name: str,
        stack: AsyncExitStack | None = None,
        *,
        turn_budget_s: float | None = None,
        durability: Durability = "exit",
    ) -> None:
        self.context = context
        self.turn_budget_s = turn_budget_s
        self.durability: Durability = durability
        self.graph = build_graph(checkpointer)
        if checkpointer is not None:
            read_once(checkpointer)
        self.model_name = model_name
        self._stack = stack

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        model: BaseChatModel | None = None,
        db: StoreDB | None = None,
        inventory: Inventory | None = None,
        catalog: Catalog | None = None,
        router: IntentRouter | None = None,
        checkpointer: BaseCheckpointSaver | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> ShopAgent:
        """Build every dependency from ``settings``; any passed one is used instead.

        Without ``inventory`` and ``settings.inventory_url`` the price/stock API is started
        on loopback over the store database.
        """
        stack = AsyncExitStack()
        try:
            context, checkpointer, name = await build_context(
                settings,
                stack,
                model=model,
                db=db,
                inventory=inventory,
                catalog=catalog,
                router=router,
                checkpointer=checkpointer,
                clock=clock,
            )
        except BaseException:
            await stack.aclose()
            raise
        return cls(context, checkpointer, name, stack, turn_budget_s=settings.turn_budget_s)

    async def aclose(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()

    async def __aenter__(self) -> ShopAgent:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- turns ------------------------------------------------------------------------------
    def _context(self, customer_email: str | None) -> AgentContext:
        context = self.context
        if self.turn_budget_s is not None:
            context = replace(context, deadline=time.monotonic() + self.turn_budget_s)
        if not customer_email:
            return context
        customer = context.orders.customer_by_email(customer_email)
        if customer is None:
            raise ConfigError(
                f"no customer with email {customer_email!r}",
                hint="pass the email of a customer in the store (see customers.jsonl)",
            )
        return replace(context, authenticated=customer)

    @staticmethod
    def _config(thread_id: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread_id}}

    async def _pending(self, thread_id: str) -> tuple[dict[str, Any] | None, int]:
        """The thread's pending confirmation (or None) and, when there is one, the number of
        tool calls its state holds (those of the turn that asked): one state read."""
        with unavailable_when_locked(CONVERSATIONS):
            snapshot = await self.graph.aget_state(self._config(thread_id))
        confirmation = _interrupt(snapshot)
        carried = len(snapshot.values.get("tool_calls") or []) if confirmation else 0
        return confirmation, carried

    async def _start(
        self, message: str | None, thread_id: str, approve: bool | None
    ) -> tuple[Any, int]:
        """The run's input: a new turn, or the answer to the pending confirmation (a
        message while one is pending, or ``approve``); plus the carried tool calls."""
        pending, carried = await self._pending(thread_id)
        if approve is not None:
            if not pending:
                raise NothingToConfirm(
                    f"thread {thread_id!r} has nothing waiting for confirmation",
                    hint="only confirm after a turn returned a `confirmation`",
                )
            return Command(resume="yes" if approve else "no"), carried
        assert message is not None
        if pending:
            return Command(resume=message), carried
        return {"messages": [HumanMessage(message)]}, 0

    async def ask(
        self, message: str, *, thread_id: str | None = None, customer_email: str | None = None
    ) -> TurnResult:
        """Answer one shopper message in a thread (a new thread when ``thread_id`` is None)."""
        message = mask_pii(validate_message(message))
        thread_id = thread_id or uuid.uuid4().hex[:12]
        return await self._invoke(message, thread_id, customer_email, None)

    async def confirm(
        self, thread_id: str, approve: bool, *, customer_email: str | None = None
    ) -> TurnResult:
        """Answer the thread's pending confirmation explicitly (yes/no buttons);
        NothingToConfirm when the thread waits for nothing."""
        return await self._invoke(None, thread_id, customer_email, approve)

    async def _invoke(
        self, message: str | None, thread_id: str, customer_email: str | None, approve: bool | None
    ) -> TurnResult:
        context = self._context(customer_email)
        started = time.perf_counter()
        reads = TurnReads()
        token = TURN_READS.set(reads)
        try:
            payload, carried = await self._start(message, thread_id, approve)
            with unavailable_when_locked(CONVERSATIONS):
                output = await self.graph.ainvoke(
                    payload,
                    self._config(thread_id),
                    context=context,
                    durability=self.durability,
                    version="v2",
                )
        finally:
            reads.close()
            TURN_READS.reset(token)
        return self._result(thread_id, output.value, output.interrupts, started, carried)

    async def stream(
        self,
        message: str | None,
        *,
        thread_id: str,
        customer_email: str | None = None,
        approve: bool | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Run a turn, yielding events as they happen: ``tool_started`` / ``tool_finished``
        (live, from the tools), ``token`` (model text as it is written), ``node`` (a step
        finished), then one ``final`` event with the TurnResult (``result``) and
        ``carried`` (see ``TurnResult.carried_tool_calls``).

        ``approve`` answers the pending confirmation instead of a message (NothingToConfirm,
        before any event, when nothing is pending)."""
        if approve is None:
            message = mask_pii(validate_message(message or ""))
        context = self._context(customer_email)
        started = time.perf_counter()
        reads = TurnReads()
        TURN_READS.set(reads)  # this generator's consumer's context; closed below
        values: dict[str, Any] = {}
        interrupts: tuple[Any, ...] = ()
        try:
            payload, carried = await self._start(message, thread_id, approve)
            parts = self.graph.astream(
                payload,
                self._config(thread_id),
                context=context,
                stream_mode=["custom", "messages", "updates", "values"],
                durability=self.durability,
                version="v2",
            )
            async for part in _conversation_errors(parts):
                kind, data = part["type"], part["data"]
                if kind == "custom":
                    if isinstance(data, dict) and data.get("type"):
                        yield data
                elif kind == "messages":
                    piece, meta = data
                    from_compose = meta.get("langgraph_node") == "compose"
                    if isinstance(piece, AIMessageChunk) and from_compose and piece.content:
                        yield {"type": "token", "text": str(piece.content)}
                elif kind == "updates":
                    for node, update in data.items():
                        if node.startswith("__"):
                            continue
                        calls = (update or {}).get("tool_calls") if node == "act" else None
                        yield {"type": "node", "node": node, "tool_calls": calls or []}
                elif kind == "values":
                    values, interrupts = data, part.get("interrupts") or interrupts
        finally:
            reads.close()
        result = self._result(thread_id, values, interrupts, started, carried)
        yield {"type": "final", "result": result.model_dump(mode="json"), "carried": carried}

    async def pending_confirmation(self, thread_id: str) -> dict[str, Any] | None:
        """The confirmation this thread is waiting for, or None."""
        return (await self._pending(thread_id))[0]

    async def history(self, thread_id: str) -> list[dict[str, str]]:
        """The thread's messages as ``{role, content}`` (bounded by the state's memory)."""
        with unavailable_when_locked(CONVERSATIONS):
            snapshot = await self.graph.aget_state(self._config(thread_id))
        out = []
        for m in snapshot.values.get("messages", []):
            role = "user" if isinstance(m, HumanMessage) else "assistant"
            if isinstance(m, HumanMessage | AIMessage):
                out.append({"role": role, "content": str(m.content)})
        return out

    def _result(
        self,
        thread_id: str,
        state: dict[str, Any],
        interrupts: tuple[Any, ...],
        started: float,
        carried: int,
    ) -> TurnResult:
        """The TurnResult from the run's final state and interrupts."""
        confirmation = _payload(interrupts[0]) if interrupts else None
        answer = state.get("answer", "")
        if confirmation:
            answer = confirmation.get("question", answer)
        return TurnResult(
            answer=answer,
            intent=state.get("intent", ""),
            intents=state.get("intents", []),
            slots={k: v for k, v in state.get("slots", {}).items() if v not in (None, False, "")},
            tool_calls=state.get("tool_calls", []),
            answer_source="confirm" if confirmation else state.get("answer_source", ""),
            clarify=state.get("answer_source") == "clarify",
            confirmation=confirmation,
            model=self.model_name,
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
            llm_calls=state.get("llm_calls", 0),
            tokens=state.get("tokens", 0),
            thread_id=thread_id,
            carried_tool_calls=carried,
        )


async def _conversation_errors(parts: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """``parts`` of a graph stream, a busy or unreachable checkpointer as StorageUnavailable."""
    while True:
        with unavailable_when_locked(CONVERSATIONS):
            try:
                part = await anext(parts)
            except StopAsyncIteration:
                return
        yield part


def _payload(intr: Any) -> dict[str, Any]:
    return dict(intr.value) if isinstance(intr.value, dict) else {"text": intr.value}


def _interrupt(snapshot: Any) -> dict[str, Any] | None:
    """The pending interrupt's payload in a state snapshot, or None."""
    for task in snapshot.tasks:
        for intr in task.interrupts:
            return _payload(intr)
    return None
