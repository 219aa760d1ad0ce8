import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from customers.models import Customer, PointsEntry, PointsKind
from customers.services import membership
from customers.tests.factories import CustomerFactory, TierFactory
from interactions import services
from interactions.models import Channel, Transaction, TransactionSource, TransactionStatus
from interactions.services import LineInput
from interactions.tests.factories import ProductFactory, TransactionFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 5, 1, 12, 0, tzinfo=datetime.UTC)


def _balance(customer) -> int:
    return Customer.objects.get(pk=customer.pk).points_balance


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-10.00")])
def test_a_purchase_of_zero_or_a_negative_amount_is_refused(amount, sales_user):
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as exc:
        services.transaction_record(customer=customer, amount=amount, actor=sales_user)
    assert "amount" in exc.value.message_dict
    assert not Transaction.objects.exists() and _balance(customer) == 0


def test_recording_a_purchase_writes_lines_and_earns_points_at_the_tier_multiplier(sales_user):
    gold = TierFactory(name="金卡", rank=2, min_spend=0, points_multiplier=Decimal("1.50"))
    customer = CustomerFactory(tier=gold)
    lipstick = ProductFactory(sku="LIP-01", name="口红", price=Decimal("199.00"))
    tx = services.transaction_record(
        customer=customer,
        amount=Decimal("455.50"),
        channel=Channel.ONLINE,
        store="天猫旗舰店",
        lines=[LineInput(product=lipstick, quantity=2), LineInput(description="礼盒", unit_price=Decimal("57.50"))],
        actor=sales_user,
    )
    assert tx.points_earned == 683  # floor(455.50 × 1.5)
    assert tx.currency == "CNY" and tx.recorded_by == sales_user and not tx.flagged
    assert [(line.description, line.quantity, line.line_total) for line in tx.lines.all()] == [
        ("口红", 2, Decimal("398.00")),
        ("礼盒", 1, Decimal("57.50")),
    ]
    entry = PointsEntry.objects.get(customer=customer)
    assert (entry.kind, entry.points, entry.reference) == (PointsKind.EARNED, 683, f"transaction:{tx.pk}")
    assert _balance(customer) == 683


def test_the_same_order_from_the_same_source_is_stored_once():
    customer = CustomerFactory()
    kwargs = {"customer": customer, "amount": Decimal("10"), "source": TransactionSource.IMPORT, "external_ref": "A1"}
    services.transaction_record(**kwargs)
    with pytest.raises(ValidationError, match="already been recorded"):
        services.transaction_record(**kwargs)
    services.transaction_record(**{**kwargs, "source": TransactionSource.API})
    assert Transaction.objects.count() == 2


def test_a_purchase_far_above_the_usual_order_is_flagged_with_the_reason():
    customer = CustomerFactory()
    for _ in range(3):
        TransactionFactory(customer=customer, amount=Decimal("100"), occurred_at=NOW - datetime.timedelta(days=30))
    usual = services.transaction_record(customer=customer, amount=Decimal("400"))
    big = services.transaction_record(customer=customer, amount=Decimal("1000"))
    assert not usual.flagged
    assert big.flagged and "average order" in big.flag_reason_text


def test_the_big_purchase_rule_needs_three_prior_orders():
    customer = CustomerFactory()
    TransactionFactory.create_batch(2, customer=customer, amount=Decimal("10"))
    assert not services.transaction_record(customer=customer, amount=Decimal("5000")).flagged


def test_a_burst_of_more_than_five_purchases_in_ten_minutes_is_flagged():
    customer = CustomerFactory()
    with time_machine.travel(NOW, tick=False):
        for _ in range(5):
            assert not services.transaction_record(customer=customer, amount=Decimal("20")).flagged
        sixth = services.transaction_record(customer=customer, amount=Decimal("20"))
    assert sixth.flagged and "6 purchases within 10 minutes" in sixth.flag_reason_text


def test_a_full_refund_reverses_all_points_earned():
    customer = CustomerFactory()
    tx = services.transaction_record(customer=customer, amount=Decimal("300"))
    services.transaction_refund(transaction=tx, reason="Damaged")
    tx.refresh_from_db()
    assert (tx.status, tx.refunded_amount, tx.points_reversed) == (TransactionStatus.REFUNDED, Decimal("300"), 300)
    reversal = PointsEntry.objects.get(customer=customer, kind=PointsKind.REVERSED)
    assert reversal.points == -300 and "Damaged" in reversal.reason_text
    assert _balance(customer) == 0


def test_partial_refunds_reverse_points_in_proportion():
    customer = CustomerFactory()
    tx = services.transaction_record(customer=customer, amount=Decimal("300"))
    services.transaction_refund(transaction=tx, amount=Decimal("100"))
    tx.refresh_from_db()
    assert (tx.status, tx.points_reversed) == (TransactionStatus.PARTIALLY_REFUNDED, 100)
    services.transaction_refund(transaction=tx, amount=Decimal("200"))
    tx.refresh_from_db()
    assert (tx.status, tx.points_reversed) == (TransactionStatus.REFUNDED, 300)
    assert _balance(customer) == 0


def test_a_refund_after_the_points_were_spent_reverses_what_is_left_and_never_goes_negative():
    customer = CustomerFactory()
    tx = services.transaction_record(customer=customer, amount=Decimal("300"))
    membership.points_redeem(customer=customer, points=250)
    services.transaction_refund(transaction=tx)
    tx.refresh_from_db()
    assert tx.points_reversed == 50
    reversal = PointsEntry.objects.get(customer=customer, kind=PointsKind.REVERSED)
    assert reversal.points == -50 and "reversed 50 of 300 points" in reversal.reason_text
    assert _balance(customer) == 0


def test_refunding_more_than_is_left_is_refused():
    tx = services.transaction_record(customer=CustomerFactory(), amount=Decimal("300"))
    services.transaction_refund(transaction=tx, amount=Decimal("250"))
    with pytest.raises(ValidationError, match="At most 50.00"):
        services.transaction_refund(transaction=tx, amount=Decimal("60"))
    tx.refresh_from_db()
    assert tx.refunded_amount == Decimal("250")  # the refused refund changed nothing
    services.transaction_refund(transaction=tx)
    with pytest.raises(ValidationError, match="already been refunded in full"):
        services.transaction_refund(transaction=tx)


def test_a_bulk_loaded_purchase_earns_and_is_named_like_a_recorded_one_and_old_lots_read_as_expired(settings):
    settings.CRM_POINTS_EXPIRY_DAYS = 365
    tier = TierFactory(points_multiplier=Decimal("1.5"))
    customer = CustomerFactory(tier=tier)
    with time_machine.travel(NOW, tick=False):
        recorded = services.transaction_record(customer=customer, amount=Decimal("99.99"))
        old, recent = (
            Transaction(customer=customer, amount=Decimal("99.99"), occurred_at=NOW - datetime.timedelta(days=400)),
            Transaction(customer=customer, amount=Decimal("99.99"), occurred_at=NOW - datetime.timedelta(days=10)),
        )
        services.transactions_bulk_load(transactions=[old, recent], lines=[[], []])

    assert old.points_earned == recent.points_earned == recorded.points_earned == 149
    entries = {(e.reference, e.kind): e for e in PointsEntry.objects.filter(customer=customer)}
    for tx in (recorded, old, recent):
        lot = entries[(services.transaction_reference(tx), PointsKind.EARNED)]
        assert lot.reason_text == f"Purchase #{tx.pk}"
        assert lot.expires_on == membership.lot_expires_on(tx.occurred_at.date())
    lapsed = entries[(services.transaction_reference(old), PointsKind.EXPIRED)]
    assert (lapsed.points, lapsed.reason_text) == (-149, f"Points of purchase #{old.pk} expired")
    assert entries[(services.transaction_reference(old), PointsKind.EARNED)].remaining == 0
    # The bulk rows carry the balance on from the recorded purchase's; the customer's is their last figure.
    balances = PointsEntry.objects.filter(customer=customer).order_by("id").values_list("balance_after", flat=True)
    assert list(balances) == [149, 298, 149, 298]
    assert _balance(customer) == 298


def test_an_order_received_twice_is_stored_once_and_the_repeat_says_so():
    customer = CustomerFactory()
    kwargs = {"customer": customer, "amount": Decimal("80"), "source": TransactionSource.API, "external_ref": "S-1"}
    first, first_repeat = services.transaction_receive(**kwargs)
    again, repeat = services.transaction_receive(**kwargs)
    assert (first_repeat, repeat, again) == (False, True, first)
    assert Transaction.objects.count() == 1 and _balance(customer) == 80


def test_an_order_number_reused_for_another_order_is_a_conflict_naming_the_stored_one():
    customer = CustomerFactory()
    stored, _repeat = services.transaction_receive(
        customer=customer, amount=Decimal("80"), source=TransactionSource.API, external_ref="S-1"
    )
    with pytest.raises(ValidationError) as exc:
        services.transaction_receive(
            customer=CustomerFactory(), amount=Decimal("1"), source=TransactionSource.API, external_ref="S-1"
        )
    assert set(exc.value.message_dict) == {"customer", "amount"}
    assert exc.value.message_dict["amount"] == ["This order was recorded with the amount 80.00."]
    errors = [e for field_errors in exc.value.error_dict.values() for e in field_errors]
    assert {(e.code, e.params["existing_id"]) for e in errors} == {("conflict", stored.pk)}
    assert Transaction.objects.count() == 1


def test_an_order_that_loses_a_race_returns_the_winners_purchase(monkeypatch):
    from django.db import IntegrityError

    from interactions.services import purchases

    customer = CustomerFactory()
    real = purchases.transaction_record

    def racing(**kwargs):
        real(**kwargs)  # the other copy commits first...
        raise IntegrityError("duplicate key")  # ...and this one hits the unique index

    monkeypatch.setattr(purchases, "transaction_record", racing)
    tx, repeat = services.transaction_receive(
        customer=customer, amount=Decimal("80"), source=TransactionSource.API, external_ref="S-1"
    )
    assert repeat and tx == Transaction.objects.get()
