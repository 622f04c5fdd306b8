"""An order number and an email with a status word is a status question: a router that reads
"My email is ..." as a change clause (the trained router does, on the demo store) must not
turn the turn into a change (issue 14, `make demo` turn 6)."""

from __future__ import annotations

import graph_common
import pytest
from factories import make_context
from graph_common import Chat, names
from shopagent.agent.understanding.action_slots import asked_for

db = graph_common.db

STATUS = "Where is my order SA-100001? My email is ada@example.com."


@pytest.mark.parametrize(
    ("intent", "clause", "asked"),
    [
        ("change_address", "My email is ada@example.com.", False),
        ("modify_order", "my email is ada@example.com and my zip is 94110", False),
        ("exchange_request", "I ordered it last week", False),
        ("modify_order", "Please ship it to 42 Harbor Lane, Portland, OR 97201", True),
        ("modify_order", "and swap the kettle for the black one", True),
        ("modify_order", "pay with my gift card", True),
        ("return_policy", "My email is ada@example.com.", True),  # not a change: kept
    ],
)
def test_a_secondary_change_needs_words_that_ask_for_it(intent, clause, asked) -> None:
    assert asked_for(intent, clause) is asked


async def test_status_question_with_an_email_is_answered_not_turned_into_a_change(
    db, scripted_model
) -> None:
    router = {STATUS: ["order_status", "change_address"]}  # what the trained router said
    chat = Chat(make_context(db, scripted_model(["x"]), router))
    state = await chat.say(STATUS)
    assert state["intents"] == ["order_status"]
    assert names(state) == ["get_order_status"]
    assert "What would you like to change" not in state["answer"]
    assert "SA-100001" in state["answer"] and "shipped" in state["answer"]
    assert "1Z999AA10123456784" in state["answer"]


async def test_a_real_change_after_a_status_question_is_kept(db, scripted_model) -> None:
    text = "Where is my order SA-100006? My email is cy@example.com. Ship it to 42 Harbor Lane"
    router = {text: ["order_status", "modify_order"]}
    chat = Chat(make_context(db, scripted_model([]), router))
    state = await chat.say(text)
    assert "modify_order" in state["intents"]  # an address in an order message: a change
