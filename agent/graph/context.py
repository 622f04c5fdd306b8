"""The runtime context: every dependency a node needs, injected by LangGraph per run."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from langchain_core.language_models import BaseChatModel
from shopagent.agent.answering.prompts import Prompts
from shopagent.agent.understanding.entities import OrderNumberShapes
from shopagent.agent.understanding.intents import IntentRouter
from shopagent.agent.understanding.vocabulary import StoreVocabulary
from shopagent.tools.protocols import Catalog, Handoffs, Inventory, Orders, Policy
from shopagent.tools.results import VerifiedCustomer


@dataclass(frozen=True)
class AgentContext:
    """Dependencies for one run of the graph. Nodes read it; they never build clients."""

    catalog: Catalog
    inventory: Inventory
    orders: Orders
    policy: Policy
    handoffs: Handoffs
    router: IntentRouter
    model: BaseChatModel
    prompts: Prompts
    clock: Callable[[], datetime]
    store_name: str = "our store"
    authenticated: VerifiedCustomer | None = None
    """A customer the host system authenticated (trusted); None for anonymous shoppers."""
    chat_verification: bool = True
    """Whether an anonymous shopper may verify in the chat (email + order number or zip
    code). False: only ``authenticated`` identifies a customer."""
    verification_methods: tuple[str, ...] = ("email_order", "email_zip", "name_zip")
    """In-chat verification methods the shop allows (``settings.verification_methods``)."""
    verification_max_failures: int = 3
    verification_lockout_s: float = 900.0
    """Failed attempts a thread may make, and for how long they count (rate limit)."""
    search_k: int = 5
    history_turns: int = 8
    deadline: float | None = None
    """``time.monotonic()`` by which the turn must answer (None: no budget)."""
    compose_attempts: int = 1
    order_shapes: OrderNumberShapes | None = None
    """The store's order-number shapes (learned from its orders); None: the generic pattern."""
    """Model answers tried before the template (1 on the tiny local model)."""
    tool_calling_act: bool = False
    """Tool-calling act mode: the model picks the turn's tools (a model that passed the
    capability probe, and ``settings.act_mode == "tools"``); False: deterministic handlers."""
    max_tool_calls: int = 4
    """Tool calls the model may make in one turn (tool-calling act mode)."""
    vocabulary: StoreVocabulary | None = None
    """The store's own words (product types, names, brands, categories, policy categories),
    derived from its data at start; None: the parsers work without the store's words."""


def remaining(ctx: AgentContext) -> float | None:
    """Seconds left in the turn's budget (None: unlimited); never negative."""
    if ctx.deadline is None:
        return None
    return max(0.0, ctx.deadline - time.monotonic())
