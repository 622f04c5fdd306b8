"""Order-number shapes learned from the store's own orders."""

from shopagent.agent.understanding.entities import OrderNumberShapes, mask_identifiers, shape_of


def test_shape_signature() -> None:
    assert shape_of("#W1234567") == "#A9999999"
    assert shape_of("112-5589231-4471") == "999-9999999-9999"


def test_recognises_every_shape_the_store_uses() -> None:
    shapes = OrderNumberShapes.from_numbers(
        ["#W1234567", "#W7654321", "SA-100001", "112-5589231-4471"]
    )
    assert shapes.find("where is #w1234567?") == ("#w1234567", "#W1234567")
    assert shapes.find("order W9921884 pls") == ("W9921884", "#W9921884")
    assert shapes.find("cancel sa100234") == ("sa100234", "SA-100234")
    assert shapes.find("track 112 5589231 4471") == ("112 5589231 4471", "112-5589231-4471")


def test_product_names_with_numbers_are_not_order_numbers() -> None:
    shapes = OrderNumberShapes.from_numbers(["#W1234567", "SA-100001"])
    for text in ["is the Max 2 in stock", "AirFlow 3000 fan", "X100 blender", "W12345678"]:
        assert shapes.find(text) is None
    assert mask_identifiers("the Max 2 and the AirFlow 3000") == "the Max 2 and the AirFlow 3000"


def test_varying_letters_become_a_letter_class() -> None:
    shapes = OrderNumberShapes.from_numbers(["AB-1234", "CD-5678"])
    assert shapes.find("order XY-9999")[1] == "XY-9999"


def test_mask_covers_other_shapes_and_emails() -> None:
    masked = mask_identifiers("ORD-88412, #W9921884, 100045678 and me@x.com")
    assert masked == "order number, order number, order number and email address"
