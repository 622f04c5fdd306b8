"""confirm: state the write, wait for the shopper's yes/no (LangGraph interrupt), write on yes.

The node runs again from the top when resumed, so nothing before ``interrupt`` has side
effects, and the write tools are idempotent: a replayed confirmation never writes twice.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime
from langgraph.types import interrupt
from shopagent.agent.answering.change_templates import CHANGE_ACTIONS
from shopagent.agent.graph.context import AgentContext
from shopagent.agent.graph.handlers import Turn
from shopagent.agent.graph.nodes.confirm_changes import write_change
from shopagent.agent.graph.state import AgentState
from shopagent.agent.understanding.localize import localize
from shopagent.agent.understanding.slots import extract
from shopagent.tools import functions as fn


def decide(reply: str, language: str | None = None) -> str:
    """yes, no, or unclear (anything else is never taken as consent); "sí" and "好的" count
    in a Spanish or Chinese thread (agent/data/lang/)."""
    slots = extract(localize(reply, language))
    if slots.yes and not slots.no:
        return "yes"
    return "no" if slots.no else "unclear"


async def confirm(
    state: AgentState, runtime: Runtime[AgentContext], config: RunnableConfig
) -> dict[str, Any]:
    """Interrupt with the proposal; on "yes" run the write tool and record it."""
    proposal = state["proposal"] or {}
    reply = str(interrupt(proposal))
    decision = decide(reply, state.get("language"))
    same = _same_customer(state, runtime.context)
    if decision == "yes" and not same:
        decision = "unclear"  # someone else answered: nothing is written or shown to them
    thread_id = str(config.get("configurable", {}).get("thread_id", ""))
    turn = Turn(runtime.context, state, thread_id, runtime.stream_writer)
    turn.calls = list(state.get("tool_calls", [])) if same else []
    if decision == "yes":
        # what the shopper says now about the item ("yes, but I wore it") counts too
        said = extract(localize(reply, state.get("language")))
        condition = said.condition or proposal.get("condition")
        await _write(turn, {**proposal, "condition": condition})
    return {
        "decision": decision,
        "tool_calls": turn.calls,
        "messages": [AIMessage(proposal.get("question", "")), HumanMessage(reply)],
    }


def _same_customer(state: AgentState, ctx: AgentContext) -> bool:
    """Whether the shopper answering is the customer the proposal was made for: the one the
    host signs in now, or (with no sign-in now) the one verified in this conversation."""
    proposed = (state.get("customer") or {}).get("id")
    if ctx.authenticated is not None:
        return ctx.authenticated.id == proposed
    return not state.get("signed_in")


async def _write(turn: Turn, proposal: dict[str, Any]) -> None:
    ctx, customer = turn.ctx, turn.customer
    number = proposal.get("order_number")
    if proposal["action"] == "start_return":
        args = {"order_number": number, "sku": proposal["sku"]}
        await turn.call(
            "start_return",
            args,
            lambda: fn.start_return(
                ctx.orders,
                ctx.policy,
                customer,
                number,
                proposal["sku"],
                now=ctx.clock(),
                condition=proposal.get("condition"),
            ),
        )
    elif proposal["action"] == "cancel_order":
        reason = proposal.get("reason")
        await turn.call(
            "cancel_order",
            {"order_number": number, **({"reason": reason} if reason else {})},
            lambda: fn.cancel_order(
                ctx.orders,
                customer,
                number,
                today=ctx.clock().date(),
                reason=reason,
                rules=ctx.policy.rules.actions,
            ),
        )
    elif proposal["action"] in CHANGE_ACTIONS:
        await write_change(turn, proposal)
