"""Replies in the shopper's language: gettext catalogs (Babel, read from the .po files), the
model told the language and checked for it, localised numbers read by the verifier."""

from __future__ import annotations

import graph_common
from factories import make_context
from graph_common import Chat
from shopagent.agent.answering.claims import PolicyRule
from shopagent.agent.answering.i18n import catalog, delocalize, reply_instruction, translate
from shopagent.agent.answering.realise import policy
from shopagent.agent.answering.templates import GREETING
from shopagent.agent.understanding.language import detect_language

db = graph_common.db


def test_catalogs_load_from_po_files() -> None:
    for code in ("es", "zh"):
        cat = catalog(code)
        assert cat is not None and len(cat.entries) > 40
    assert catalog("en") is None and catalog("xx") is None and catalog("../x") is None


def test_product_names_and_prices_are_copied_unchanged() -> None:
    text = (
        "I found 2 options:\nHearth Classic Kettle: $29.49, 3 in stock\n"
        "Volt Pod: $9.00, out of stock"
    )
    zh = translate(text, "zh")
    assert zh.splitlines() == [
        "为您找到 2 个选项：",
        "Hearth Classic Kettle：$29.49，库存 3 件",
        "Volt Pod：$9.00，缺货",
    ]
    es = translate(text, "es")
    assert "Hearth Classic Kettle: $29.49, 3 en stock" in es and es.startswith("He encontrado 2")


def test_values_that_are_phrases_are_translated_and_unknown_text_stays() -> None:
    text = (
        "I can cancel order SA-10023 now; $45.00 would be refunded to your original payment "
        "method. Shall I cancel it? (yes/no)"
    )
    assert translate(text, "es").startswith("Puedo cancelar ahora el pedido SA-10023; se te")
    assert translate("Something nobody translated.", "zh") == "Something nobody translated."
    assert translate(text, "en") == text


def test_a_category_rule_names_its_category_in_the_shoppers_language() -> None:
    rule = PolicyRule(category="鞋靴", window_days=60, condition="unused", final_sale=False)
    zh = translate(policy(rule, ""), "zh")
    assert zh.startswith("鞋靴商品在签收后 60 天内可以退货") and "items" not in zh, zh
    rule = rule.model_copy(update={"category": "Footwear"})
    es = translate(policy(rule, ""), "es")
    assert "artículos de footwear" in es and "items" not in es, es


def test_every_catalog_reply_reads_as_its_language() -> None:
    for code in ("es", "zh"):
        assert detect_language(translate(GREETING.format(store="Test Goods"), code)) == code


def test_verifier_reads_localised_money_and_dates() -> None:
    assert delocalize("cuesta 29,49 € y llega el 18 de noviembre de 2026", "es") == (
        "cuesta $29.49 y llega el 2026-11-18"
    )
    assert delocalize("售价29.49美元，2026年11月18日送达", "zh") == "售价$29.49,2026-11-18送达"
    assert delocalize("It is $29.49", "en") == "It is $29.49"
    assert "Spanish" in reply_instruction("es") and reply_instruction("en") == ""


async def test_spanish_and_chinese_turns_get_translated_templates(db, scripted_model) -> None:
    intents = {"hola, buenas tardes": "greeting", "你好，请问在吗": "greeting"}
    chat = Chat(make_context(db, scripted_model([]), intents))
    es = await chat.say("hola, buenas tardes")
    assert es["language"] == "es" and es["answer"].startswith("¡Hola! Soy el asistente de Test")
    zh = await chat.say("你好，请问在吗")
    assert zh["language"] == "zh" and zh["answer"].startswith("您好！我是Test Goods")


async def test_model_answer_in_the_wrong_language_falls_back(db, scripted_model) -> None:
    question = "¿cuánto cuesta la hearth classic kettle?"
    model = scripted_model(["The Hearth Classic Kettle is $29.49 with 3 in stock."])
    chat = Chat(make_context(db, model, {question: "price_stock"}))
    state = await chat.say(question)
    assert state["language"] == "es"
    assert state["answer_source"] == "template (verification failed)"
    assert "$29.49" in state["answer"] and "Hearth Classic Kettle" in state["answer"]


async def test_model_answer_in_spanish_with_localised_price_passes(db, scripted_model) -> None:
    question = "¿cuánto cuesta la hearth classic kettle?"
    reply = "La Hearth Classic Kettle cuesta 29,49 $ y quedan 3 unidades en stock."
    chat = Chat(make_context(db, scripted_model([reply]), {question: "price_stock"}))
    state = await chat.say(question)
    assert state["answer_source"] == "model" and state["answer"] == reply


def test_two_sentences_are_not_a_numbered_list_line() -> None:
    # "{index}. {name}." matched any two sentences before numbers were numbers
    text = "Order SA-10023 shipped on 2026-11-16. It's with USPS, tracking number 94001."
    assert translate(text, "es") == (
        "El pedido SA-10023 se envió el 2026-11-16. Lo lleva USPS, número de seguimiento 94001."
    )
    assert translate(text, "zh").startswith("订单 SA-10023 已于 2026-11-16 发货。")


def test_verification_choice_and_ineligibility_are_translated() -> None:
    from shopagent.agent.understanding.clarification import ask_verify

    for code in ("es", "zh"):
        for text in (
            ask_verify(),
            ask_verify(("email_order",)),
            "Which order would you like to return?",
            "Hearth Kettle (Red) (order SA-10053) can't be returned: the 30-day return window "
            "ended on 2026-09-14.",
            "Order SA-10023 can't be cancelled: the order is already cancelled.",
        ):
            out = translate(text, code)
            assert out != text and detect_language(out) == code, (code, out)
    out = translate("Hearth Kettle (order SA-1) can't be returned: the order was returned.", "es")
    assert out == "Hearth Kettle (pedido SA-1) no se puede devolver: el pedido se devolvió."


def test_a_name_with_an_abbreviation_is_one_value() -> None:
    text = (
        "I can start a return for 2 x Inkwell & Co. Atlas Laptop Sleeve (16 in) from order "
        "SA-100263. You'd get $55.98, refunded to your original payment method once we receive "
        "the item (unused). Shall I go ahead? (yes/no)"
    )
    es = translate(text, "es")
    assert es.startswith("Puedo iniciar la devolución de 2 x Inkwell & Co. Atlas Laptop Sleeve")
    assert "Inkwell & Co. Atlas Laptop Sleeve (16 in)" in translate(text, "zh")
