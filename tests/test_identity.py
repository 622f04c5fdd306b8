"""Identity as the shop allows (issue 13): the verification methods a shop lists (email +
order number, email + zip, full name + zip), the ``Orders`` tool's name + zip lookup, and the
per-thread rate limit on failed attempts (a pure rule with an injected clock), through the
tool, the rules and the graph."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import graph_common
import pytest
from factories import IN_WINDOW, make_context, tiny_store
from graph_common import Chat, names
from shopagent.agent.understanding.clarification import VERIFY_LOCKED, ask_verify
from shopagent.agent.understanding.identity import (
    attempted_method,
    is_locked,
    recent_failures,
    with_failure,
)
from shopagent.agent.understanding.slots import extract
from shopagent.tools.orders import StoreOrders
from shopagent.tools.store.db import StoreDB
from shopagent.tools.store.schema import Customer

from shopagent.settings import Settings

db = graph_common.db
ALL = ("email_order", "email_zip", "name_zip")


# -- the tool: name + zip, ownership in SQL ------------------------------------------------
def test_full_name_and_zip_verify_the_one_customer(db: StoreDB) -> None:
    orders = StoreOrders(db)
    assert orders.verify_name_zip("hi, I'm Ada Park", "94110").id == "C1"
    assert orders.verify_name_zip("this is ADA PARK from 94110", "94110-1234").id == "C1"
    assert orders.verify_name_zip("I'm Ada", "94110") is None  # a first name is not enough
    assert orders.verify_name_zip("I'm Ada Parker", "94110") is None  # not a whole word
    assert orders.verify_name_zip("I'm Ben Cruz", "94110") is None  # Ben's zip is 10001
    assert orders.verify_name_zip("I'm Ada Park", "10001") is None
    assert orders.verify_name_zip("zip 94110", "94110") is None


def test_two_customers_with_one_name_and_zip_verify_neither() -> None:
    data = tiny_store()
    twin = Customer(id="C9", name="Ada Park", email="other.ada@example.com", zip="94110")
    db = StoreDB.in_memory(data.model_copy(update={"customers": [*data.customers, twin]}))
    assert StoreOrders(db).verify_name_zip("I'm Ada Park", "94110") is None


def test_accents_and_case_do_not_matter() -> None:
    data = tiny_store()
    jose = Customer(id="C9", name="José Ñúñez", email="jose@example.com", zip="73301")
    db = StoreDB.in_memory(data.model_copy(update={"customers": [*data.customers, jose]}))
    assert StoreOrders(db).verify_name_zip("soy jose nunez", "73301").id == "C9"


# -- the rules -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "allowed", "verified", "method"),
    [
        ("I'm a@b.co, order SA-100001", ALL, False, "email_order"),
        ("I'm a@b.co, zip code 94110", ALL, False, "email_zip"),
        ("I'm Ada Park, zip 94110", ALL, False, "name_zip"),
        ("I'm Ada Park, zip 94110", ("email_order", "email_zip"), False, None),
        ("I'm a@b.co, zip code 94110", ("email_order", "name_zip"), False, None),
        ("ship it to zip 94110", ALL, True, None),  # verified: a zip is not an attempt
        ("where is order SA-100001?", ALL, False, None),
    ],
)
def test_which_method_a_message_attempts(text, allowed, verified, method) -> None:
    assert attempted_method(extract(text), allowed, verified=verified) == method


def test_failures_lock_the_thread_until_they_expire() -> None:
    t0 = datetime(2026, 11, 20, 12, tzinfo=UTC)
    failures: list[str] = []
    for minute in range(3):
        assert not is_locked(failures, t0 + timedelta(minutes=minute), 3, 900)
        failures = with_failure(failures, t0 + timedelta(minutes=minute), 900)
    assert is_locked(failures, t0 + timedelta(minutes=3), 3, 900)
    assert not is_locked(failures, t0 + timedelta(minutes=15, seconds=1), 3, 900)
    assert recent_failures(failures, t0 + timedelta(minutes=15, seconds=30), 900) == failures[1:]
    assert recent_failures(["garbage"], t0, 900) == []


def test_settings_list_the_methods_and_limits() -> None:
    settings = Settings()
    assert settings.verification_methods == list(ALL)
    assert settings.verification_max_failures == 3 and settings.verification_lockout_s == 900
    assert Settings(verification_methods=["email_order"]).verification_methods == ["email_order"]
    with pytest.raises(ValueError):
        Settings(verification_methods=["birthday"])


def test_the_question_names_only_the_allowed_methods() -> None:
    assert "full name and zip code" in ask_verify(ALL)
    only = ask_verify(("email_order",))
    assert "order number" in only and "zip" not in only


# -- the graph (scripted model) ------------------------------------------------------------
STATUS = "Hi, I'm Ada Park, zip 94110. Where is my order?"
RETURN = "This is Ada Park, zip code 94110: I want to return order SA-100002, still sealed"


class Clock:
    def __init__(self) -> None:
        self.now = IN_WINDOW

    def __call__(self) -> datetime:
        return self.now


def chat(db: StoreDB, model, router: dict, clock=None, **overrides) -> Chat:
    return Chat(make_context(db, model, router, clock=clock or (lambda: IN_WINDOW), **overrides))


async def test_name_and_zip_identify_then_order_status(db, scripted_model) -> None:
    state = await chat(db, scripted_model([]), {STATUS: "order_status"}).say(STATUS)
    assert state["customer"]["id"] == "C1" and state["clarify"] is None
    assert names(state) == ["get_order_status"] and "SA-100001" in state["answer"]


async def test_name_and_zip_identify_then_a_confirmed_return(db, scripted_model) -> None:
    talk = chat(db, scripted_model([]), {RETURN: "return_request"})
    state = await talk.say(RETURN)
    (proposal,) = state["interrupts"]
    assert proposal["action"] == "start_return" and proposal["order_number"] == "SA-100002"
    state = await talk.say("yes")
    assert names(state)[-1] == "start_return" and len(db.returns_of("C1")) == 1


async def test_a_shop_without_name_and_zip_asks_for_what_it_allows(db, scripted_model) -> None:
    methods = ("email_order",)
    talk = chat(db, scripted_model([]), {STATUS: "order_status"}, verification_methods=methods)
    state = await talk.say(STATUS)
    assert state["customer"] is None and state["tool_calls"] == []
    assert state["answer"] == ask_verify(methods)


GUESSES = [f"I'm {name}, zip 94110, where is my order?" for name in
           ("Ann Lee", "Bo Kim", "Cy Noor", "Ada Park")]  # fmt: skip


async def test_guessing_locks_the_thread_even_for_the_right_name(db, scripted_model) -> None:
    clock = Clock()
    router = dict.fromkeys(GUESSES, "order_status")
    talk = chat(db, scripted_model([]), router, clock=clock, verification_max_failures=1)
    for guess in GUESSES[:1]:
        state = await talk.say(guess)
        assert state["customer"] is None and "couldn't verify" in state["answer"]
    state = await talk.say(GUESSES[3])  # right, but the thread is locked: no lookup
    assert state["customer"] is None and state["answer"] == VERIFY_LOCKED
    assert state["tool_calls"] == [] and "SA-100001" not in state["answer"]
    assert len(state["verify_failures"]) == 1
    clock.now += timedelta(seconds=901)  # the failures expire
    state = await talk.say(GUESSES[3])
    assert state["customer"]["id"] == "C1" and "SA-100001" in state["answer"]


async def test_endless_guessing_ends_with_a_person_and_no_data(db, scripted_model) -> None:
    router = dict.fromkeys(GUESSES, "order_status")
    talk = chat(db, scripted_model([]), router)  # 3 failures; 3 unhelpful turns hand over
    for guess in GUESSES[:3]:  # Cy Noor is a customer, but not at 94110
        state = await talk.say(guess)
        assert state["customer"] is None
    state = await talk.say(GUESSES[3])
    assert state["customer"] is None and state["intent"] == "human_handoff"
    assert "SA-100001" not in state["answer"] and "get_order_status" not in names(state)


async def test_another_thread_is_not_locked(db, scripted_model) -> None:
    router = dict.fromkeys(GUESSES, "order_status")
    talk = chat(db, scripted_model([]), router, verification_max_failures=1)
    assert (await talk.say(GUESSES[0], thread="a"))["customer"] is None
    assert (await talk.say(GUESSES[3], thread="a"))["answer"] == VERIFY_LOCKED
    assert (await talk.say(GUESSES[3], thread="b"))["customer"]["id"] == "C1"
