"""Identity for one turn: the host's signed-in customer, else an in-chat verification the
shop allows (agent/understanding/identity.py), rate-limited per thread."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shopagent.agent.graph.context import AgentContext
from shopagent.agent.graph.state import AgentState
from shopagent.agent.understanding.identity import attempted_method, is_locked, with_failure
from shopagent.agent.understanding.slots import Slots


@dataclass
class Identity:
    customer: dict[str, Any] | None
    failed: bool = False
    """This turn's attempt did not verify."""
    locked: bool = False
    """The thread used up its failed attempts: nothing was looked up."""
    failures: list[str] = field(default_factory=list)


def identify(ctx: AgentContext, state: AgentState, slots: Slots, text: str) -> Identity:
    """Who the shopper is this turn. Every lookup is the ``Orders`` tool's (ownership in
    its SQL); a failed attempt is recorded with the context's clock."""
    failures = list(state.get("verify_failures") or [])
    customer = state.get("customer")
    if ctx.authenticated is None and state.get("signed_in"):
        customer = None  # the host vouched for an earlier turn only: nobody is verified now
    if ctx.authenticated is not None:
        return Identity(ctx.authenticated.model_dump(), failures=failures)
    if not ctx.chat_verification:
        return Identity(customer, failures=failures)
    method = attempted_method(slots, ctx.verification_methods, verified=customer is not None)
    if method is None:
        return Identity(customer, failures=failures)
    now = ctx.clock()
    window, limit = ctx.verification_lockout_s, ctx.verification_max_failures
    if is_locked(failures, now, limit, window):
        return Identity(customer, failed=True, locked=True, failures=failures)
    if method == "name_zip":
        found = ctx.orders.verify_name_zip(text, slots.zip_code or "")
    else:
        found = ctx.orders.verify(
            slots.email or "",
            order_number=slots.order_number if "email_order" in ctx.verification_methods else None,
            zip_code=slots.zip_code if "email_zip" in ctx.verification_methods else None,
        )
    if found is None:
        return Identity(customer, failed=True, failures=with_failure(failures, now, window))
    return Identity(found.model_dump(), failures=failures)
