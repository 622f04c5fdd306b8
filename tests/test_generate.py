"""The seeded demo-store generator: determinism, volumes, consistency and policy docs."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from shopagent.tools.store import vocab
from shopagent.tools.store.files import read_store
from shopagent.tools.store.generate import generate_store, write_demo_store
from shopagent.tools.store.policy_docs import category_slug
from shopagent.tools.store.schema import ORDER_STATUSES, Order, StoreData
from shopagent.tools.store.writer import write_store

TODAY = date(2025, 6, 1)


@pytest.fixture(scope="module")
def store() -> StoreData:
    return generate_store(today=TODAY)


def test_same_seed_gives_identical_store(store: StoreData) -> None:
    assert generate_store(today=TODAY) == store


def test_different_seed_gives_different_store(store: StoreData) -> None:
    other = generate_store(seed=8, today=TODAY)
    assert other.products != store.products
    assert other.customers != store.customers
    assert other.orders != store.orders


def test_today_moves_order_dates(store: StoreData) -> None:
    later = generate_store(today=TODAY + timedelta(days=10))
    shift = {
        (a.placed_at - b.placed_at).days for a, b in zip(later.orders, store.orders, strict=True)
    }
    assert shift == {10}


def test_volumes_and_categories(store: StoreData) -> None:
    assert len(store.products) >= 1000
    assert len(store.customers) >= 200
    assert len(store.orders) >= 1000
    per_category = Counter(p.category for p in store.products)
    assert len(per_category) >= 12
    assert min(per_category.values()) >= 50


def test_ids_skus_emails_and_numbers_are_unique(store: StoreData) -> None:
    skus = [v.sku for p in store.products for v in p.variants]
    emails = [c.email.casefold() for c in store.customers]
    for values in (
        [p.id for p in store.products],
        skus,
        [c.id for c in store.customers],
        emails,
        [o.number for o in store.orders],
    ):
        assert len(values) == len(set(values))
    assert sorted(s.sku for s in store.stock) == sorted(skus)


def test_products_look_like_a_shop(store: StoreData) -> None:
    for product in store.products:
        assert product.brand in product.name
        sentences = re.findall(r"(?<!Co)[.!?](?:\s|$)", product.description)
        assert 2 <= len(sentences) <= 4, product.description
        assert 1 <= len(product.variants) <= 4
        assert product.tags
        for variant in product.variants:
            assert variant.currency == "USD"
            assert variant.price > 0
            assert str(variant.price)[-3:] in {".99", ".49", ".00"}
    descriptions = [p.description for p in store.products]
    assert len(set(descriptions)) == len(descriptions)
    openings = Counter(" ".join(d.split()[:2]) for d in descriptions)
    assert len(openings) > 100
    assert sum(len(p.attributes) > 0 for p in store.products) > 0.8 * len(store.products)


def test_vocabulary_covers_every_product_type() -> None:
    nouns = [t.noun for c in vocab.CATEGORIES for t in c.types]
    assert len(nouns) == len(set(nouns))
    assert set(nouns) == set(vocab.TYPE_BENEFITS)
    assert set(vocab.TYPE_USES) <= set(nouns)
    for category in vocab.CATEGORIES:
        for ptype in category.types:
            assert len(ptype.features) >= 3
            assert ptype.axis in vocab.AXES


def test_shares_of_final_sale_and_zero_stock(store: StoreData) -> None:
    final_sale = sum(p.final_sale for p in store.products) / len(store.products)
    zero = sum(s.stock == 0 for s in store.stock) / len(store.stock)
    assert 0.01 <= final_sale <= 0.06
    assert 0.05 <= zero <= 0.12


def test_customers_are_plausible(store: StoreData) -> None:
    assert len({c.name for c in store.customers}) > 0.9 * len(store.customers)
    for customer in store.customers:
        assert re.fullmatch(r"\d{5}", customer.zip)
        assert " " in customer.name


def test_every_customer_has_an_order(store: StoreData) -> None:
    assert {o.customer_id for o in store.orders} == {c.id for c in store.customers}


def test_order_items_reference_real_variants(store: StoreData) -> None:
    variants = {v.sku: (p.id, v) for p in store.products for v in p.variants}
    for order in store.orders:
        assert re.fullmatch(r"SA-\d{6}", order.number)
        for item in order.items:
            product_id, variant = variants[item.sku]
            assert item.product_id == product_id
            assert item.unit_price == variant.price


def _check_lifecycle(order: Order, today: date) -> None:
    placed = order.placed_at.date()
    assert placed <= today
    status = order.status
    after_delivery = {"delivered", "returned", "exchange_requested", "return_requested"}
    shipped = status in {"shipped"} | after_delivery
    assert (order.shipped_at is not None) == shipped
    assert (order.carrier is not None) == shipped
    assert (order.tracking_number is not None) == shipped
    assert (order.delivered_at is not None) == (status in after_delivery)
    assert (order.returned_at is not None) == (status == "returned")
    assert (order.cancelled_at is not None) == (status == "cancelled")
    chain = [placed, order.shipped_at, order.delivered_at, order.returned_at, today]
    present = [d for d in chain if d is not None]
    assert present == sorted(present)
    if order.cancelled_at:
        assert placed <= order.cancelled_at <= today
    if status in {"pending", "processing"}:
        assert today - placed <= timedelta(days=3)


def test_order_statuses_and_dates_are_consistent(store: StoreData) -> None:
    assert set(Counter(o.status for o in store.orders)) == set(ORDER_STATUSES)
    for order in store.orders:
        _check_lifecycle(order, TODAY)
    placed = [o.placed_at for o in store.orders]
    assert placed == sorted(placed)


def test_deliveries_fall_inside_and_outside_return_windows(store: StoreData) -> None:
    products = {p.id: p for p in store.products}
    inside = outside = 0
    for order in store.orders:
        if order.status != "delivered":
            continue
        window = store.policy.rule_for(products[order.items[0].product_id].category).window_days
        if (TODAY - order.delivered_at).days <= window:
            inside += 1
        else:
            outside += 1
    assert inside > 100
    assert outside > 100


def test_category_rules_differ(store: StoreData) -> None:
    rules = [store.policy.rule_for(c) for c in {p.category for p in store.products}]
    assert len({r.window_days for r in rules}) >= 3
    assert {r.condition for r in rules} >= {"unused", "unopened"}
    assert any(r.restocking_fee_pct > 0 for r in rules)
    assert any(r.refund_method == "store_credit" for r in rules)
    assert store.policy.rule_for("Electronics").restocking_fee_pct == Decimal(15)
    assert store.policy.rule_for("Apparel").window_days == 60


def test_category_docs_state_the_rule_numbers(store: StoreData) -> None:
    categories = {p.category for p in store.products}
    for category in categories:
        rule = store.policy.rule_for(category)
        doc = store.policy_docs[f"returns-{category_slug(category)}"]
        assert doc.startswith(f"# Returns: {category}\n")
        assert "## Return window" in doc and "## Condition" in doc
        assert [int(n) for n in re.findall(r"(\d+) days", doc)] == [rule.window_days]
        fees = [Decimal(n) for n in re.findall(r"(\d+(?:\.\d+)?)% restocking fee", doc)]
        assert fees == ([rule.restocking_fee_pct] if rule.restocking_fee_pct else [])
        assert rule.condition in doc or rule.condition == "any"
        assert ("store credit" in doc) == (rule.refund_method == "store_credit")


def test_general_doc_table_matches_rules(store: StoreData) -> None:
    doc = store.policy_docs["returns"]
    headings = re.findall(r"^## (.+)$", doc, re.M)
    for needed in ("Return windows", "Refund methods and timing", "Restocking fees"):
        assert needed in headings
    assert {"Final sale items", "Damaged or defective items", "Exchanges"} <= set(headings)
    rows = re.findall(r"^\| ([^|]+) \| (\d+) days \| (\w+) \| ([^|]+) \| ([^|]+) \|$", doc, re.M)
    table = {name: (int(days), cond, fee, refund) for name, days, cond, fee, refund in rows}
    for category in {p.category for p in store.products}:
        rule = store.policy.rule_for(category)
        days, cond, fee, refund = table[category]
        assert days == rule.window_days
        assert cond == rule.condition
        expected_fee = f"{rule.restocking_fee_pct.normalize():f}%"
        assert fee == (expected_fee if rule.restocking_fee_pct else "none")
        assert ("credit" in refund) == (rule.refund_method == "store_credit")
    assert table["All other items"][0] == store.policy.default.window_days
    windows = {int(n) for n in re.findall(r"(\d+) days", doc)}
    assert windows == {r.window_days for r in [*store.policy.categories.values()]} | {
        store.policy.default.window_days
    }


def test_rejects_fewer_orders_than_customers() -> None:
    with pytest.raises(ValueError, match="n_orders"):
        generate_store(n_customers=10, n_orders=5, today=TODAY)


def test_write_demo_store_writes_a_readable_store(tmp_path: Path) -> None:
    data = write_demo_store(tmp_path / "demo", n_products=80, today=TODAY)
    assert read_store(tmp_path / "demo") == data
    assert len(data.products) == 80


def test_scales_to_fifty_thousand_products(tmp_path: Path) -> None:
    started = time.process_time()
    data = generate_store(n_products=50_000, n_customers=200, n_orders=200, today=TODAY)
    generated = time.process_time()
    skus = [v.sku for p in data.products for v in p.variants]
    assert len({p.id for p in data.products}) == 50_000
    assert len(set(skus)) == len(skus)
    write_store(data, tmp_path / "big")
    written = time.process_time()
    assert len(read_store(tmp_path / "big").products) == 50_000
    # CPU seconds, with ample headroom over what a developer laptop needs (~4, ~1.5, ~2).
    assert generated - started < 15
    assert written - generated < 8
    assert time.process_time() - written < 8


def test_product_names_are_unique_at_scale() -> None:
    data = generate_store(n_products=5000, n_customers=250, n_orders=1500, today=date(2026, 11, 20))
    names = [p.name for p in data.products]
    assert len(set(names)) == len(names)
