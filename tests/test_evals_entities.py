"""Entity variables resolve deterministically against the eval store."""

from __future__ import annotations

import pytest
from shopagent.evals.entities import EntityError, StoreIndex, parse_query, resolve_vars, substitute
from shopagent.evals.store import StoreSpec
from shopagent.tools.store.db import StoreDB

SPEC = StoreSpec(n_products=60, n_customers=12, n_orders=60)


@pytest.fixture(scope="module")
def index() -> StoreIndex:
    return StoreIndex.from_db(StoreDB.in_memory(SPEC.generate()), SPEC.today)


def test_parse_query() -> None:
    q = parse_query("product: category=Kitchen, in_stock, !final_sale, price<50, pick=2")
    assert q.kind == "product" and q.pick == 2
    assert [(f.key, f.op, f.value, f.negated) for f in q.filters][:3] == [
        ("category", "=", "Kitchen", False),
        ("in_stock", "flag", "", False),
        ("final_sale", "flag", "", True),
    ]
    with pytest.raises(EntityError, match="kind must be one of"):
        parse_query("widget: x=1")
    with pytest.raises(EntityError, match="only negates flags"):
        parse_query("product: !price=3")


def test_filters_and_fields(index: StoreIndex) -> None:
    bound = resolve_vars(
        "d1",
        {
            "p": "product: in_stock, !final_sale, price<100",
            "o": "order: status=delivered",
            "c": "customer: owner_of=o",
            "other": "order: not_owner=c",
        },
        index,
    )
    p, o, c, other = bound["p"], bound["o"], bound["c"], bound["other"]
    assert p["in_stock"] and not p["final_sale"] and float(p["price_value"]) < 100
    assert p["price"].startswith("$") and p["sku"]
    assert o["status"] == "delivered" and c["id"] == o["customer_id"] and c["email"] == o["email"]
    assert other["customer_id"] != c["id"]


def test_picks_are_deterministic_distinct_and_spread(index: StoreIndex) -> None:
    queries = {"a": "product: in_stock", "b": "product: in_stock"}
    first = resolve_vars("dialog-x", queries, index)
    again = resolve_vars("dialog-x", queries, index)
    assert first == again and first["a"] != first["b"]
    others = {resolve_vars(f"dialog-{i}", queries, index)["a"]["id"] for i in range(10)}
    assert len(others) > 1  # different dialogs use different products
    pinned = resolve_vars("any", {"p": "product: pick=1"}, index)["p"]
    assert pinned["id"] == min(index.products)


def test_errors_name_the_variable(index: StoreIndex) -> None:
    with pytest.raises(EntityError, match=r"variable 'p': no product .* matches"):
        resolve_vars("d", {"p": "product: category=Nope"}, index)
    with pytest.raises(EntityError, match="unknown product field 'colour'"):
        resolve_vars("d", {"p": "product: colour=red"}, index)
    with pytest.raises(EntityError, match="no earlier variable 'o'"):
        resolve_vars("d", {"c": "customer: owner_of=o"}, index)


def test_substitute(index: StoreIndex) -> None:
    bound = resolve_vars("d", {"o": "order: status=shipped"}, index)
    value = substitute({"user": "where is {o.number}?", "n": [1, "{o.status}"]}, bound)
    assert value == {"user": f"where is {bound['o']['number']}?", "n": [1, "shipped"]}
    assert substitute("{not a template} {x}", bound) == "{not a template} {x}"
    with pytest.raises(EntityError, match="no variable 'p'"):
        substitute("{p.name}", bound)
    with pytest.raises(EntityError, match="unknown field 'nme'"):
        substitute("{o.nme}", bound)


def test_policy_and_store_entities_name_the_stores_own_rules(index: StoreIndex) -> None:
    policy = index.policy
    bound = resolve_vars(
        "policy-kinds",
        {
            "d": "policy: default",
            "f": "policy: fee, sold",
            "c": "policy: store_credit",
            "s": "store:",
        },
        index,
    )
    assert bound["d"]["window_days"] == policy.default.window_days and bound["d"]["category"] == ""
    fee = policy.categories[bound["f"]["category"]].restocking_fee_pct
    assert fee > 0 and bound["f"]["restocking_fee"] == f"{fee.normalize():f}%"
    # the word a shopper uses is a catalog category that falls under it
    assert (
        policy.rule_for(bound["f"]["catalog_category"]) == policy.categories[bound["f"]["category"]]
    )
    assert bound["f"]["word"] == bound["f"]["catalog_category"].casefold()
    assert policy.categories[bound["c"]["category"]].refund_method == "store_credit"
    assert bound["s"]["name"] and "@" in bound["s"]["support_email"]
    unknown = bound["s"]["unknown_order"]
    assert unknown not in index.orders and unknown.replace("9", "0") != unknown
    some = next(iter(index.orders))
    assert len(unknown) == len(some) and unknown.rstrip("9") == some.rstrip("0123456789")
    with pytest.raises(EntityError, match="no policy"):
        resolve_vars("x", {"r": "policy: fee, window_days>3000"}, index)


def test_orders_know_their_rank_among_their_customers_orders(index: StoreIndex) -> None:
    bound = resolve_vars(
        "recency",
        {
            "o": "order: recency=1, customer_orders>=2",
            "c": "customer: owner_of=o",
            "p": "order: owner=c, recency=2",
        },
        index,
    )
    assert bound["o"]["number"] == bound["c"]["latest_order"]
    assert bound["p"]["placed_at"] <= bound["o"]["placed_at"]
    assert bound["o"]["customer_orders"] == bound["c"]["orders"]
    assert bound["o"]["item_product_id"] in index.products
