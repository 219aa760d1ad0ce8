"""Benchmark segments and coupons on the bench database (1,000,000 members, 10,000,000 purchases; fill it with
bench/run.py first): segment counts, the rule builder's count, issuing an offer to 100,000 members, and the
nightly reconcile of purchase facts. Prints Markdown.

    .venv/bin/python -m bench.segments [--runs 20] [--database-url URL] [--skip-issue] [--skip-reconcile]
"""

import argparse
import os
import statistics
import time

from bench import db

THREE = {
    "op": "and",
    "rules": [
        {"field": "points_balance", "operator": "gt", "value": 500},
        {"field": "sms_consent", "operator": "eq", "value": True},
        {"field": "registered_on", "operator": "in_last_days", "value": 730},
    ],
}
# Eight conditions: two purchase facts and a nested OR, as the issue asks.
EIGHT = {
    "op": "and",
    "rules": [
        {"field": "gender", "operator": "eq", "value": "female"},
        {"field": "age", "operator": "between", "value": [25, 45]},
        {"field": "sms_consent", "operator": "eq", "value": True},
        {"field": "lifetime_spend", "operator": "gt", "value": "1000"},
        {"field": "last_purchase", "operator": "in_last_days", "value": 365},
        {
            "op": "or",
            "rules": [
                {"field": "province", "operator": "eq", "value": "浙江省"},
                {"field": "province", "operator": "eq", "value": "广东省"},
                {"field": "points_balance", "operator": "gt", "value": 5000},
            ],
        },
    ],
}
WINDOW = {
    "op": "and",
    "rules": [
        {"field": "orders_in_period", "operator": "gt", "value": 1, "days": 90},
        {"field": "email_consent", "operator": "eq", "value": True},
    ],
}


def ok(response: object) -> object:
    assert response.status_code == 200, response.status_code  # a refused page would time nothing
    return response


def timed(fn, runs: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(int(len(times) * 0.95) - 1, 0)], result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url")
    parser.add_argument("--skip-issue", action="store_true")
    parser.add_argument("--skip-reconcile", action="store_true")
    args = parser.parse_args()
    url = db.database_url(args.database_url)
    started = time.perf_counter()
    db.migrate(url)  # the purchase-facts migration fills its table from the purchases: timed here
    migrated = time.perf_counter() - started
    db.setup_django(url)

    from django.test import Client

    from customers.models import Customer
    from interactions.models import PurchaseStats
    from interactions.services import purchase_stats_reconcile
    from marketing.models import CouponOffer, Segment, SegmentKind, SegmentMember
    from marketing.rules import rule_compile
    from marketing.services import coupons_issue_to_segment, segment_save

    load = os.getloadavg()
    members = Customer.objects.count()
    print(f"members {members:,}, purchase-facts rows {PurchaseStats.objects.count():,}; migrate {migrated:.1f} s")
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")
    print("| what | median | p95 | result |")
    print("| --- | ---: | ---: | ---: |")
    for name, tree in [
        ("count, 3 conditions", THREE),
        ("count, 8 conditions (2 purchase facts, nested OR)", EIGHT),
        ("count, orders in the last 90 days (a period fact)", WINDOW),
    ]:
        median, p95, count = timed(lambda t=tree: Customer.objects.filter(rule_compile(t)).count(), args.runs)
        print(f"| {name} | {median:.0f} ms | {p95:.0f} ms | {count:,} |")

    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench-marketing")
    from django.contrib.auth.models import Group

    user.groups.set([Group.objects.get(name="Marketing")])
    client = Client(HTTP_HOST="localhost")  # settings' ALLOWED_HOSTS has no "testserver"
    client.force_login(user)
    segment = Segment.objects.filter(name="bench 8 conditions").first() or segment_save(
        name="bench 8 conditions", rules=EIGHT, actor=None
    )
    median, p95, _r = timed(lambda: ok(client.get(f"/marketing/segments/{segment.pk}/edit/")), args.runs)
    print(f"| rule builder page (8 conditions) | {median:.0f} ms | {p95:.0f} ms | |")
    form = {
        "n": ["", "1", "2", "3"],
        "op-": "and",
        "field-1": "points_balance",
        "operator-1": "gt",
        "value-1": "500",
        "field-2": "sms_consent",
        "operator-2": "eq",
        "value-2": "true",
        "field-3": "registered_on",
        "operator-3": "in_last_days",
        "value-3": "730",
    }
    median, p95, _r = timed(lambda: ok(client.post("/marketing/segments/count/", form)), args.runs)
    print(f"| builder's live count and preview (3 conditions) | {median:.0f} ms | {p95:.0f} ms | |")

    if not args.skip_issue:
        static, created = Segment.objects.get_or_create(name="bench 100,000", defaults={"kind": SegmentKind.STATIC})
        if created:
            ids = Customer.objects.order_by("pk").values_list("pk", flat=True)[:100_000]
            SegmentMember.objects.bulk_create([SegmentMember(segment=static, customer_id=pk) for pk in ids], 10_000)
        offer = CouponOffer.objects.create(name=f"bench {time.time():.0f}", value=10)
        started = time.perf_counter()
        issued = coupons_issue_to_segment(offer=offer, segment=static, actor=None)
        seconds = time.perf_counter() - started
        print(
            f"| issue an offer to 100,000 members | {seconds:.1f} s | | {issued:,} codes, {issued / seconds:,.0f}/s |"
        )
        started = time.perf_counter()
        again = coupons_issue_to_segment(offer=offer, segment=static, actor=None)
        print(f"| the same again (issues none) | {time.perf_counter() - started:.1f} s | | {again:,} codes |")

    if not args.skip_reconcile:
        started = time.perf_counter()
        check = purchase_stats_reconcile()
        seconds = time.perf_counter() - started
        print(
            f"| reconcile purchase facts of everyone | {seconds:.0f} s | | {check.checked:,} checked, "
            f"{check.repaired:,} repaired |"
        )
    load = os.getloadavg()
    print(f"\nload average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
