"""Faults through the real HTTP service: each test runs ``ShopAgent.open`` (SQLite store file,
SQLite checkpoints under a tmp home) behind the FastAPI app on a real uvicorn server, with the
real inventory API (fault injection), a loopback OpenAI-compatible model server (fault modes),
a real ``chroma run`` server, and other SQLite connections holding write locks. The inventory
and model faults are here; Chroma and SQLite faults in tests/test_faults_storage.py.

For every fault: a graceful, honest answer (no invented price or stock, no stack trace; a
503 with a clear message only where no answer can be given), a log line naming the fault, no
thread state lost (earlier messages all still there, the next turn works once the fault is
gone), and the turn back within its budget (a correctness bound with a generous margin).
"""

from __future__ import annotations

import faults_common
import pytest
from faults_common import (
    KETTLE,
    ROUTE_PRICE,
    assert_no_invented_numbers,
    healthy_model_turn,
    logged,
    messages_kept,
)
from shopagent.agent.answering.templates import INVENTORY_DOWN

# shared fixtures
_logs = faults_common._logs
fake = faults_common.fake
service = faults_common.service


# -- inventory API ----------------------------------------------------------------------------
def test_inventory_down_answers_honestly_and_recovers(service, caplog) -> None:
    thread = service.thread()
    healthy_model_turn(service, thread)
    before = service.history(thread)

    port = service.inventory.port
    service.stop_inventory()
    # the model would invent a price; nothing can confirm it, so it must not ship
    service.fake.tool_call("RouteDecision", ROUTE_PRICE)
    service.fake.reply({"content": "The ThermaCup Desk Mug Warmer is $19.00 with 12 in stock."})
    turn = service.say(thread, "how much is the ThermaCup Desk Mug Warmer?")  # nothing cached
    assert turn.status == 200
    assert INVENTORY_DOWN in turn.answer and "$" not in turn.answer
    assert_no_invented_numbers(turn)
    assert turn.calls("check_price_stock")[0]["result"]["error"] == "InventoryUnavailable"
    service.within_budget(turn)
    assert logged(caplog, "check_price_stock", "InventoryUnavailable")
    assert logged(caplog, "shopagent.http", "ConnectError")

    service.start_inventory(port)  # back on the same URL
    turn = service.say(thread, "is it in stock?")
    assert "$24.99" in turn.answer and "40" in turn.answer
    assert turn.calls("check_price_stock")[0]["args"] == {"skus": ["W-300"]}  # "it" resolved
    after = service.history(thread)
    messages_kept(before, after)
    assert len(after) == len(before) + 4


@pytest.mark.parametrize(
    ("service", "gives_up"),
    [(8.0, "failed after 3 attempt(s)"), (2.5, "time budget")],
    indirect=["service"],
    ids=["client-retries-run-out", "turn-budget-runs-out"],
)
def test_inventory_slower_than_its_timeout(service, gives_up, caplog) -> None:
    """Each attempt times out (1 s); three attempts fit a 8 s budget, not a 2.5 s one: either
    way the turn ends within its budget with an honest answer."""
    thread = service.thread()
    service.faults.latency_s = 30.0
    turn = service.say(thread, KETTLE)
    assert INVENTORY_DOWN in turn.answer
    assert_no_invented_numbers(turn)
    service.within_budget(turn)
    failure = turn.calls("check_price_stock")[0]["result"]["message"]
    assert gives_up in failure, failure
    assert logged(caplog, "check_price_stock failed")
    if service.budget > 5:
        assert logged(caplog, "shopagent.http", "ReadTimeout")

    service.faults.latency_s = 0.0
    turn = service.say(thread, "is it in stock?")
    assert "$29.49" in turn.answer
    assert len(service.history(thread)) == 4


def test_flaky_inventory_never_yields_a_wrong_number(service, caplog) -> None:
    """Half the requests fail (503 or a dropped connection): bounded retries get most answers
    through, the rest say so; every price shown is the one the API served."""
    service.faults.fail_rate, service.faults.drop_rate, service.faults.seed = 0.4, 0.2, 11
    service.faults.reset()
    thread = service.thread()
    prices = {"Hearth Classic Kettle": "29.49", "ThermaCup Desk Mug Warmer": "24.99",
              "Brewster Gooseneck Kettle": "49.99", "Trailhead Rain Jacket": "89.99"}  # fmt: skip
    confirmed = 0
    for name, price in [*prices.items(), *prices.items()]:
        turn = service.say(thread, f"how much is the {name}?")
        service.within_budget(turn)
        assert_no_invented_numbers(turn)
        if f"${price}" in turn.answer:
            confirmed += 1
        else:
            assert INVENTORY_DOWN in turn.answer, turn.answer
    assert confirmed >= 4, confirmed
    # the client caches quotes for a moment, so repeated questions may not reach the API:
    # at least one request must have failed, and been retried
    assert service.faults.failed + service.faults.dropped >= 1, service.faults
    assert logged(caplog, "shopagent.http", "attempt 1/3 failed")
    assert len(service.history(thread)) == 2 * 2 * len(prices)


# -- the model backend ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fault", "needle"),
    [
        ({"delay_s": 300.0}, "timed out"),
        ({"status": 429, "retry_after_ms": 100}, "RateLimitError"),
        ({"status": 500}, "Error code: 500"),
    ],
    ids=["timeout", "429", "500"],
)
def test_model_backend_fault_falls_back_to_facts(service, fault, needle, caplog) -> None:
    """The router falls back to the keyword router and the answer to the template, built
    from the live price; the model's turn share cannot starve the tools."""
    thread = service.thread()
    healthy_model_turn(service, thread)
    before = service.history(thread)

    service.fake.set_fault(**fault)
    turn = service.say(thread, "is it in stock?")
    assert turn.status == 200
    assert turn.body["answer_source"].startswith("template"), turn.body
    assert "$29.49" in turn.answer and "3" in turn.answer  # the live facts still made it
    assert_no_invented_numbers(turn)
    service.within_budget(turn)
    assert logged(caplog, "router falling back", needle)
    assert logged(caplog, "shopagent.compose", "template")

    service.fake.clear_fault()
    healthy_model_turn(service, thread, "is it in stock?")
    after = service.history(thread)
    messages_kept(before, after)
    assert len(after) == len(before) + 4
