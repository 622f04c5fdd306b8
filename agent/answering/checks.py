"""Claim-level verification: an answer passes only when every required claim of its plan is
there and every claim it states is supported by the plan."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from shopagent.agent.answering import extract as ex
from shopagent.agent.answering.attribute_checks import attribute_statements
from shopagent.agent.answering.attributes import negated
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
from shopagent.agent.answering.list_checks import list_problems, product_list_problems, real_name
from shopagent.agent.answering.plan import AnswerPlan
from shopagent.agent.answering.words import content_stems, lists, matcher, phrase_pattern

_STOCK_COUNT = re.compile(r"\b(\d+)\s+(?:in stock|left|available|units?|remaining|on hand)", re.I)
_HAVE_COUNT = re.compile(r"\bwe have (\d+)\b", re.I)
_DAYS = re.compile(r"\b(\d+)[\s-]*(?:calendar\s+)?days?\b", re.I)
_PERCENT = re.compile(r"\b(\d+(?:\.\d+)?)\s?%")
_DOESNT_SAY = re.compile(
    r"doesn[’']?t (?:say|mention|state|list|specify)|does not (?:say|mention|state|list|specify)"
    r"|not (?:listed|mentioned|stated|specified)|no (?:information|details?) (?:about|on)"
    r"|(?:can[’']?t|cannot|couldn[’']?t) (?:find|see|tell)",
    re.I,
)
_NO_RETURN = re.compile(
    r"can[’']?t (?:be )?return|cannot (?:be )?return|not (?:be )?returnable|non-returnable"
    r"|no returns|(?:is|are) final[ -]sale",
    re.I,
)


class Context:
    """The answer with its extracted mentions, computed once."""

    def __init__(self, answer: str, plan: AnswerPlan) -> None:
        self.text, self.plan = answer, plan
        self.products = plan.products
        self.mentions = ex.product_mentions(answer, plan.products)
        self.allowed = plan.text()
        self.allowed_fold = " ".join(self.allowed.casefold().split())

    def named(self, p: ProductRef) -> bool:
        return any(self.products[i] is p for i, _ in self.mentions) or (
            len(self.products) == 1 and bool(re.search(r"\b(?:it|it's|its)\b", self.text, re.I))
        )

    def bound(self, pos: int) -> ProductRef | None:
        i = ex.bound_product(self.text, pos, self.mentions)
        if i is None:
            quoted = [p for p in self.products if p.price is not None]
            return quoted[0] if len(quoted) == 1 else None
        return self.products[i]


def verify_plan(answer: str, plan: AnswerPlan) -> list[str]:
    """Problems found (empty: the answer may be shown)."""
    ctx = Context(answer, plan)
    problems = _stated(ctx)
    for claim in plan.claims:
        problems += _required(ctx, claim)
    return list(dict.fromkeys(problems))


# -- every stated claim must be supported -------------------------------------------------
def _stated(ctx: Context) -> list[str]:
    text, plan = ctx.text, ctx.plan
    out: list[str] = []
    allowed_money = plan.money() | _context_money(plan)
    for amount, m in ex.money(text):
        if amount not in allowed_money:
            out.append(f"amount not in tool results: {m.text}")
            continue
        p = ctx.bound(m.start)
        if p is not None and p.price is not None and amount != p.price:
            if amount not in {q.price for q in plan.products if q is not p} - {p.price}:
                continue  # a gap or total bound loosely: already known
            out.append(f"{m.text} is not the price of {p.name}")
    allowed_numbers = ex.number_set(ctx.allowed)
    allowed_numbers |= {str(n) for n in range(1, len(plan.products) + 1)}  # counts, positions
    for value, m in ex.numbers(text):
        if value not in allowed_numbers and not _list_marker(text, m):
            out.append(f"number not in tool results: {m.text}")
    out += _names(ctx)
    out += list_problems(text, plan.claims, plan.products)
    out += _vocab(ctx, "colors", [p.variant for p in plan.products])
    out += _vocab(ctx, "materials", [])
    out += _availability(ctx)
    out += _comparatives(ctx)
    for m in ex.phrases(text, matcher("unsupported_judgements")):
        if m.text.casefold() not in plan.question.casefold():
            out.append(f"judgement no tool supports: {m.text!r}")
    out += _statuses(ctx)
    out += _dates(ctx)
    out += _policy_terms(ctx)
    out += _novel(ctx)
    return out


NOVEL_LIMIT = 2
"""Content words outside the data and the phrasing list an answer may use (more: invented)."""


@lru_cache(maxsize=1)
def _phrasing() -> frozenset[str]:
    known = lists()
    words = [*known["phrasing"], *known["plain_capitals"], *known["negations"]]
    for key in ("availability", "status_phrases", "policy_terms"):
        words += [w for values in known[key].values() for w in values]
    words += known["cheaper_words"] + known["dearer_words"]
    return frozenset(content_stems(" ".join(words)))


def _novel(ctx: Context) -> list[str]:
    novel = content_stems(ctx.text) - content_stems(ctx.allowed) - _phrasing()
    novel = {w for w in novel if not w.isdigit()}
    if len(novel) > NOVEL_LIMIT:
        return [f"says things the data does not: {', '.join(sorted(novel)[:6])}"]
    return []


def _list_marker(text: str, m: ex.Mention) -> bool:
    """``1.`` at the start of a line: a list position, not a claim."""
    line_start = text.rfind("\n", 0, m.start) + 1
    return not text[line_start : m.start].strip() and text[m.end : m.end + 1] in {".", ")"}


def _context_money(plan: AnswerPlan) -> set[Decimal]:
    return {a for a, _ in ex.money("\n".join(plan.context))}


def _names(ctx: Context) -> list[str]:
    out = []
    vocab = set(re.findall(r"[\w'’-]+", ctx.allowed.casefold()))
    for run in ex.capital_runs(ctx.text):
        words = run.text.split()
        phrase = " ".join(run.text.casefold().split())
        if len(words) >= 2 and phrase not in ctx.allowed_fold:
            if not all(w.casefold() in vocab for w in words) or not _name_part(ctx, phrase):
                out.append(f"names something not in the data: {run.text!r}")
        elif len(words) == 1 and words[0].casefold().strip("'’") not in vocab:
            out.append(f"names something not in the data: {run.text!r}")
    return out


def _name_part(ctx: Context, phrase: str) -> bool:
    """A run of known words may rearrange a name only if it is no other product's name part;
    with a brand in it, it must be (part of) a name of that brand."""
    if len(ctx.products) <= 1:
        return True
    branded = any(w in phrase for p in ctx.products for w in [p.brand.casefold()] if w)
    return branded and real_name(phrase, ctx.products)


def _vocab(ctx: Context, key: str, extra: list[str]) -> list[str]:
    out = []
    for m in ex.phrases(ctx.text, phrase_pattern(tuple(lists()[key]))):
        if m.text.casefold() not in ctx.allowed_fold:
            out.append(f"{key[:-1]} not in the data: {m.text!r}")
    del extra
    return out


def _availability(ctx: Context) -> list[str]:
    out = []
    down = any(isinstance(c, Notice) and c.code == "inventory_down" for c in ctx.plan.claims)
    for state in ("in", "out"):
        for m in ex.phrases(ctx.text, matcher("availability", state)):
            says_out = state == "out" or ex.negated_near(ctx.text, m.start, 14)
            if down:
                out.append("states availability while live stock is unknown")
                continue
            p = ctx.bound(m.start)
            if p is None or p.stock is None:
                continue
            if says_out and p.stock > 0:
                out.append(f"says {p.name} is out of stock; stock is {p.stock}")
            if not says_out and p.stock == 0:
                out.append(f"says {p.name} is in stock; it is out of stock")
    for pattern in (_STOCK_COUNT, _HAVE_COUNT):
        for m in pattern.finditer(ctx.text):
            p = ctx.bound(m.start())
            if p is not None and p.stock is not None and int(m.group(1)) != p.stock:
                out.append(f"stock of {p.name} stated as {m.group(1)}; it is {p.stock}")
    if down and ex.money(ctx.text):
        out.append("states a price while live prices are unavailable")
    return out


def _comparatives(ctx: Context) -> list[str]:
    priced = [p for p in ctx.products if p.price is not None]
    if len(priced) < 2:
        return []
    low, high = min(p.price for p in priced), max(p.price for p in priced)  # type: ignore[type-var]
    out = []
    for key, want in (("cheaper_words", low), ("dearer_words", high)):
        for m in ex.phrases(ctx.text, matcher(key)):
            i = ex.bound_product(ctx.text, m.start, ctx.mentions)
            if i is None:
                continue
            p = ctx.products[i]
            negative = ex.negated_near(ctx.text, m.start, 14)
            if low == high:
                out.append(f"compares prices that are equal ({m.text!r})")
            elif p.price is not None and (p.price == want) == negative:
                out.append(f"{p.name} is not {m.text!r}")
    return out


def _statuses(ctx: Context) -> list[str]:
    orders = [c for c in ctx.plan.claims if isinstance(c, OrderState)]
    if not orders:
        return []
    actual = {o.status for o in orders}
    out = []
    for status in lists()["status_phrases"]:
        for m in ex.phrases(ctx.text, matcher("status_phrases", status)):
            modal = re.search(r"\bbe\s+$", ctx.text[max(0, m.start - 4) : m.start])
            if status not in actual and not modal and not ex.negated_near(ctx.text, m.start, 16):
                out.append(f"order status not in tool results: {m.text!r}")
    return out


def _dates(ctx: Context) -> list[str]:
    known = {d for d, _ in ex.dates(ctx.allowed)}
    known |= {d[5:] for d in known if len(d) == 10}
    return [f"date not in tool results: {m.text}" for d, m in ex.dates(ctx.text) if d not in known]


def _policy_terms(ctx: Context) -> list[str]:
    rules = [c for c in ctx.plan.claims if isinstance(c, PolicyRule)]
    if not rules:
        return []
    rule, out = rules[0], []
    days = {str(rule.window_days)} | {m.group(1) for m in _DAYS.finditer(rule.excerpt)}
    for m in _DAYS.finditer(ctx.text):
        if m.group(1) not in days:
            out.append(f"return window stated as {m.group(0)}; it is {rule.window_days} days")
    fees = {f"{rule.restocking_fee_pct:g}"} | {m.group(1) for m in _PERCENT.finditer(rule.excerpt)}
    for m in _PERCENT.finditer(ctx.text):
        if f"{Decimal(m.group(1)):g}" not in fees:
            out.append(f"restocking fee stated as {m.group(0)}")
    if not rule.final_sale and _NO_RETURN.search(ctx.text):
        own = _NO_RETURN.search(rule.excerpt)
        if not own or "marked" not in ctx.text.casefold():
            out.append("says it can't be returned; the rule allows returns")
    excerpt = rule.excerpt.casefold()
    for term, method in (
        ("store_credit", "store_credit"),
        ("original_payment", "original_payment"),
    ):
        said = bool(ex.phrases(ctx.text, matcher("policy_terms", term)))
        general = rule.category is None and term.replace("_", " ") in excerpt
        if said and rule.refund_method != method and not general:
            out.append(f"refund method is not {term.replace('_', ' ')}")
    return out


# -- every required claim must be there ---------------------------------------------------
def _says_money(ctx: Context, amount: Decimal | None) -> bool:
    return amount is not None and any(a == amount for a, _ in ex.money(ctx.text))


def _covers(ctx: Context, text: str, share: float) -> bool:
    want = content_stems(text)
    if not want:  # "1.7 L": no word to match; the value itself must be there
        return " ".join(text.casefold().split()) in " ".join(ctx.text.casefold().split())
    return len(want & content_stems(ctx.text)) >= share * len(want)


def _exact(ctx: Context, value: str) -> bool:
    """A short value ("2 years", "cotton twill") is stated as the data has it ("2-year" is
    not "2 years"); lists of values ("Black, Slate") may be rephrased."""
    if "," in value or len(value.split()) > 4:
        return True
    return " ".join(value.casefold().split()) in " ".join(ctx.text.casefold().split())


def _polarity_negative(ctx: Context) -> bool:
    first = ex.sentence_bounds(ctx.text)[:1]
    head = ctx.text[first[0][0] : first[0][1]] if first else ctx.text
    said = re.match(r"\s*(yes|no)\b", head, re.I)  # "Yes, it's final sale, so it can't..."
    return said.group(1).casefold() == "no" if said else negated(head)


def _required(ctx: Context, c: object) -> list[str]:
    text = ctx.text
    if isinstance(c, PriceStock):
        p, out = c.product, []
        if not ctx.named(p):
            out.append(f"does not name {p.name}")
        if c.asks in {"price", "both"} and not _says_money(ctx, p.price):
            out.append(f"does not state the price {p.price}")
        if c.asks in {"stock", "both"} and p.stock is not None:
            states = any(ex.phrases(text, matcher("availability", s)) for s in ("in", "out"))
            if not states and str(p.stock) not in {n for n, _ in ex.numbers(text)}:
                out.append("does not say whether it is in stock")
            if p.stock == 0 and not (
                ex.phrases(text, matcher("availability", "out")) or _NEG_STOCK.search(text)
            ):
                out.append("does not say it is out of stock")
        return out
    if isinstance(c, Comparison):
        out = [f"does not name {p.name}" for p in (c.cheaper, c.dearer) if not ctx.named(p)]
        out += [
            f"does not state {p.price}"
            for p in (c.cheaper, c.dearer)
            if not _says_money(ctx, p.price)
        ]
        if (
            not c.same_price
            and not ex.phrases(text, matcher("cheaper_words"))
            and not ex.phrases(text, matcher("dearer_words"))
        ):
            out.append("does not say which is cheaper")
        return out
    if isinstance(c, AttributeAnswer):
        out = [] if ctx.named(c.product) else [f"does not name {c.product.name}"]
        if c.value is None:
            if not _DOESNT_SAY.search(text):
                out.append("does not say that the listing lacks it")
            if re.match(r"\s*yes\b", text, re.I):
                out.append("answers yes to what the listing doesn't say")
        elif not _covers(ctx, c.evidence or c.value, 0.5 if c.evidence else 0.6) or (
            not c.evidence and not _exact(ctx, c.value)
        ):
            out.append(f"does not state the {c.attribute}")
        if c.verdict == "yes" and _polarity_negative(ctx) and not negated(c.evidence or ""):
            out.append("answers no; the data says yes")
        if c.verdict == "no" and not _polarity_negative(ctx):
            out.append("answers yes; the data says no")
        return out + attribute_statements(text, c, ctx.mentions)
    if isinstance(c, Features):
        hits = sum(_covers(ctx, f, 0.6) for f in c.features)
        need = min(2, len(c.features))
        return [] if hits >= need else ["states too few of the product's features"]
    if isinstance(c, ProductList):
        return product_list_problems(ctx.text, c, ctx.products, ctx.mentions)
    if isinstance(c, PolicyRule):
        if c.final_sale:  # why it can't be returned: "final sale", not just "no"
            ok = re.search(r"final[ -]sale", text, re.I)
            return [] if ok else ["does not say it is final sale"]
        out = []
        if str(c.window_days) not in {n for n, _ in ex.numbers(text)}:
            out.append(f"does not state the {c.window_days}-day window")
        question = ctx.plan.question
        if (
            c.condition != "any"
            and matcher("asks_condition").search(question)
            and c.condition.casefold() not in text.casefold()
        ):  # "can I return opened beauty products?": only unopened
            out.append(f"does not say items must be {c.condition}")
        if matcher("asks_refund").search(question) and not ex.phrases(
            text, matcher("policy_terms", c.refund_method)
        ):
            out.append("does not say where the refund goes")
        fee = f"{Decimal(c.restocking_fee_pct):g}%"
        if (
            matcher("asks_fee").search(question)
            and fee not in text
            and "no restocking" not in (text.casefold())
        ):
            out.append("does not state the restocking fee")
        return out
    if isinstance(c, OrderState):
        out = [] if c.number in text else [f"does not name order {c.number}"]
        if not ex.phrases(text, matcher("status_phrases", c.status)):
            out.append(f"does not say the order is {c.status}")
        if c.tracking and c.tracking not in text:
            out.append("does not give the tracking number")
        return out
    if isinstance(c, Eligibility):
        out = [] if (c.order_number in text or (c.item and c.item in text)) else ["names no order"]
        if c.eligible == _polarity_negative(ctx):
            out.append("gets the eligibility verdict wrong")
        return out
    if isinstance(c, Notice):
        return [] if _covers(ctx, c.text, 0.4) else ["does not say what went wrong"]
    return []


_NEG_STOCK = re.compile(r"(?:not|n[’']t)\s+(?:in stock|available)|none left|sold out", re.I)
