"""Answers for the verifier benchmark: correct paraphrases of a plan and perturbed (wrong)
ones, generated from the plan with a seeded random generator (benchmarks/verifier.py)."""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal

from shopagent.agent.answering.claims import (
    AttributeAnswer,
    Comparison,
    Eligibility,
    Notice,
    OrderState,
    PolicyRule,
    PriceStock,
    ProductList,
    ProductRef,
)
from shopagent.agent.answering.facts import money
from shopagent.agent.answering.plan import AnswerPlan

Answer = tuple[str, str]
"""(kind, text): kind is "correct" or the perturbation's name."""

FAKE_BRANDS = ["Zentrova", "Quillmark", "Brisbow", "Altavey", "Korvana", "Prismold", "Vellichor"]
FAKE_COLOURS = ["teal", "mustard", "lavender", "burgundy", "olive", "coral", "navy"]


def _m(p: ProductRef) -> str:
    return money(p.price, p.currency)


def _stock(p: ProductRef, rng: random.Random) -> str:
    if p.stock is None:
        return ""
    if p.stock > 0:
        return rng.choice([f" We have {p.stock} in stock.", " It's in stock.", " It's available."])
    return rng.choice([" It's out of stock right now.", " Sorry, it's sold out at the moment."])


def price_stock(c: PriceStock, rng: random.Random, *, price: str | None = None) -> str:
    p = c.product
    amount = price or _m(p)
    frames = [
        f"The {p.name} is {amount} at the moment.",
        f"Right now the {p.name} costs {amount}.",
        f"You can get the {p.name} for {amount}.",
        f"The {p.name} sells for {amount}.",
    ]
    return rng.choice(frames) + _stock(p, rng)


def comparison(c: Comparison, rng: random.Random, *, swap: bool = False) -> str:
    # swapped: the dearer one is called cheaper (each still with its own price)
    a, b = (c.dearer, c.cheaper) if swap else (c.cheaper, c.dearer)
    pa, pb = _m(a), _m(b)
    frames = [
        f"The {a.name} is cheaper at {pa}; the {b.name} costs {pb}.",
        f"At {pa}, the {a.name} is less expensive than the {b.name} ({pb}).",
        f"The {b.name} is more expensive at {pb}, while the {a.name} is {pa}.",
        f"The {a.name} costs {pa}, so it is cheaper than the {b.name} at {pb}.",
    ]
    return rng.choice(frames)


def attribute(c: AttributeAnswer, rng: random.Random, *, flip: bool = False) -> str:
    name = c.product.name
    verdict = c.verdict
    if flip and verdict:
        verdict = "no" if verdict == "yes" else "yes"
    if c.value is None:
        if flip:
            return f"Yes, the {name} is {c.attribute}."
        return rng.choice(
            [
                f"The listing for the {name} doesn't say.",
                f"I'm afraid the {name}'s listing doesn't mention that.",
            ]
        )
    if c.attribute == "brand":
        return rng.choice([f"The {name} is made by {c.value}.", f"{c.value} makes the {name}."])
    if c.attribute == "final sale":
        if verdict == "yes":
            return f"Yes, the {name} is final sale, so it can't be returned."
        return f"No, the {name} is not final sale."
    if c.evidence:
        if verdict == "no":
            return f"No. The listing for the {name} says: {c.evidence}"
        if verdict == "yes" and flip is False:
            return f"Yes. The listing for the {name} says: {c.evidence}"
        if verdict == "yes":
            return f"Yes, the {name} is {c.attribute}."
        return f"According to the listing for the {name}: {c.evidence}"
    lead = {"yes": "Yes, ", "no": "No, "}.get(verdict or "", "")
    if c.attribute == "color":
        return f"{lead}the {name} comes in {c.value}."
    return f"{lead}the {name} has {c.attribute} {c.value}."


def policy(c: PolicyRule, rng: random.Random, *, days: int | None = None) -> str:
    window = days if days is not None else c.window_days
    if c.final_sale and days is None:
        subject = f"the {c.product}" if c.product else f"{c.category or 'these'} items"
        return f"Sorry, {subject} is final sale, so it can't be returned."
    scope = f"{c.category} items" if c.category else "most items"
    text = rng.choice(
        [
            f"You can return {scope} within {window} days of delivery.",
            f"You have {window} days from delivery to return {scope}.",
            f"Returns of {scope} are accepted for {window} days after delivery.",
        ]
    )
    if c.condition != "any":  # a correct answer says on what condition ("unopened")
        text += f" They must be {c.condition}."
    fee = f"{c.restocking_fee_pct:g}"
    text += f" A {fee}% restocking fee applies." if fee != "0" else " There's no restocking fee."
    method = "store credit" if c.refund_method == "store_credit" else "your original payment"
    return text + f" Refunds go to {method}."


STATUS = {
    "pending": "is pending",
    "processing": "is being prepared",
    "shipped": "has shipped",
    "delivered": "was delivered",
    "cancelled": "was cancelled",
    "returned": "was returned",
}


def order(c: OrderState, rng: random.Random, *, status: str | None = None) -> str:
    text = f"Your order {c.number} {STATUS[status or c.status]}"
    if c.date and rng.random() < 0.5:
        text += f" on {c.date}"
    text += "."
    if c.tracking:
        text += f" The tracking number is {c.tracking}."
    return text


def eligibility(c: Eligibility, rng: random.Random, *, flip: bool = False) -> str:
    eligible = c.eligible != flip
    verb = "cancelled" if c.action == "cancel" else "returned"
    what = f"order {c.order_number}" if c.action == "cancel" else f"the {c.item}"
    where = f" from order {c.order_number}" if c.action == "return" else ""
    if eligible:
        return f"Good news: {what}{where} can be {verb}."
    reason = "; ".join(c.reasons) or "it isn't eligible"
    return f"Sorry, {what}{where} can't be {verb}: {reason}."


def product_list(c: ProductList, rng: random.Random) -> str:
    shown = [p for p in c.products if p.price is not None][:3] or c.products[:3]
    parts = [f"the {p.name} at {_m(p)}" if p.price is not None else f"the {p.name}" for p in shown]
    joined = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
    return rng.choice([f"Here are some options: {joined}.", f"I found {joined}."])


def correct(plan: AnswerPlan, rng: random.Random) -> str | None:
    """One correct paraphrase of the whole plan (None: a claim this generator can't phrase)."""
    parts = []
    for c in plan.claims:
        if isinstance(c, PriceStock):
            parts.append(price_stock(c, rng))
        elif isinstance(c, Comparison):
            parts.append(comparison(c, rng))
        elif isinstance(c, AttributeAnswer):
            parts.append(attribute(c, rng))
        elif isinstance(c, PolicyRule):
            parts.append(policy(c, rng))
        elif isinstance(c, OrderState):
            parts.append(order(c, rng))
        elif isinstance(c, Eligibility):
            parts.append(eligibility(c, rng))
        elif isinstance(c, ProductList):
            parts.append(product_list(c, rng))
        elif isinstance(c, Notice):
            parts.append(c.text)
        else:
            return None
    return " ".join(parts) or None


Perturb = Callable[[AnswerPlan, random.Random, list[Decimal]], str | None]


def _first(plan: AnswerPlan, kind: type) -> object | None:
    return next((c for c in plan.claims if isinstance(c, kind)), None)


def swapped_comparison(plan: AnswerPlan, rng: random.Random, _: list[Decimal]) -> str | None:
    c = _first(plan, Comparison)
    if not isinstance(c, Comparison) or c.same_price:
        return None
    return comparison(c, rng, swap=True)


def negated_yes_no(plan: AnswerPlan, rng: random.Random, _: list[Decimal]) -> str | None:
    for c in plan.claims:
        if isinstance(c, AttributeAnswer) and (c.verdict or c.value is None):
            return attribute(c, rng, flip=True)
        if isinstance(c, Eligibility):
            return eligibility(c, rng, flip=True)
        if isinstance(c, PriceStock) and c.product.stock is not None:
            p = c.product
            said = "is out of stock" if p.stock else "is in stock"
            return f"The {p.name} costs {_m(p)} and {said}."
        if isinstance(c, PolicyRule) and not c.final_sale:
            return f"Sorry, {c.category or 'these'} items are final sale and can't be returned."
    return None


def wrong_colour(plan: AnswerPlan, rng: random.Random, _: list[Decimal]) -> str | None:
    text = correct(plan, rng)
    named = [p for p in plan.products if p.name in (text or "")]
    if not text or not named:
        return None
    allowed = plan.text().casefold()
    colour = next(c for c in rng.sample(FAKE_COLOURS, len(FAKE_COLOURS)) if c not in allowed)
    return text.replace(named[0].name, f"{named[0].name} in {colour}", 1)


def other_price(plan: AnswerPlan, rng: random.Random, pool: list[Decimal]) -> str | None:
    c = _first(plan, PriceStock)
    allowed = plan.money()
    foreign = [a for a in pool if a not in allowed]
    if not isinstance(c, PriceStock) or not foreign or c.product.price is None:
        return None
    return price_stock(c, rng, price=money(rng.choice(foreign), c.product.currency))


def invented_name(plan: AnswerPlan, rng: random.Random, _: list[Decimal]) -> str | None:
    text = correct(plan, rng)
    named = [p for p in plan.products if p.name in (text or "")]
    if not text or not named:
        return None
    p = named[0]
    noun = " ".join(p.name.split()[-2:])
    fake = f"{rng.choice(FAKE_BRANDS)} {rng.choice(['Pro', 'Air', 'Max', 'Lite'])} {noun}"
    return text.replace(p.name, fake)


def wrong_window(plan: AnswerPlan, rng: random.Random, _: list[Decimal]) -> str | None:
    c = _first(plan, PolicyRule)
    if not isinstance(c, PolicyRule):
        return None
    days = rng.choice([d for d in (14, 30, 45, 60, 90) if d != c.window_days])
    return policy(c, rng, days=days)


def wrong_status(plan: AnswerPlan, rng: random.Random, _: list[Decimal]) -> str | None:
    c = _first(plan, OrderState)
    if not isinstance(c, OrderState):
        return None
    return order(c, rng, status=rng.choice([s for s in STATUS if s != c.status]))


def swapped_prices(plan: AnswerPlan, rng: random.Random, _: list[Decimal]) -> str | None:
    """The right product called cheaper, but each with the other's price."""
    c = _first(plan, Comparison)
    if not isinstance(c, Comparison) or c.same_price:
        return None
    a, b = c.cheaper, c.dearer
    return f"The {a.name} is cheaper at {_m(b)}; the {b.name} costs {_m(a)}."


def wrong_stock(plan: AnswerPlan, rng: random.Random, _: list[Decimal]) -> str | None:
    c = _first(plan, PriceStock)
    if not isinstance(c, PriceStock) or not c.product.stock:
        return None
    p = c.product
    wrong = p.stock + rng.choice([1, 2, 5, 10]) if p.stock else 3
    return f"The {p.name} costs {_m(p)}, and we have {wrong} in stock."


def dropped_price(plan: AnswerPlan, rng: random.Random, _: list[Decimal]) -> str | None:
    """A price question answered with stock only (the demo's old turn 3)."""
    c = _first(plan, PriceStock)
    if not isinstance(c, PriceStock) or c.asks == "stock" or c.product.stock is None:
        return None
    p = c.product
    return f"The {p.name} is currently available, with {p.stock} in stock."


def invented_feature(plan: AnswerPlan, rng: random.Random, _: list[Decimal]) -> str | None:
    text = correct(plan, rng)
    if not text or not plan.products:
        return None
    extra = rng.choice(
        [
            " It is also fully waterproof and comes with a lifetime guarantee.",
            " Customers love its premium titanium finish.",
            " It was voted the most popular choice this year.",
        ]
    )
    return text + extra


def wrong_date(plan: AnswerPlan, rng: random.Random, _: list[Decimal]) -> str | None:
    c = _first(plan, OrderState)
    if not isinstance(c, OrderState) or not c.date:
        return None
    day = int(c.date[8:10])
    date = f"{c.date[:8]}{(day % 27) + 1:02d}"
    return f"Your order {c.number} {STATUS[c.status]} on {date}."


def wrong_refund_method(plan: AnswerPlan, rng: random.Random, _: list[Decimal]) -> str | None:
    c = _first(plan, PolicyRule)
    if not isinstance(c, PolicyRule) or c.final_sale or not c.category:
        return None
    method = "store credit" if c.refund_method == "original_payment" else "your original payment"
    return (
        f"You can return {c.category} items within {c.window_days} days of delivery, and "
        f"refunds go to {method}."
    )


PERTURBATIONS: dict[str, Perturb] = {
    "swapped_prices": swapped_prices,
    "wrong_stock": wrong_stock,
    "dropped_price": dropped_price,
    "invented_feature": invented_feature,
    "wrong_date": wrong_date,
    "wrong_refund_method": wrong_refund_method,
    "swapped_comparison": swapped_comparison,
    "negated_yes_no": negated_yes_no,
    "wrong_colour": wrong_colour,
    "other_price": other_price,
    "invented_name": invented_name,
    "wrong_window": wrong_window,
    "wrong_status": wrong_status,
}
