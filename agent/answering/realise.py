"""The template realiser: a plan's claims in short, complete, natural sentences.

Every sentence answers the question asked (the price of the asked variant, the verdict of a
yes/no question, the rule of the product's own category), never a dump of every fact.
"""

from __future__ import annotations

from decimal import Decimal

from shopagent.agent.answering.attributes import is_yes_no, sentences
from shopagent.agent.answering.claims import (
    AttributeAnswer,
    Comparison,
    Eligibility,
    Features,
    Notice,
    OrderState,
    PolicyRule,
    PriceStock,
    ProductList,
    ProductRef,
)
from shopagent.agent.answering.facts import STATUS_WORDS, money
from shopagent.agent.answering.plan import AnswerPlan
from shopagent.agent.answering.words import content_stems, lists, matcher

LIST_LIMIT = 5
"""Values listed before the rest are summarised ("and 3 more")."""


def join_list(items: list[str], limit: int = LIST_LIMIT) -> str:
    """``a, b and c``; past ``limit`` items the rest become "and N more"."""
    items = [i for i in items if i]
    if len(items) > limit:
        shown = items[: limit - 1]
        return ", ".join(shown) + f" and {len(items) - len(shown)} more"
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def label(p: ProductRef, *, variant: bool = True) -> str:
    """The product's name, with the asked variant when it has one ("the X in Slate")."""
    text = f"the {p.name}"
    if variant and p.variant:
        text += f" in {p.variant}"
    return text


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _price(p: ProductRef) -> str:
    return money(p.price, p.currency) if p.price is not None else ""


def _stock(p: ProductRef) -> str:
    if p.stock is None:
        return ""
    return f"we have {p.stock} in stock" if p.stock > 0 else "it's out of stock right now"


def price_stock(c: PriceStock, question: str = "") -> str:
    p = c.product
    name = label(p)
    if c.asks == "stock":
        if p.stock and p.stock > 0:
            if is_yes_no(question):
                return f"Yes, {name} is available: {p.stock} in stock, at {_price(p)} each."
            return f"We have {p.stock} of {name} in stock, at {_price(p)} each."
        lead = "No, sorry" if is_yes_no(question) else "Sorry"
        return f"{lead}, {name} is out of stock right now. It's listed at {_price(p)}."
    if c.asks == "price":
        tail = f", and {_stock(p)}" if p.stock is not None else ""
        return f"{_cap(name)} costs {_price(p)}{tail}."
    return f"{_cap(name)} costs {_price(p)}, and {_stock(p)}."


def comparison(c: Comparison) -> str:
    a, b = c.cheaper, c.dearer
    if c.same_price:
        return f"Both cost {_price(a)}: {label(a)} and {label(b)}."
    return f"{_cap(label(a))} is cheaper at {_price(a)}; {label(b)} costs {_price(b)}."


def _quoted(sentence: str) -> str:
    return "\u201c" + sentence.strip() + "\u201d"


def attribute(c: AttributeAnswer, question: str) -> str:
    name = label(c.product, variant=False)
    if c.attribute == "brand":
        return f"{_cap(name)} is made by {c.value}."
    if c.attribute == "final sale":
        if c.verdict == "yes":
            return f"Yes, {name} is final sale, so it can't be returned."
        return f"No, {name} isn't final sale."
    if c.value is None:
        text = f"The listing for {name} doesn't say."
        if c.evidence:
            text += f" The closest it comes is: {_quoted(c.evidence)}"
        return text
    if c.evidence:  # the value is a listing sentence
        lead = {"yes": "Yes. ", "no": "No. "}.get(c.verdict or "", "")
        return f"{lead}The listing for {name} says: {_quoted(c.evidence)}"
    if c.attribute in {"color", "size"}:
        values = [v.strip() for v in c.value.split(",")]
        kind = "colours" if c.attribute == "color" else "sizes"
        if c.verdict == "yes":
            return f"Yes, {name} comes in {c.value}."
        if c.verdict == "no":
            return f"No, {name} doesn't come in that; its {kind} are {join_list(values)}."
        return f"{_cap(name)} comes in {join_list(values)}."
    lead = {"yes": "Yes, ", "no": "No, "}.get(c.verdict or "", "")
    if c.attribute.casefold() == "material":
        return f"{lead}{name if lead else _cap(name)} is made of {c.value}."
    return f"{lead}{'the' if lead else 'The'} {c.attribute} of {name} is {c.value}."


def features(c: Features) -> str:
    """2-3 features in sentences: list items as "stands out for", attributes as "its X is
    Y", description sentences quoted."""
    p = c.product
    head = f"{_cap(label(p, variant=False))}" + (f" by {p.brand}" if p.brand else "")
    if not c.features:
        return f"{head} is in our {p.category} range."
    items, attrs, quoted = [], [], []
    for f in c.features:
        key, sep, value = f.partition(": ")
        if f.endswith((".", "!", "?")):
            quoted.append(f)
        elif (
            f.split(" ", 1)[0].casefold() in lists()["clause_starts"]
        ):  # "it keeps you warm": a clause
            quoted.append(_cap(f) + ".")
        elif sep and key in c.attributes:
            attrs.append(f"its {key.casefold()} is {value}")
        else:
            items.append(f[:1].lower() + f[1:] if not f[:2].isupper() else f)
    out = [f"{head} stands out for {join_list(items, 3)}."] if items else []
    if attrs:
        said = join_list(attrs, 3)
        out.append(_cap(said) + "." if out else f"{head}: {said}.")
    if quoted:
        about = label(p, variant=False) + (f" by {p.brand}" if p.brand else "")
        lead = "The listing also says:" if out else f"Here's what the listing says about {about}:"
        out.append(" ".join([lead, *(_quoted(s) for s in quoted)]))
    return " ".join(out)


def product_list(c: ProductList) -> str:
    head = f"I found {len(c.products)} option{'s' if len(c.products) != 1 else ''}:"
    if c.found > len(c.products):
        head = f"I found {c.found} options; these are the closest matches:"
    if c.based_on:
        head = f"Based on your recent order of {' and '.join(c.based_on)}, you might like:"
    lines = []
    for i, p in enumerate(c.products, 1):
        line = f"{i}. {p.name}" + (f" ({p.brand})" if p.brand else "")
        if p.price is not None:
            line += f": {_price(p)}, " + ("in stock" if p.stock else "out of stock")
        lines.append(line + ".")
    text = head + "\n" + "\n".join(lines)
    if c.left_out:
        text += f"\nI left out {join_list(c.left_out)}, which you bought recently."
    return text


CONDITIONS = {"any": "in any condition", "unused": "unused", "unopened": "unopened"}
METHODS = {"store_credit": "store credit", "original_payment": "your original payment method"}


def policy(c: PolicyRule, question: str) -> str:
    if c.product and c.final_sale:
        return f"The {c.product} is final sale, so it can't be returned."
    scope = f"{c.category} items" if c.category else "Most items"
    if c.final_sale:
        return f"{scope} are final sale and can't be returned."
    subject = f"the {c.product}" if c.product else scope.lower() if c.category else "most items"
    text = (
        f"You can return {subject} within {c.window_days} days of delivery if "
        f"{'it is' if c.product else 'they are'} {CONDITIONS.get(c.condition, c.condition)}"
    )
    fee = Decimal(c.restocking_fee_pct)
    text += f", minus a {fee:g}% restocking fee" if fee else ", with no restocking fee"
    text += f"; refunds go to {METHODS.get(c.refund_method, c.refund_method)}."
    lead = _policy_lead(c, question)
    extra = _best_sentence(c.excerpt, question, f"{lead} {text}")
    return " ".join(x for x in (lead, text, extra) if x)


def _policy_lead(c: PolicyRule, question: str) -> str:
    """The direct answer to a fee or refund-method question, before the rule."""
    scope = f"{c.category} returns" if c.category else "returns"
    if matcher("asks_fee").search(question):
        fee = Decimal(c.restocking_fee_pct)
        if fee:
            return f"Yes, {scope} have a {fee:g}% restocking fee."
        return f"No, there's no restocking fee on {scope}."
    if matcher("asks_refund").search(question) and not matcher("asks_window").search(question):
        return f"Refunds for {scope} go to {METHODS.get(c.refund_method, c.refund_method)}."
    return ""


def _best_sentence(excerpt: str, question: str, already: str) -> str:
    """The excerpt sentence that best answers what the rule sentence leaves out."""
    asked, said = content_stems(question), content_stems(already)
    prose = " ".join(line for line in excerpt.splitlines() if not line.lstrip().startswith("|"))
    scored = [
        (len(asked & content_stems(s)), s)
        for s in sentences(prose)
        if len(content_stems(s) - said) >= 3 and len(s) < 240 and "(see" not in s
    ]
    scored = [(n, s) for n, s in scored if n]
    return max(scored, key=lambda p: p[0])[1] if scored else ""


DATED = {"shipped": "shipped"}
"""Status words before a date ("shipped on 2026-11-20", not "has shipped on")."""


def order(c: OrderState) -> str:
    text = f"Order {c.number} {STATUS_WORDS.get(c.status, c.status)}"
    if c.date:
        text = f"Order {c.number} {DATED.get(c.status, STATUS_WORDS.get(c.status, c.status))}"
        text += f" on {c.date}"
    text += "."
    if c.tracking:
        text += f" It's with {c.carrier or 'the carrier'}, tracking number {c.tracking}."
    if c.items:
        text += f" It has {join_list(c.items, 3)}."
    if c.next_step:
        text += f" {c.next_step}"
    return text


def eligibility(c: Eligibility) -> str:
    what = f"Order {c.order_number}" if c.action == "cancel" else f"The {c.item}"
    verb = "cancelled" if c.action == "cancel" else "returned"
    where = f" (order {c.order_number})" if c.action == "return" else ""
    if c.eligible:
        return f"{what}{where} can be {verb}."
    reason = "; ".join(c.reasons) or "it isn't eligible"
    return f"{what}{where} can't be {verb}: {reason}."


def realise(plan: AnswerPlan) -> str:
    """The plan's claims as the answer (empty when the plan has no claims)."""
    parts: list[str] = []
    for c in plan.claims:
        if isinstance(c, PriceStock):
            parts.append(price_stock(c, plan.question))
        elif isinstance(c, Comparison):
            parts.append(comparison(c))
        elif isinstance(c, AttributeAnswer):
            parts.append(attribute(c, plan.question))
        elif isinstance(c, Features):
            parts.append(features(c))
        elif isinstance(c, ProductList):
            parts.append(product_list(c))
        elif isinstance(c, PolicyRule):
            parts.append(policy(c, plan.question))
        elif isinstance(c, OrderState):
            parts.append(order(c))
        elif isinstance(c, Eligibility):
            parts.append(eligibility(c))
        elif isinstance(c, Notice):
            parts.append(c.text)
    return "\n\n".join(parts)
