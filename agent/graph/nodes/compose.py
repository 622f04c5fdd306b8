"""compose: the model writes the answer from tool results; the verifier decides if it ships."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from shopagent.agent.answering.checks import verify_plan
from shopagent.agent.answering.facts import Facts
from shopagent.agent.answering.i18n import delocalize, phrasing, reply_instruction, translate
from shopagent.agent.answering.plan import AnswerPlan, plan_for_turn
from shopagent.agent.answering.realise import realise
from shopagent.agent.answering.templates import template_answer
from shopagent.agent.answering.verify import complete_sentences, generic_problems, verify_answer
from shopagent.agent.graph.context import AgentContext, remaining
from shopagent.agent.graph.state import AgentState, last_user_text
from shopagent.agent.safety.guardrails import leaks_system_prompt, refusal, sanitize_facts
from shopagent.agent.understanding.language import detect_language

from shopagent.errors import ShopAgentError

log = logging.getLogger("shopagent.compose")

MIN_MODEL_SECONDS = 1.0
"""Below this much budget left, answer from the template without asking the model."""

TEMPLATE_ONLY = frozenset(
    {
        "greeting",
        "out_of_scope",
        "human_handoff",
        "return_request",
        "cancel_order",
        "exchange_request",
        "modify_order",
        "change_address",
    }
)
"""Intents answered by templates only: no facts to phrase, or writes that must be exact."""


def _history(state: AgentState, turns: int) -> list[AnyMessage]:
    """The last ``turns`` exchanges before the current message (bounded prompt memory)."""
    if turns <= 0:
        return []
    past = [m for m in state.get("messages", [])[:-1] if isinstance(m, HumanMessage | AIMessage)]
    return past[-2 * turns :]


def _messages(
    state: AgentState, ctx: AgentContext, facts: Facts, plan: AnswerPlan, planned: str
) -> list[AnyMessage]:
    system = ctx.prompts.system.format(store_name=ctx.store_name)
    system += reply_instruction(state.get("language"))
    required = planned or "\n".join(facts.lines())
    context = [line for line in plan.context if line != ctx.store_name][:6]
    body = ctx.prompts.compose.format(
        facts="\n".join(f"- {line}" for line in facts.lines()),
        required="\n".join(f"- {line}" for line in required.splitlines() if line.strip()),
        context="\n".join(f"- {line}" for line in context) or "- (nothing else)",
        message=last_user_text(state),
    )
    return [SystemMessage(system), *_history(state, ctx.history_turns), HumanMessage(body)]


def _need(state: AgentState) -> str:
    """What the shopper said they want: their last few messages (for explanations)."""
    said = [str(m.content) for m in state.get("messages", []) if isinstance(m, HumanMessage)]
    return " ".join(said[-3:])


def plan_turn(state: AgentState, ctx: AgentContext) -> tuple[AnswerPlan, Facts]:
    """The answer plan of this turn, from the question and the sanitised tool results (planted
    instructions never reach the shopper or the model); and those facts."""
    intent = state.get("intent", "")
    intents = list(state.get("intents") or [intent])
    if intent and intents[0] != intent:
        intents = [intent, *[i for i in intents if i != intent]]

    def info(product_id: str) -> dict[str, Any] | None:
        try:
            product = ctx.catalog.get(product_id)
        except ShopAgentError as exc:  # the plan then says only what the tools returned
            log.warning("catalog lookup failed (%s)", type(exc).__name__)
            return None
        return product.model_dump(mode="json") if product else None

    plan, facts = plan_for_turn(
        intents,
        last_user_text(state),
        state.get("tool_calls", []),
        slots=state.get("slots", {}),
        targets=list(state.get("targets", [])),
        clean=sanitize_facts,
        need=_need(state),
        info=info,
    )
    plan.context.append(ctx.store_name)
    return plan, facts


def _tokens(reply: AIMessage) -> int:
    usage = getattr(reply, "usage_metadata", None) or {}
    return int(usage.get("total_tokens", 0))


async def compose(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Answer from facts only: model answer if it passes verification, else the template."""
    ctx = runtime.context
    intent = state.get("intent", "")
    plan, clean = plan_turn(state, ctx)
    facts = clean
    fallback = template_answer(
        intent,
        clean,
        store=ctx.store_name,
        decision=state.get("decision"),
        proposal=state.get("proposal"),
    )
    planned = realise(plan) if plan.claims else ""
    if planned and intent not in TEMPLATE_ONLY and not facts.handoff:
        fallback = planned
    if state.get("guardrail"):
        fallback = refusal(state["guardrail"], ctx.store_name)
    language = state.get("language") or "en"
    fallback = translate(fallback, language)
    answer, source = fallback, "template"
    llm_calls, tokens = state.get("llm_calls", 0), state.get("tokens", 0)

    if intent not in TEMPLATE_ONLY and facts.lines() and not state.get("guardrail"):
        messages = _messages(state, ctx, clean, plan, planned)
        if language != "en":  # the reply's own-language phrasing is not invented content
            plan.context += [fallback, phrasing(language)]
        evidence = "\n".join([fallback, *facts.lines(limit=50)])
        for _ in range(ctx.compose_attempts):  # a capable model gets one retry
            budget = remaining(ctx)
            if budget is not None and budget < MIN_MODEL_SECONDS:
                log.warning("%.1fs of the turn budget left: answering from template", budget)
                source = "template (time budget)"
                break
            try:
                reply = await asyncio.wait_for(ctx.model.ainvoke(messages), budget)
            except TimeoutError as exc:
                spent = remaining(ctx) == 0.0
                log.warning("model timed out (%s); answering from template", exc or "budget")
                source = "template (time budget)" if spent else "template (model unavailable)"
                break
            except Exception as exc:  # a failing model must never fail the turn
                log.warning("model call failed, answering from template: %s", exc)
                source = "template (model unavailable)"
                break
            llm_calls += 1
            tokens += _tokens(reply)
            text = complete_sentences(str(reply.content))
            checked = delocalize(text, language)  # "29,49 €" / "29.49美元" read as "$29.49"
            problems = generic_problems(checked)
            if plan.claims:
                problems += verify_plan(checked, plan)
            else:
                problems += verify_answer(
                    checked,
                    facts,
                    evidence=evidence,
                    user_message=last_user_text(state),
                    intent=intent,
                )
            if leaks_system_prompt(text, messages[0].text):
                problems.append("leaks the system prompt")
            if language != "en" and detect_language(text, language) != language:
                problems.append(f"not written in the shopper's language ({language})")
            if not problems:
                answer, source = text, "model"
                break
            log.info("model answer rejected: %s", "; ".join(problems))
            source = "template (verification failed)"

    helpful = intent == "greeting" or bool(
        facts.lines()
        or facts.handoff
        or facts.return_checks
        or facts.cancel_check
        or facts.return_created
        or facts.cancel_result
        or facts.change_check  # a support action proposed or explained (issue 15)
        or facts.change_done
        or facts.order_history
    )
    return {
        "strikes": 0 if helpful else state.get("strikes", 0) + 1,
        "answer": answer,
        "answer_source": source,
        "llm_calls": llm_calls,
        "tokens": tokens,
        "pending_intent": None,
        "messages": [AIMessage(answer)],
    }
