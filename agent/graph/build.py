"""Wiring only: understand -> clarify | act -> (clarify | confirm) -> compose."""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from shopagent.agent.graph.context import AgentContext
from shopagent.agent.graph.nodes.act import act
from shopagent.agent.graph.nodes.clarify import clarify
from shopagent.agent.graph.nodes.compose import compose
from shopagent.agent.graph.nodes.confirm import confirm
from shopagent.agent.graph.nodes.understand import understand
from shopagent.agent.graph.routing import after_act, after_understand
from shopagent.agent.graph.state import AgentState


def build_graph(checkpointer: BaseCheckpointSaver | None = None) -> CompiledStateGraph:
    """The ShopAgent state machine, compiled with ``checkpointer`` (None: no memory)."""
    graph = StateGraph(AgentState, context_schema=AgentContext)
    graph.add_node("understand", understand)
    graph.add_node("clarify", clarify)
    graph.add_node("act", act)
    graph.add_node("confirm", confirm)
    graph.add_node("compose", compose)
    graph.add_edge(START, "understand")
    graph.add_conditional_edges("understand", after_understand, ["clarify", "act", "compose"])
    graph.add_conditional_edges("act", after_act, ["clarify", "confirm", "compose"])
    graph.add_edge("confirm", "compose")
    graph.add_edge("clarify", END)
    graph.add_edge("compose", END)
    return graph.compile(checkpointer=checkpointer)
