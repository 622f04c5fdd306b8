"""Order lines resolved by scoring name and variant options, and store order-number shapes
in slot extraction."""

from factories import tiny_store
from shopagent.agent.understanding.clarification import choose_question
from shopagent.agent.understanding.entities import order_shapes_of
from shopagent.agent.understanding.lines import Line, best_lines, differences
from shopagent.agent.understanding.slots import extract
from shopagent.tools.store.db import StoreDB

WATCH = Line("SW-1", "Apex Smart Watch", {"color": "Black"})
THERMOSTAT = Line("ST-1", "Nest Smart Thermostat", {})
KETTLE_BLUE = Line("K-BLU", "Brewster Gooseneck Kettle", {"color": "Blue"})
KETTLE_BLACK = Line("K-BLK", "Brewster Gooseneck Kettle", {"color": "Black"})


def test_a_shared_word_does_not_match() -> None:
    assert best_lines("smart watch", [WATCH, THERMOSTAT]) == [WATCH]
    assert best_lines("the watches", [WATCH, THERMOSTAT]) == [WATCH]
    assert best_lines("thermostat", [WATCH, THERMOSTAT]) == [THERMOSTAT]


def test_variant_options_tell_two_lines_of_one_product_apart() -> None:
    lines = [KETTLE_BLUE, KETTLE_BLACK, WATCH]
    assert best_lines("kettle blue", lines) == [KETTLE_BLUE]
    assert best_lines("kettle", lines) == [KETTLE_BLUE, KETTLE_BLACK]


def test_a_real_tie_names_what_differs() -> None:
    tied = best_lines("gooseneck kettle", [KETTLE_BLUE, KETTLE_BLACK])
    notes = differences(tied)
    assert notes == {"K-BLU": ["color: Blue"], "K-BLK": ["color: Black"]}
    focus = [{"name": line.name, "sku": line.key} for line in tied]
    question = choose_question(focus, notes)  # type: ignore[arg-type]
    assert "Brewster Gooseneck Kettle (color: Blue)" in question
    assert "Brewster Gooseneck Kettle (color: Black)" in question


def test_names_differ_when_options_do_not() -> None:
    notes = differences([WATCH, THERMOSTAT])
    assert notes["ST-1"] == ["Nest", "Thermostat"]


def test_no_words_or_no_match_is_no_pick() -> None:
    assert best_lines("", [WATCH]) == []
    assert best_lines("sofa", [WATCH, THERMOSTAT]) == []


def test_unicode_names_survive() -> None:
    cafe = Line("C-1", "Crème Brûlée Torch", {})
    assert best_lines("brûlée torch", [cafe, WATCH]) == [cafe]


def test_slots_take_the_stores_own_order_number_shape() -> None:
    data = tiny_store()
    orders = [
        o.model_copy(update={"number": f"#W10000{i:02d}"}) for i, o in enumerate(data.orders, 1)
    ]
    db = StoreDB.in_memory(data.model_copy(update={"orders": orders}))
    shapes = order_shapes_of(db)
    slots = extract("I want to cancel w1000003 please", shapes)
    assert slots.order_number == "#W1000003"
    assert "1000003" not in slots.query
    assert extract("cancel #W1000003").order_number is None  # the generic pattern alone misses it
    assert extract("where is SA-100002", shapes).order_number == "SA-100002"  # generic fallback
