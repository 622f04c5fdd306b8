"""ScriptedChatModel: replays in order and fails loudly on anything unexpected."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Annotated

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from shopagent.agent.models.capabilities import capabilities
from shopagent.agent.models.scripted import ScriptedChatModel

REPO_ROOT = Path(__file__).resolve().parents[1]


@tool
def lookup_price(sku: Annotated[str, "product SKU"]) -> str:
    """Current price of a product."""
    return f"{sku}: $42.00"


def test_replies_in_order_and_records_calls() -> None:
    model = ScriptedChatModel(["first", AIMessage(content="second")])
    assert isinstance(model, BaseChatModel)

    assert model.invoke("hello").content == "first"
    reply = model.invoke([SystemMessage("be brief"), HumanMessage("again")])
    assert reply.content == "second"

    assert [m.text for m in model.calls[0]] == ["hello"]
    assert [type(m).__name__ for m in model.calls[1]] == ["SystemMessage", "HumanMessage"]
    assert model.remaining == 0
    model.assert_consumed()


def test_replies_carry_usage_metadata() -> None:
    model = ScriptedChatModel(["three word answer"])
    reply = model.invoke("one two")
    assert reply.usage_metadata == {"input_tokens": 2, "output_tokens": 3, "total_tokens": 5}
    assert reply.response_metadata["model_name"] == "scripted"


def test_scripted_messages_are_copied_not_shared() -> None:
    scripted = AIMessage(content="same")
    model = ScriptedChatModel([scripted, scripted])
    first, second = model.invoke("a"), model.invoke("b")
    assert first is not scripted and second is not first
    assert scripted.usage_metadata is None  # the script itself is not mutated


def test_substring_and_callable_matchers() -> None:
    model = ScriptedChatModel(
        [
            ("order", "Which order?"),
            (lambda prompt: prompt.startswith("A-"), "Shipped."),
        ]
    )
    assert model.invoke("where is my order").content == "Which order?"
    assert model.invoke("A-1001").content == "Shipped."


def test_matcher_checks_last_human_or_system_message() -> None:
    model = ScriptedChatModel([("route this", "search")])
    messages = [
        HumanMessage("old question"),
        SystemMessage("route this request"),
        ToolMessage("tool output", tool_call_id="1"),
    ]
    assert model.invoke(messages).content == "search"


def test_matcher_mismatch_names_expected_and_got() -> None:
    model = ScriptedChatModel([("refund", "ok")])
    with pytest.raises(AssertionError) as info:
        model.invoke("where is my parcel?")
    message = str(info.value)
    assert "model call #1" in message
    assert "expected prompt containing 'refund'" in message
    assert "got 'where is my parcel?'" in message


def test_callable_matcher_mismatch_names_the_function() -> None:
    def asks_for_email(prompt: str) -> bool:
        return "@" in prompt

    model = ScriptedChatModel([(asks_for_email, "thanks")])
    with pytest.raises(AssertionError, match="prompt satisfying asks_for_email"):
        model.invoke("no address here")


def test_extra_call_fails_loudly() -> None:
    model = ScriptedChatModel(["only one"])
    model.invoke("first")
    with pytest.raises(AssertionError, match=r"unexpected model call #2: 'second prompt'"):
        model.invoke("second prompt")


def test_long_prompts_are_excerpted() -> None:
    model = ScriptedChatModel([])
    with pytest.raises(AssertionError) as info:
        model.invoke("word " * 200)
    assert len(str(info.value)) < 220
    assert str(info.value).endswith("...'")


def test_unused_steps_fail_assert_consumed() -> None:
    model = ScriptedChatModel(["used", "never used", ("refund", "nor this")])
    model.invoke("hi")
    with pytest.raises(AssertionError, match=r"2 scripted step\(s\) not used after 1 call"):
        model.assert_consumed()


def test_invalid_steps_are_rejected_at_construction() -> None:
    with pytest.raises(TypeError, match="step #1"):
        ScriptedChatModel([42])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="step #2"):
        ScriptedChatModel(["ok", ("a", "b", "c")])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="matcher"):
        ScriptedChatModel([(3, "reply")])  # type: ignore[list-item]


def test_tool_call_replies_and_bind_tools() -> None:
    model = ScriptedChatModel(
        [
            ScriptedChatModel.tool_call("lookup_price", {"sku": "TENT-2P"}, id="call_a"),
            "It costs $42.00.",
        ]
    )
    bound = model.bind_tools([lookup_price])

    reply = bound.invoke("how much is TENT-2P?")
    assert reply.tool_calls == [
        {"name": "lookup_price", "args": {"sku": "TENT-2P"}, "id": "call_a", "type": "tool_call"}
    ]
    assert reply.usage_metadata is not None
    assert bound.invoke("next").content == "It costs $42.00."

    # bind_tools returns the same script: calls and tools are recorded on the model.
    assert len(model.calls) == 2
    assert [t["function"]["name"] for t in model.bound_tools[0]] == ["lookup_price"]
    assert model.call_kwargs[0]["tools"][0]["function"]["name"] == "lookup_price"
    assert capabilities(bound).tool_calling is True


def test_tool_call_ids_are_generated_when_missing() -> None:
    first = ScriptedChatModel.tool_call("a")
    second = ScriptedChatModel.tool_call("a")
    assert first.tool_calls[0]["id"] != second.tool_calls[0]["id"]
    assert first.tool_calls[0]["args"] == {}


def test_capability_flags_are_configurable() -> None:
    weak = ScriptedChatModel([], tool_calling=False, json_output=False, model_name="tiny")
    caps = capabilities(weak)
    assert (caps.tool_calling, caps.json_output, caps.name, caps.local) == (
        False,
        False,
        "tiny",
        True,
    )
    with pytest.raises(NotImplementedError, match="without tool calling"):
        weak.bind_tools([lookup_price])


async def test_async_invoke() -> None:
    model = ScriptedChatModel([("hi", "hello"), "bye"])
    assert (await model.ainvoke("hi there")).content == "hello"
    assert (await model.ainvoke("later")).content == "bye"
    with pytest.raises(AssertionError, match="unexpected model call #3"):
        await model.ainvoke("again")


def test_drives_a_langgraph_tool_loop(scripted_model) -> None:
    model = scripted_model(
        [
            ("TENT-2P", ScriptedChatModel.tool_call("lookup_price", {"sku": "TENT-2P"})),
            (lambda prompt: "TENT-2P" in prompt, "TENT-2P costs $42.00."),
        ]
    )
    bound = model.bind_tools([lookup_price])

    def agent(state: MessagesState) -> dict:
        return {"messages": [bound.invoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode([lookup_price]))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    app = graph.compile()

    result = app.invoke({"messages": [HumanMessage("price of TENT-2P?")]})
    final = result["messages"]
    assert final[-1].content == "TENT-2P costs $42.00."
    assert isinstance(final[-2], ToolMessage) and final[-2].content == "TENT-2P: $42.00"
    # The second model call saw the tool result.
    assert isinstance(model.calls[1][-1], ToolMessage)


def test_scripted_model_fixture_checks_consumption_at_teardown(tmp_path: Path) -> None:
    """The fixture fails a passing test that left steps unused, and stays quiet otherwise."""
    (tmp_path / "test_inner.py").write_text(
        textwrap.dedent(
            """
            def test_all_used(scripted_model):
                scripted_model(["a"]).invoke("x")

            def test_left_unused(scripted_model):
                scripted_model(["a", "b"]).invoke("x")

            def test_body_fails_first(scripted_model):
                scripted_model(["a", "b"])
                assert False, "body failure"
            """
        )
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "tests.conftest",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(tmp_path / "test_inner.py"),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = result.stdout + result.stderr
    assert "1 failed, 2 passed, 1 error" in out, out
    assert "ERROR at teardown of test_left_unused" in out, out
    assert "1 scripted step(s) not used" in out, out
    assert "teardown of test_body_fails_first" not in out, out
