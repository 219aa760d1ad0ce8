"""Writes about purchases: record, refund, and the membership rules that follow from spend.

Tier evaluation lives here, not in customers, because it needs spend, which is
ours; the rule itself (up at once, down after a window) is customers.services.tiers.tier_apply.
"""

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, Q
from django.db.transaction import atomic
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.lib.once import record_once
from crm.lib.users import acting_user
from customers.models import Category, Customer, PointsReason, Reason, Tier
from customers.services import membership
from customers.services.tiers import tier_apply, tier_for_spend, tier_window
from interactions.coupons import coupon_apply, coupon_restore
from interactions.models import (
    Channel,
    FlagReason,
    Product,
    Transaction,
    TransactionLine,
    TransactionSource,
    TransactionStatus,
)
from interactions.selectors import customers_with_window_spend
from interactions.services.stats import purchase_stats_refresh
from interactions.signals import purchase_changed

# A purchase is flagged for a second look (not refused) when it is far above the
# customer's usual order, or one of a burst: both are how card or points fraud shows.
FLAG_AMOUNT_FACTOR = 5
FLAG_MIN_PRIOR_ORDERS = 3
FLAG_BURST_COUNT = 5
FLAG_BURST_WINDOW = datetime.timedelta(minutes=10)


@dataclass(frozen=True)
class LineInput:
    product: Product | None = None
    quantity: int = 1
    unit_price: Decimal | None = None
    description: str = ""


@atomic
def product_save(
    *,
    sku: str,
    name: str,
    price: Decimal,
    category: Category | None = None,
    active: bool = True,
    product: Product | None = None,
) -> Product:
    """Update `product`, or the one with this SKU, or create it: catalogue loads can run again."""
    product = product or Product.objects.filter(sku=sku).first() or Product()
    product.sku, product.name, product.price, product.category, product.active = sku, name, price, category, active
    product.full_clean()
    product.save()
    return product


def transaction_reference(transaction: Transaction) -> str:
    """How the points ledger names a purchase (PointsEntry.reference)."""
    return f"transaction:{transaction.pk}"


def purchase_points(*, amount: Decimal, tier: Tier | None) -> int:
    """The points a purchase earns: the amount times the tier's multiplier, rounded down."""
    return math.floor(amount * (tier.points_multiplier if tier else Decimal(1)))


def purchase_points_reason(transaction: Transaction) -> Reason:
    """What the points ledger says about a purchase's points."""
    return Reason(PointsReason.PURCHASE, {"id": transaction.pk})


def _flag_reasons(*, customer: Customer, amount: Decimal, occurred_at: datetime.datetime) -> list[dict]:
    prior = Transaction.objects.filter(customer=customer).aggregate(
        orders=Count("pk"),
        average=Avg("amount"),
        burst=Count("pk", filter=Q(occurred_at__gt=occurred_at - FLAG_BURST_WINDOW, occurred_at__lte=occurred_at)),
    )
    reasons = []
    if prior["orders"] >= FLAG_MIN_PRIOR_ORDERS and amount > FLAG_AMOUNT_FACTOR * prior["average"]:
        reasons.append(
            {
                "code": FlagReason.LARGE_AMOUNT,
                "params": {"factor": FLAG_AMOUNT_FACTOR, "average": str(round(prior["average"], 2))},
            }
        )
    if prior["burst"] + 1 > FLAG_BURST_COUNT:
        reasons.append(
            {
                "code": FlagReason.BURST,
                "params": {"count": prior["burst"] + 1, "minutes": int(FLAG_BURST_WINDOW.total_seconds() // 60)},
            }
        )
    return reasons


@atomic
def transaction_record(
    *,
    customer: Customer,
    amount: Decimal,
    channel: Channel = Channel.STORE,
    store: str = "",
    occurred_at: datetime.datetime | None = None,
    lines: list[LineInput] | tuple[LineInput, ...] = (),
    currency: str | None = None,
    source: TransactionSource = TransactionSource.STAFF,
    external_ref: str = "",
    coupon_code: str = "",
    actor: AbstractBaseUser | None = None,
) -> Transaction:
    """Record a purchase, earn its points at the customer's tier multiplier, flag it if unusual, upgrade the tier.

    With a coupon code, `amount` is the price before the coupon: the coupon's rules decide its discount
    (interactions.coupons), the purchase stores what was paid, and the coupon is used by this purchase."""
    if amount is None or Decimal(amount) <= 0:
        raise ValidationError({"amount": _("The amount must be greater than zero.")})
    amount = Decimal(amount)
    # Lock first: flags, points and tier for one customer are decided one purchase at a time.
    locked = Customer.objects.select_for_update(of=("self",)).select_related("tier").get(pk=customer.pk)
    occurred_at = occurred_at or timezone.now()
    coupon = None
    if coupon_code.strip():
        coupon = coupon_apply(
            code=coupon_code, customer=locked, amount=amount, lines=lines, at=occurred_at, actor=actor
        )
        if coupon.discount >= amount:
            raise ValidationError({"coupon_code": _("The coupon would cover the whole purchase.")})
        amount, coupon_code = amount - coupon.discount, coupon.code
    tx = Transaction(
        customer=customer,
        amount=amount,
        channel=channel,
        store=store,
        occurred_at=occurred_at,
        source=source,
        external_ref=external_ref,
        coupon_code=coupon_code,
        discount=coupon.discount if coupon else 0,
        recorded_by=acting_user(actor),
    )
    if currency:
        tx.currency = currency
    reasons = _flag_reasons(customer=customer, amount=amount, occurred_at=occurred_at)
    tx.flagged, tx.flag_reasons = bool(reasons), reasons
    tx.points_earned = purchase_points(amount=amount, tier=locked.tier)
    tx.full_clean()
    tx.save()

    line_rows = []
    for line in lines:
        unit_price = line.unit_price if line.unit_price is not None else (line.product.price if line.product else None)
        row = TransactionLine(
            transaction=tx,
            product=line.product,
            description=line.description or (line.product.name if line.product else ""),
            quantity=line.quantity,
            unit_price=unit_price,
            line_total=(unit_price or 0) * line.quantity,
        )
        row.full_clean(exclude=["transaction"])
        line_rows.append(row)
    TransactionLine.objects.bulk_create(line_rows)
    if coupon is not None:
        coupon.claim(tx)

    if tx.points_earned:
        membership.points_earn(
            customer=customer,
            points=tx.points_earned,
            reason=purchase_points_reason(tx),
            reference=transaction_reference(tx),
            actor=actor,
            earned_on=timezone.localdate(occurred_at),
        )
    purchase_stats_refresh(customer_ids=[customer.pk])
    tiers_evaluate(customer_ids=[customer.pk])
    return tx


def transaction_receive(
    *, customer: Customer, amount: Decimal, source: TransactionSource, external_ref: str, **fields: Any
) -> tuple[Transaction, bool]:
    """Record an order that another system names by `external_ref`, once: returns (purchase, repeat).

    The same order again (a retry after a timeout, or two copies racing) returns the purchase
    already stored. The reference reused for another customer or amount is refused with a
    ValidationError whose errors have the code "conflict" and the stored purchase's id in
    their params (existing_id).
    """

    def stored() -> Transaction | None:
        found = Transaction.objects.select_related("customer").filter(source=source, external_ref=external_ref).first()
        if found is not None:
            _same_order(found, customer=customer, amount=amount)
        return found

    return record_once(
        find=stored,
        create=lambda: transaction_record(
            customer=customer, amount=amount, source=source, external_ref=external_ref, **fields
        ),
    )


def _same_order(stored: Transaction, *, customer: Customer, amount: Decimal) -> None:
    errors = {}
    if stored.customer_id != customer.pk:
        errors["customer"] = ValidationError(
            _("This order was recorded for another member."), code="conflict", params={"existing_id": stored.pk}
        )
    if stored.amount + stored.discount != amount:  # the price before its coupon, as it was sent
        errors["amount"] = ValidationError(
            _("This order was recorded with the amount %(amount)s."),
            code="conflict",
            params={"amount": stored.amount, "existing_id": stored.pk},
        )
    if errors:
        raise ValidationError(errors)


@atomic
def transaction_refund(
    *,
    transaction: Transaction,
    amount: Decimal | None = None,
    reason: str = "",
    actor: AbstractBaseUser | None = None,
) -> Transaction:
    """Refund all or part of a purchase and take back the same share of its points, as far as they are left."""
    customer = Customer.objects.select_for_update().only("pk").get(pk=transaction.customer_id)
    tx = Transaction.objects.select_for_update().get(pk=transaction.pk)
    refundable = tx.amount - tx.refunded_amount
    if refundable <= 0:
        raise ValidationError(_("This purchase has already been refunded in full."))
    amount = refundable if amount is None else Decimal(amount)
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be greater than zero.")})
    if amount > refundable:
        raise ValidationError(
            {"amount": _("At most %(amount)s can still be refunded.") % {"amount": f"{refundable:,.2f}"}}
        )
    before, after = tx.refunded_amount, tx.refunded_amount + amount
    share = math.floor(tx.points_earned * after / tx.amount) - math.floor(tx.points_earned * before / tx.amount)
    tx.refunded_amount = after
    tx.status = TransactionStatus.REFUNDED if after == tx.amount else TransactionStatus.PARTIALLY_REFUNDED
    if share > 0:
        params = {"amount": str(amount), "id": tx.pk}
        if note := str(reason or "").strip()[:200]:
            params["note"] = note  # what staff typed, kept as typed
        entry = membership.points_reverse(
            customer=customer,
            points=share,
            reason=Reason(PointsReason.REFUND, params),
            reference=transaction_reference(tx),
            actor=actor,
        )
        tx.points_reversed += -entry.points
    tx.full_clean()
    tx.save(update_fields=["refunded_amount", "status", "points_reversed"])
    purchase_changed.send(sender=Transaction, transaction=tx)
    if tx.status == TransactionStatus.REFUNDED and tx.coupon_code:
        coupon_restore(transaction=tx)
    purchase_stats_refresh(customer_ids=[customer.pk])
    transaction.refunded_amount, transaction.status = tx.refunded_amount, tx.status
    transaction.points_reversed = tx.points_reversed
    return tx


def tiers_evaluate(*, customer_ids: list[int] | None = None, now: datetime.datetime | None = None) -> int:
    """Put every customer (or the ones named) in the tier their spend in the window earns; returns changes made.

    Only customers whose tier would move are locked and written, each in its own
    transaction; running it again at once changes nothing.
    """
    now = now or timezone.now()
    tiers = list(Tier.objects.order_by("rank"))
    if not tiers:
        return 0
    queryset = customers_with_window_spend(since=now - tier_window(), until=now)
    if customer_ids is not None:
        queryset = queryset.filter(pk__in=customer_ids)
    changed = 0
    for customer in queryset.iterator(chunk_size=2000):
        target = tier_for_spend(tiers=tiers, spend=customer.window_spend)
        if (target.pk if target else None) == customer.tier_id:
            continue
        if tier_apply(customer=customer, window_spend=customer.window_spend, tiers=tiers, now=now):
            changed += 1
    return changed


def membership_maintain(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """The daily run: expire points that are due, then move tiers. Safe to run twice."""
    now = now or timezone.now()
    return {
        "points_expired": membership.points_expire_due(today=timezone.localdate(now)),
        "tier_changes": tiers_evaluate(now=now),
    }


def transactions_bulk_load(*, transactions: list[Transaction], lines: list[list[TransactionLine]]) -> int:
    """Demo data and trusted back-fills only: insert many purchases fast, then bring points and tiers in line.

    No per-row validation or flagging; amounts must be positive (the database still
    checks). Each purchase earns points at the customer's current multiplier,
    dated the purchase day; lots whose expiry date has already passed are written
    as expired on that date, so the ledger reads as if the daily job had run all along.
    """
    with atomic():
        customer_ids = {t.customer_id for t in transactions}
        customers = {
            c.pk: c
            for c in Customer.objects.filter(pk__in=customer_ids).select_related("tier").select_for_update(of=("self",))
        }
        for tx in transactions:
            tx.points_earned = purchase_points(amount=tx.amount, tier=customers[tx.customer_id].tier)
        Transaction.objects.bulk_create(transactions, batch_size=2000)
        for tx, tx_lines in zip(transactions, lines, strict=True):
            for line in tx_lines:
                line.transaction = tx
        TransactionLine.objects.bulk_create([line for tx_lines in lines for line in tx_lines], batch_size=2000)
        membership.points_earn_bulk(
            earnings=[
                membership.Earning(
                    customer_id=tx.customer_id,
                    points=tx.points_earned,
                    at=tx.occurred_at,
                    reason=purchase_points_reason(tx),
                    reference=transaction_reference(tx),
                    expired_reason=Reason(PointsReason.PURCHASE_EXPIRED, {"id": tx.pk}),
                )
                for tx in transactions
                if tx.points_earned
            ],
            balances={pk: c.points_balance for pk, c in customers.items()},
        )
        purchase_stats_refresh(customer_ids=customer_ids)
    tiers_evaluate(customer_ids=list(customer_ids))
    return len(transactions)
