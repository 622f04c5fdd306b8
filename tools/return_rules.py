"""Multi-item returns: which units of one order may go back in one request, and where the
refund goes. Pure functions over the facts, with the date injected.

Each order line is checked with :func:`~shopagent.tools.eligibility.return_eligibility`
(delivered, window from delivery, final sale, condition, restocking fee) for the number of
its units picked; per-unit lines (quantity 1, with an ``item_id``) let one of two identical
units go back. The refund goes to the order's original payment method, or to a gift card of
the customer when the shopper asks and ``actions.return_to_gift_card`` allows it, or when a
picked item's category refunds ``store_credit`` only. Items whose rules disagree (store credit
only next to original payment) go back in one request only when the whole refund may go to
the gift card; otherwise the shopper is asked to return them in two requests.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from shopagent.tools.eligibility import return_eligibility
from shopagent.tools.results import ItemCondition, OrderView
from shopagent.tools.results_changes import ReturnUnit
from shopagent.tools.store.schema import ActionRules, PaymentMethod, ReturnPolicy

OPEN_REQUESTS = ("return_requested", "exchange_requested")


def return_units(
    order: OrderView,
    picks: dict[str, int],
    policy: ReturnPolicy,
    *,
    today: date,
    condition: ItemCondition | None = None,
    returned_skus: Iterable[str] = (),
) -> tuple[list[ReturnUnit], list[str]]:
    """The units of ``order`` that ``picks`` (item id -> how many units) names, and the
    reasons the return is not allowed (empty: every picked unit may go back)."""
    reasons: list[str] = []
    if order.status in OPEN_REQUESTS:
        reasons.append(
            f"a {order.status.replace('_', ' ').replace(' requested', '')} was already "
            f"requested for order {order.number}"
        )
    if not picks:
        reasons.append("say which items to return")
    done = set(returned_skus)
    lines = {line.item_id: line for line in order.items}
    units: list[ReturnUnit] = []
    said: list[tuple[str, list[str]]] = []
    for item_id, quantity in picks.items():
        line = lines.get(item_id)
        if line is None:
            reasons.append(f"order {order.number} has no item {item_id}")
            continue
        if not 1 <= quantity <= line.quantity:
            reasons.append(f"order {order.number} has {line.quantity} of {line.name}")
            continue
        part = line.model_copy(update={"quantity": quantity})
        rule = policy.rule_for(line.category) if line.category else policy.default
        verdict = return_eligibility(order, part, rule, today=today, condition=condition)
        own = [] if order.status in OPEN_REQUESTS else list(verdict.reasons)
        if line.sku in done:
            own.append("a return for this item is already open")
        said.append((line.name, own))
        units.append(
            ReturnUnit(
                item_id=item_id,
                sku=line.sku,
                name=line.name,
                quantity=quantity,
                item_total=verdict.item_total,
                restocking_fee=verdict.restocking_fee,
                refund=verdict.refund_amount,
                refund_method=verdict.refund_method,
            )
        )
    # a reason every item shares ("not delivered yet") is said once, the others per item
    shared = set.intersection(*(set(r) for _, r in said)) if len(said) > 1 else set()
    reasons += sorted(shared)
    reasons += [f"{name}: {r}" for name, own in said for r in own if r not in shared]
    return units, list(dict.fromkeys(reasons))


def refund_to(
    units: list[ReturnUnit],
    methods: list[PaymentMethod],
    original_id: str | None,
    rules: ActionRules,
    *,
    wants_gift_card: bool = False,
) -> tuple[PaymentMethod | None, list[str]]:
    """Where the refund of ``units`` goes, and why the shopper's choice is not allowed.

    None with no reasons: store credit, for a customer with no gift card on file."""
    gift = next((m for m in methods if m.kind == "gift_card"), None)
    original = next((m for m in methods if m.id == original_id), None)
    credit = [u.name for u in units if u.refund_method == "store_credit"]
    store_credit = bool(credit)
    others = [u.name for u in units if u.refund_method != "store_credit"]
    if credit and others and not (wants_gift_card and rules.return_to_gift_card):
        # one refund goes to one method: the items' own rules disagree on where it may go
        fix = " (or ask for everything on your gift card)" if rules.return_to_gift_card else ""
        return original, [
            f"{', '.join(dict.fromkeys(credit))} can be refunded as store credit only and "
            f"{', '.join(dict.fromkeys(others))} to the original payment method: return them "
            f"in two requests{fix}"
        ]
    if wants_gift_card:
        if not rules.return_to_gift_card and not store_credit:
            return original, ["this shop refunds returns to the original payment method only"]
        if gift is None:
            return original, ["there is no gift card on your account to refund to"]
        return gift, []
    if store_credit:
        return gift, []
    return original, []
