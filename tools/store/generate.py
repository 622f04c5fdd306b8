"""Seeded demo-store generator: a plausible catalog, customers, orders and return policy.

Everything is drawn from one ``random.Random(seed)``, so the same arguments always give the
same store. The only notion of time is the ``today`` argument.
"""

from __future__ import annotations

import functools
import random
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from shopagent.tools.store import vocab
from shopagent.tools.store.files import gc_paused, write_store
from shopagent.tools.store.schema import (
    Customer,
    Order,
    OrderItem,
    OrderStatus,
    Product,
    ReturnPolicy,
    ReturnRule,
    StockLevel,
    StoreData,
    StoreInfo,
    Variant,
)

STORE_INFO = StoreInfo(
    name="Northwind Goods",
    currency="USD",
    timezone="America/Chicago",
    support_email="help@northwindgoods.example",
    support_hours="Mon–Fri 8am–6pm CT, Sat 9am–1pm CT",
)

RETURN_POLICY = ReturnPolicy(
    default=ReturnRule(window_days=30, condition="unused"),
    categories={
        "Electronics": ReturnRule(
            window_days=30, condition="unopened", restocking_fee_pct=Decimal(15)
        ),
        "Audio": ReturnRule(window_days=30, condition="unopened", restocking_fee_pct=Decimal(10)),
        "Apparel": ReturnRule(window_days=60, condition="unused"),
        "Footwear": ReturnRule(window_days=60, condition="unused"),
        "Outdoor & Camping": ReturnRule(window_days=45, condition="unused"),
        "Sports & Fitness": ReturnRule(window_days=45, condition="unused"),
        "Toys & Games": ReturnRule(window_days=45, condition="unopened"),
        "Beauty & Personal Care": ReturnRule(window_days=30, condition="unopened"),
        "Home Decor": ReturnRule(window_days=30, condition="unused", refund_method="store_credit"),
        "Bedding & Bath": ReturnRule(
            window_days=30, condition="unopened", refund_method="store_credit"
        ),
        "Pet Supplies": ReturnRule(window_days=30, condition="any"),
    },
)

FINAL_SALE_SHARE = 0.03
ZERO_STOCK_SHARE = 0.08
LOW_STOCK_SHARE = 0.12
ORDER_NUMBER_START = 100001
STATUS_WEIGHTS: dict[OrderStatus, int] = {
    "pending": 5,
    "processing": 7,
    "shipped": 10,
    "delivered": 60,
    "cancelled": 8,
    "returned": 10,
}
REFUND_TIMING = "5–10 business days"
CONDITION_TEXT = {
    "any": "in any condition, even if used",
    "unused": "unused and in their original condition, with all tags and packaging",
    "unopened": "unopened, in their original sealed packaging",
}
REFUND_TEXT = {"original_payment": "original payment method", "store_credit": "store credit"}
_SMALL_WORDS = frozenset({"a", "an", "and", "of", "or", "the", "to", "with", "for", "in", "on"})


def generate_store(
    *,
    seed: int = 7,
    n_products: int = 1200,
    n_customers: int = 250,
    n_orders: int = 1500,
    today: date,
) -> StoreData:
    """A complete demo store, identical for identical arguments.

    Every customer gets at least one order, so ``n_orders`` must be >= ``n_customers``.
    """
    if n_products < 1 or n_customers < 1 or n_orders < n_customers:
        raise ValueError("need n_products >= 1, n_customers >= 1 and n_orders >= n_customers")
    with gc_paused():
        return _generate(random.Random(seed), n_products, n_customers, n_orders, today)


def _generate(
    rng: random.Random, n_products: int, n_customers: int, n_orders: int, today: date
) -> StoreData:
    products = _products(rng, n_products)
    customers = _customers(rng, n_customers)
    categories = [c.name for c in vocab.CATEGORIES]
    return StoreData(
        info=STORE_INFO,
        products=products,
        stock=_stock(rng, products),
        customers=customers,
        orders=_orders(rng, products, customers, n_orders, today),
        policy=RETURN_POLICY,
        policy_docs=render_policy_docs(RETURN_POLICY, categories, STORE_INFO),
    )


def write_demo_store(
    directory: Path, *, seed: int = 7, n_products: int = 1200, today: date
) -> StoreData:
    """Generate the demo store and write it to ``directory`` (replacing any store there)."""
    data = generate_store(seed=seed, n_products=n_products, today=today)
    write_store(data, directory)
    return data


def category_slug(category: str) -> str:
    """The file-name form of a category: ``"Coffee & Tea"`` -> ``"coffee-tea"``."""
    return re.sub(r"[^a-z0-9]+", "-", category.casefold()).strip("-")


# --- products -------------------------------------------------------------------------


def _products(rng: random.Random, count: int) -> list[Product]:
    cats = [vocab.CATEGORIES[i % len(vocab.CATEGORIES)] for i in range(count)]
    rng.shuffle(cats)
    products = [_product(rng, number, cat) for number, cat in enumerate(cats, start=1)]
    seen: dict[str, int] = {}
    for i, product in enumerate(products):  # a shop does not sell two products of one name
        seen[product.name] = seen.get(product.name, 0) + 1
        if seen[product.name] > 1:
            products[i] = product.model_copy(
                update={"name": f"{product.name} Gen {seen[product.name]}"}
            )
    return products


def _product(rng: random.Random, number: int, cat: vocab.Category) -> Product:
    ptype = rng.choice(cat.types)
    brand, line = rng.choice(cat.brands), rng.choice(cat.lines)
    attributes = _attributes(rng, cat, ptype)
    features = rng.sample(ptype.features, 3)
    final_sale = rng.random() < FINAL_SALE_SHARE
    return Product(
        id=f"P-{number:06d}",
        name=_name(rng, brand, line, ptype, attributes, features[0]),
        brand=brand,
        category=cat.name,
        description=_description(rng, cat, ptype, brand, line, features, attributes),
        attributes=attributes,
        tags=_tags(rng, cat, ptype, final_sale),
        final_sale=final_sale,
        variants=_variants(rng, cat, ptype, number),
    )


def _attributes(
    rng: random.Random, cat: vocab.Category, ptype: vocab.ProductType
) -> dict[str, str]:
    lists = {"@colors": cat.colors, "@materials": cat.materials}
    specs = {**ptype.attributes, **cat.extra_attributes}
    return {key: rng.choice(lists.get(spec, spec)) for key, spec in specs.items()}


def _name(
    rng: random.Random,
    brand: str,
    line: str,
    ptype: vocab.ProductType,
    attributes: dict[str, str],
    feature: str,
) -> str:
    value = attributes.get(ptype.name_attr, "")
    attr = re.sub(r"(\d) in$", r'\1"', value) + " " if value else ""
    return rng.choice(vocab.NAME_PATTERNS).format(
        brand=brand,
        line=line,
        model=rng.choice(vocab.MODELS),
        attr=attr,
        Noun=_title(ptype.noun),
        Feature=_title(feature),
    )


@functools.cache
def _title(phrase: str) -> str:
    """Title case that keeps small words, numbers and mixed-case words (mAh, 4K) as they are."""
    words = phrase.split(" ")
    return " ".join(
        w if (i and w in _SMALL_WORDS) else "-".join(_cap(part) for part in w.split("-"))
        for i, w in enumerate(words)
    )


def _cap(word: str) -> str:
    if word[1:] != word[1:].lower():
        return word
    return _upper_first(word)


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _description(
    rng: random.Random,
    cat: vocab.Category,
    ptype: vocab.ProductType,
    brand: str,
    line: str,
    features: list[str],
    attributes: dict[str, str],
) -> str:
    fields = _phrase_fields(rng, cat, ptype, brand, line, features, attributes)
    pools = [vocab.FEATURE_SENTENCES, vocab.USE_SENTENCES, vocab.CLOSING_SENTENCES]
    if "material" in attributes:
        pools.append(vocab.MATERIAL_SENTENCES)
    chosen = rng.sample(pools, rng.randint(1, 3))
    templates = [rng.choice(vocab.OPENERS), *(rng.choice(pool) for pool in chosen)]
    return " ".join(_upper_first(t.format(**fields)) for t in templates)


def _phrase_fields(
    rng: random.Random,
    cat: vocab.Category,
    ptype: vocab.ProductType,
    brand: str,
    line: str,
    features: list[str],
    attributes: dict[str, str],
) -> dict[str, str]:
    plural = ptype.noun.endswith("s") and not ptype.noun.endswith("ss")
    specific = vocab.TYPE_BENEFITS[ptype.noun]
    benefit = rng.choice(specific)
    benefit2 = rng.choice([b for b in (*specific, *cat.benefits) if b != benefit])
    use, use2 = rng.sample((*vocab.TYPE_USES.get(ptype.noun, ()), *cat.uses), 2)
    pronouns = (
        {"it": "they", "it_obj": "them", "its": "their", "it_s": "They're", "this": "these"}
        if plural
        else {"it": "it", "it_obj": "it", "its": "its", "it_s": "It's", "this": "this"}
    )
    return {
        **pronouns,
        "It": _upper_first(pronouns["it"]),
        "Its": _upper_first(pronouns["its"]),
        "This": _upper_first(pronouns["this"]),
        "it_s_lower": pronouns["it_s"].lower(),
        "brand": brand,
        "line": line,
        "noun": ptype.noun,
        "a_noun": ptype.noun if plural else _with_article(ptype.noun),
        "aka": rng.choice(ptype.aka) if ptype.aka else ptype.noun,
        "feature1": features[0],
        "feature2": features[1],
        "feature3": features[2],
        "benefit": _agree(benefit, plural),
        "benefit2": _agree(benefit2, plural),
        "quality": _agree(rng.choice(cat.qualities), plural),
        "use": use,
        "use2": use2,
        "audience": rng.choice(cat.audiences),
        "material": attributes.get("material", ""),
    }


def _with_article(noun: str) -> str:
    return f"{'an' if noun[0].lower() in 'aeiou' else 'a'} {noun}"


def _agree(phrase: str, plural: bool) -> str:
    """Make a third-person-singular verb phrase agree with a plural subject."""
    if not plural:
        return phrase
    verb, _, rest = phrase.partition(" ")
    irregular = {"is": "are", "has": "have", "does": "do"}
    if verb in irregular:
        verb = irregular[verb]
    elif verb.endswith(("ches", "shes", "sses", "xes")):
        verb = verb[:-2]
    elif verb.endswith("s"):
        verb = verb[:-1]
    return f"{verb} {rest}".strip()


def _tags(
    rng: random.Random, cat: vocab.Category, ptype: vocab.ProductType, final_sale: bool
) -> list[str]:
    tags = [ptype.noun.lower(), *(a.lower() for a in ptype.aka), *rng.sample(cat.tags, 2)]
    if rng.random() < 0.3:
        tags.append(rng.choice(vocab.EXTRA_TAGS))
    if final_sale:
        tags += ["clearance", "final sale"]
    return list(dict.fromkeys(tags))


def _variants(
    rng: random.Random, cat: vocab.Category, ptype: vocab.ProductType, number: int
) -> list[Variant]:
    axis = vocab.AXES[ptype.axis]
    options = axis.options or (cat.colors if axis.name == "color" else ())
    count = min(len(options), rng.choices((1, 2, 3, 4), weights=(35, 25, 20, 20))[0])
    if not axis.name:
        indexes: Sequence[int] = [-1]
    elif axis.ordered:
        start = rng.randrange(len(options) - count + 1)
        indexes = range(start, start + count)
    else:
        indexes = sorted(rng.sample(range(len(options)), count))
    base = rng.uniform(*ptype.price)
    ending = rng.choices((".99", ".49", ".00"), weights=(65, 20, 15))[0]
    variants: list[Variant] = []
    codes: set[str] = set()
    for i in indexes:
        option = options[i] if i >= 0 else ""
        multiplier = axis.multipliers[i] if axis.multipliers else 1.0
        code = _sku_code(option, codes)
        variants.append(
            Variant(
                sku=f"{cat.code}-{number:06d}{code}",
                attributes={axis.name: option} if option else {},
                price=Decimal(f"{max(1, int(base * multiplier))}{ending}"),
            )
        )
    return variants


def _sku_code(option: str, taken: set[str]) -> str:
    words = re.findall(r"[A-Za-z0-9]+", unicodedata.normalize("NFKD", option))
    code = words[0][:6] if len(words) == 1 else "".join(w[:3] for w in words)[:9]
    code = f"-{code.upper()}" if code else ""
    if code in taken:
        code += str(len(taken))
    taken.add(code)
    return code


def _stock(rng: random.Random, products: list[Product]) -> list[StockLevel]:
    levels = []
    for product in products:
        for variant in product.variants:
            roll = rng.random()
            if roll < ZERO_STOCK_SHARE:
                units = 0
            elif roll < ZERO_STOCK_SHARE + LOW_STOCK_SHARE:
                units = rng.randint(1, 5)
            else:
                units = rng.randint(6, 250)
            levels.append(StockLevel(sku=variant.sku, stock=units))
    return levels


# --- customers ------------------------------------------------------------------------


def _customers(rng: random.Random, count: int) -> list[Customer]:
    emails: set[str] = set()
    customers = []
    for number in range(1, count + 1):
        first, last = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.LAST_NAMES)
        customers.append(
            Customer(
                id=f"C-{number:05d}",
                name=f"{first} {last}",
                email=_email(rng, first, last, emails),
                zip=rng.choice(vocab.ZIP_PREFIXES) + f"{rng.randrange(100):02d}",
            )
        )
    return customers


def _email(rng: random.Random, first: str, last: str, taken: set[str]) -> str:
    f, la = _ascii_lower(first), _ascii_lower(last)
    local = rng.choice((f"{f}.{la}", f"{f}{la}", f"{f[0]}{la}", f"{f}_{la}", f"{f}{la[0]}"))
    if rng.random() < 0.3:
        local += str(rng.choice((rng.randint(1, 99), rng.randint(1960, 2005))))
    domain = rng.choice(vocab.EMAIL_DOMAINS)
    email = f"{local}@{domain}"
    while email in taken:
        email = f"{local}{rng.randint(1, 999)}@{domain}"
    taken.add(email)
    return email


def _ascii_lower(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", plain.lower())


# --- orders ---------------------------------------------------------------------------


def _orders(
    rng: random.Random,
    products: list[Product],
    customers: list[Customer],
    count: int,
    today: date,
) -> list[Order]:
    ids = [c.id for c in customers]
    loyalty = [rng.expovariate(1.0) for _ in ids]
    owners = ids + rng.choices(ids, weights=loyalty, k=count - len(ids))
    rng.shuffle(owners)
    drafts = [_order_fields(rng, owner, products, today) for owner in owners]
    drafts.sort(key=lambda d: d["placed_at"])
    return [Order(number=f"SA-{ORDER_NUMBER_START + i}", **draft) for i, draft in enumerate(drafts)]


def _order_fields(
    rng: random.Random, customer_id: str, products: list[Product], today: date
) -> dict[str, Any]:
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    dates = _lifecycle_dates(rng, status, today)
    placed = dates.pop("placed")
    clock = time(rng.randint(6, 22), rng.randint(0, 59), rng.randint(0, 59))
    fields: dict[str, Any] = {
        "customer_id": customer_id,
        "status": status,
        "placed_at": datetime.combine(placed, clock, tzinfo=UTC),
        "items": _items(rng, products),
        **dates,
    }
    if "shipped_at" in dates:
        fields["carrier"] = rng.choice(vocab.CARRIERS)
        fields["tracking_number"] = _tracking_number(rng, fields["carrier"])
    return fields


def _lifecycle_dates(rng: random.Random, status: OrderStatus, today: date) -> dict[str, date]:
    """Dates for an order of ``status``, counted back from ``today`` so they stay in order."""

    def back(start: date, low: int, high: int) -> date:
        return start - timedelta(days=rng.randint(low, high))

    if status == "pending":
        return {"placed": back(today, 0, 1)}
    if status == "processing":
        return {"placed": back(today, 0, 3)}
    if status == "cancelled":
        cancelled = back(today, 0, 110)
        return {"placed": back(cancelled, 0, 2), "cancelled_at": cancelled}
    dates: dict[str, date] = {}
    if status == "returned":
        dates["returned_at"] = back(today, 0, 40)
        dates["delivered_at"] = back(dates["returned_at"], 1, 40)
    elif status == "delivered":
        dates["delivered_at"] = back(today, 0, 120)
    dates["shipped_at"] = back(dates.get("delivered_at", today), 0 if status == "shipped" else 1, 5)
    dates["placed"] = back(dates["shipped_at"], 0, 2)
    return dates


def _tracking_number(rng: random.Random, carrier: str) -> str:
    digits = "0123456789"
    if carrier == "UPS":
        return "1Z" + "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ" + digits, k=16))
    if carrier == "USPS":
        return "9400" + "".join(rng.choices(digits, k=18))
    return "".join(rng.choices(digits, k=12))


def _items(rng: random.Random, products: list[Product]) -> list[OrderItem]:
    count = rng.choices((1, 2, 3, 4), weights=(55, 25, 13, 7))[0]
    items = []
    for product in rng.sample(products, min(count, len(products))):
        variant = rng.choice(product.variants)
        label = " / ".join(variant.attributes.values())
        items.append(
            OrderItem(
                sku=variant.sku,
                product_id=product.id,
                name=f"{product.name} ({label})" if label else product.name,
                quantity=rng.choices((1, 2, 3), weights=(80, 15, 5))[0],
                unit_price=variant.price,
            )
        )
    return items


# --- policy documents -----------------------------------------------------------------


def render_policy_docs(
    policy: ReturnPolicy, categories: Sequence[str], info: StoreInfo
) -> dict[str, str]:
    """Markdown policy documents generated from ``policy``, so their numbers always match.

    Returns ``{"returns": general doc, "returns-<category-slug>": one doc per category}``.
    """
    docs = {"returns": _general_doc(policy, categories, info)}
    for category in categories:
        docs[f"returns-{category_slug(category)}"] = _category_doc(
            category, policy.rule_for(category), info
        )
    return docs


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def _returnable(rule: ReturnRule) -> bool:
    return not rule.final_sale and rule.window_days > 0


def _window_row(label: str, rule: ReturnRule) -> str:
    if not _returnable(rule):
        return f"| {label} | not returnable (final sale) | – | – | – |"
    fee = _pct(rule.restocking_fee_pct) if rule.restocking_fee_pct else "none"
    return (
        f"| {label} | {rule.window_days} days | {rule.condition} | {fee} "
        f"| {REFUND_TEXT[rule.refund_method]} |"
    )


def _general_doc(policy: ReturnPolicy, categories: Sequence[str], info: StoreInfo) -> str:
    rules = {c: policy.rule_for(c) for c in categories}
    fees = [f"{c}: {_pct(r.restocking_fee_pct)}" for c, r in rules.items() if r.restocking_fee_pct]
    credit = [c for c, r in rules.items() if r.refund_method == "store_credit"]
    all_final = [c for c, r in rules.items() if not _returnable(r)]
    rows = "\n".join(_window_row(c, r) for c, r in sorted(rules.items()))
    sections = [
        f"# Returns and refunds at {info.name}",
        "We want you to love what you buy. If something isn't right, you can return most "
        "items within the return window for their category, counted from the day the order "
        "was delivered.",
        "## How returns work",
        "Each category has its own return window and condition rules (see the table below). "
        "Start your return before the window closes, send the item back in the required "
        "condition, and we refund you once the item has arrived and been inspected. The "
        "window is counted in calendar days from the delivery date shown on your order.",
        "## Return windows",
        "| Category | Window | Condition | Restocking fee | Refund method |\n"
        "| --- | --- | --- | --- | --- |\n"
        f"{rows}\n{_window_row('All other items', policy.default)}",
        "Conditions: *any* means the item may be used; *unused* means "
        f"{CONDITION_TEXT['unused']}; *unopened* means {CONDITION_TEXT['unopened']}.",
        "## Refund methods and timing",
        "Refunds go back to your original payment method within "
        f"{REFUND_TIMING} after we receive and inspect your return."
        + (
            f" Returns from {_join(credit)} are refunded as store credit, which never expires "
            "and is usable on anything in the shop."
            if credit
            else ""
        )
        + " Original shipping charges are refunded only if the item arrived damaged, "
        "defective or not as ordered.",
        "## Restocking fees",
        (
            "A restocking fee is deducted from the refund for returns in these categories: "
            f"{'; '.join(fees)}. No other category charges a restocking fee."
            if fees
            else "We don't charge restocking fees."
        ),
        "## Final sale items",
        "Items marked final sale (for example clearance items) cannot be returned or "
        "exchanged unless they arrive damaged or defective."
        + (f" All items in {_join(all_final)} are final sale." if all_final else ""),
        "## Damaged or defective items",
        "If an item arrives damaged or defective, or we sent the wrong item, contact us "
        "within the return window for its category. We replace it or refund it in full "
        "to your original payment method: no restocking fee, no condition requirement, "
        "and we cover return shipping. This also applies to final sale items.",
        "## Exchanges",
        "Need a different size or color? Exchanges follow the same window and condition "
        "rules as returns, but there is no restocking fee on an exchange for the same "
        "product. Final sale items cannot be exchanged.",
        "## How to start a return",
        "1. Have your order number (it looks like SA-100123) and the email on the order ready.\n"
        f"2. Ask our assistant or email {info.support_email} ({info.support_hours}).\n"
        "3. We email you a prepaid return label and a return authorization.\n"
        "4. Pack the item with all accessories and packaging and drop it off with the carrier.\n"
        "5. We let you know when your refund has been issued.",
    ]
    return "\n\n".join(sections) + "\n"


def _category_doc(category: str, rule: ReturnRule, info: StoreInfo) -> str:
    title = f"# Returns: {category}"
    if not _returnable(rule):
        body = [
            "## Return window",
            f"{category} items are final sale and cannot be returned or exchanged, unless "
            "they arrive damaged or defective.",
        ]
        return "\n\n".join([title, *body]) + "\n"
    fee = (
        f"A {_pct(rule.restocking_fee_pct)} restocking fee is deducted from the refund for "
        f"{category} returns (not for damaged or defective items)."
        if rule.restocking_fee_pct
        else f"There is no restocking fee for {category} returns."
    )
    refund = (
        "Refunds are issued as store credit once we have received and inspected the item."
        if rule.refund_method == "store_credit"
        else f"Refunds go back to your original payment method within {REFUND_TIMING} of "
        "receiving and inspecting the item."
    )
    sections = [
        title,
        "## Return window",
        f"You can return {category} items within {rule.window_days} days of delivery.",
        "## Condition",
        _condition_sentence(rule),
        "## Restocking fee",
        fee,
        "## Refund method",
        refund,
        "## Exceptions",
        "Items marked final sale cannot be returned. Damaged, defective or wrong items are "
        f"replaced or refunded in full; contact {info.support_email}.",
    ]
    return "\n\n".join(sections) + "\n"


def _condition_sentence(rule: ReturnRule) -> str:
    if rule.condition == "any":
        return f"Items can be returned {CONDITION_TEXT['any']}."
    return f"Items must be {CONDITION_TEXT[rule.condition]}."


def _join(items: Sequence[str]) -> str:
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
