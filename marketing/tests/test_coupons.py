"""Coupons: issued once per occasion within the offer's limits, redeemed by exactly one purchase of the member
they were issued to, given back when that purchase is refunded."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from crm.lib import coupon_code
from customers.tests.factories import CategoryFactory, CustomerFactory
from interactions.models import Transaction
from interactions.services import LineInput, transaction_record, transaction_refund
from interactions.tests.factories import ProductFactory
from marketing.models import Coupon, CouponOffer, CouponStatus, DiscountKind, Segment
from marketing.services import coupon_issue, coupons_issue_to_segment

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def offer(**fields) -> CouponOffer:
    data = {"name": f"offer {CouponOffer.objects.count()}", "kind": DiscountKind.AMOUNT, "value": Decimal("20")}
    return CouponOffer.objects.create(**(data | fields))


def test_a_good_code_takes_its_discount_off_the_purchase_and_is_used_by_it():
    member = CustomerFactory()
    coupon = coupon_issue(offer=offer(min_spend=100), customer=member, actor=None)
    tx = transaction_record(customer=member, amount=Decimal("150"), coupon_code=coupon.code_display.lower())
    coupon.refresh_from_db()
    assert (tx.amount, tx.discount, tx.coupon_code) == (Decimal("130"), Decimal("20"), coupon.code)
    assert coupon.status == CouponStatus.REDEEMED and coupon.transaction == tx and coupon.discount == Decimal("20")


def test_a_percentage_applies_to_the_covered_products_only():
    shoes, socks = CategoryFactory(), CategoryFactory()
    runner, sock = (
        ProductFactory(category=shoes, price=Decimal("400")),
        ProductFactory(category=socks, price=Decimal("20")),
    )
    member = CustomerFactory()
    deal = offer(kind=DiscountKind.PERCENT, value=Decimal("10"))
    deal.categories.set([shoes])
    coupon = coupon_issue(offer=deal, customer=member, actor=None)
    lines = [LineInput(product=runner, quantity=1), LineInput(product=sock, quantity=2)]
    tx = transaction_record(customer=member, amount=Decimal("440"), lines=lines, coupon_code=coupon.code)
    assert tx.discount == Decimal("40.00") and tx.amount == Decimal("400.00")


def _refusal(code: str, member, amount="150", **kwargs) -> str:
    before = (Transaction.objects.count(), list(Coupon.objects.values_list("status", flat=True)))
    with pytest.raises(ValidationError) as caught:
        transaction_record(customer=member, amount=Decimal(amount), coupon_code=code, **kwargs)
    assert (Transaction.objects.count(), list(Coupon.objects.values_list("status", flat=True))) == before
    return caught.value.message_dict["coupon_code"][0]


def test_each_refusal_has_its_own_message_and_writes_nothing():
    member, other = CustomerFactory(), CustomerFactory()
    good = coupon_issue(offer=offer(min_spend=100), customer=member, actor=None)
    typo = good.code[:3] + ("A" if good.code[3] != "A" else "B") + good.code[4:]
    assert _refusal(typo, member) == "This is not a coupon code: a character is mistyped (check the code again)."
    assert _refusal(coupon_code.generate(), member) == "No coupon has this code."
    assert _refusal(good.code, other) == "This coupon was issued to another member."
    assert _refusal(good.code, member, amount="99") == "This coupon needs a purchase of at least 100.00."
    later = coupon_issue(offer=offer(valid_from=TODAY() + datetime.timedelta(days=3)), customer=member, actor=None)
    assert _refusal(later.code, member).startswith("This coupon can be used from ")
    gone = coupon_issue(offer=offer(valid_days=5), customer=member, actor=None)
    at = timezone.now() + datetime.timedelta(days=6)
    assert _refusal(gone.code, member, occurred_at=at).startswith("This coupon expired on ")
    socks = offer()
    socks.products.set([ProductFactory()])
    uncovered = coupon_issue(offer=socks, customer=member, actor=None)
    assert _refusal(uncovered.code, member) == "This coupon does not cover the products bought."
    transaction_record(customer=member, amount=Decimal("150"), coupon_code=good.code)
    assert _refusal(good.code, member) == "This coupon has already been used."


def test_refunding_the_purchase_gives_a_still_valid_coupon_back():
    member = CustomerFactory()
    coupon = coupon_issue(offer=offer(), customer=member, actor=None)
    tx = transaction_record(customer=member, amount=Decimal("100"), coupon_code=coupon.code)
    transaction_refund(transaction=tx, amount=Decimal("10"))
    coupon.refresh_from_db()
    assert coupon.status == CouponStatus.REDEEMED  # a partial refund keeps the purchase and its coupon
    transaction_refund(transaction=tx)
    coupon.refresh_from_db()
    assert coupon.status == CouponStatus.ISSUED and coupon.transaction is None
    transaction_record(customer=member, amount=Decimal("100"), coupon_code=coupon.code)  # usable again


def test_an_expired_coupon_is_not_given_back():
    member = CustomerFactory()
    coupon = coupon_issue(offer=offer(valid_days=1), customer=member, actor=None)
    tx = transaction_record(customer=member, amount=Decimal("100"), coupon_code=coupon.code)
    Coupon.objects.filter(pk=coupon.pk).update(valid_until=TODAY() - datetime.timedelta(days=1))
    transaction_refund(transaction=tx)
    coupon.refresh_from_db()
    assert coupon.status == CouponStatus.REDEEMED


def test_limits_per_member_and_in_all():
    member = CustomerFactory()
    one_each = offer(per_member_limit=1, max_issued=2)
    coupon_issue(offer=one_each, customer=member, actor=None)
    with pytest.raises(ValidationError, match="the most a member may have"):
        coupon_issue(offer=one_each, customer=member, actor=None)
    coupon_issue(offer=one_each, customer=CustomerFactory(), actor=None)
    with pytest.raises(ValidationError, match="All 2 coupons"):
        coupon_issue(offer=one_each, customer=CustomerFactory(), actor=None)
    assert Coupon.objects.count() == 2 and CouponOffer.objects.get().issued_count == 2


def test_issuing_to_a_segment_twice_issues_once_per_member():
    members = [CustomerFactory(points_balance=900) for _ in range(5)]
    CustomerFactory(points_balance=1)
    segment = Segment.objects.create(
        name="rich", rules={"op": "and", "rules": [{"field": "points_balance", "operator": "gt", "value": 500}]}
    )
    deal = offer(per_member_limit=2)
    coupon_issue(offer=deal, customer=members[0], actor=None)  # one already, by hand
    assert coupons_issue_to_segment(offer=deal, segment=segment, actor=None) == 5
    assert coupons_issue_to_segment(offer=deal, segment=segment, actor=None) == 0
    assert Coupon.objects.filter(offer=deal).count() == 6
    assert set(Coupon.objects.filter(occasion=f"segment:{segment.pk}").values_list("customer_id", flat=True)) == {
        m.pk for m in members
    }
    assert CouponOffer.objects.get().issued_count == 6
    assert len(set(Coupon.objects.values_list("code", flat=True))) == 6


def test_issuing_to_a_segment_stops_at_the_offers_cap():
    for _ in range(4):
        CustomerFactory()
    segment = Segment.objects.create(name="all")
    assert coupons_issue_to_segment(offer=offer(max_issued=3), segment=segment, actor=None) == 3


@pytest.mark.django_db(transaction=True)
def test_two_tills_redeeming_one_code_at_once_only_one_succeeds():
    member = CustomerFactory()
    coupon = coupon_issue(offer=offer(), customer=member, actor=None)
    start = threading.Barrier(2)
    outcomes = []

    def till():
        try:
            start.wait(timeout=5)
            transaction_record(customer=member, amount=Decimal("100"), coupon_code=coupon.code)
            outcomes.append("ok")
        except ValidationError as e:
            outcomes.append(e.message_dict["coupon_code"][0])
        finally:
            connection.close()

    threads = [threading.Thread(target=till) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert sorted(outcomes) == ["This coupon has already been used.", "ok"]
    assert Transaction.objects.filter(customer=member).count() == 1
    coupon.refresh_from_db()
    assert coupon.status == CouponStatus.REDEEMED
