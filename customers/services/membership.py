"""Membership's points ledger: earning, redeeming, adjusting, reversing, expiring and merging points.

Tiers are in customers/services/tiers.py.

Every points change locks the customer row first (select_for_update), so two
desks redeeming at once queue up and neither can spend points the other took.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.lib.users import acting_user
from customers.models import Customer, PointsEntry, PointsKind, PointsReason, Reason


def points_expiry_days() -> int:
    return settings.CRM_POINTS_EXPIRY_DAYS


def customer_lock(customer: Customer) -> Customer:
    return (
        Customer.objects.select_for_update().only("pk", "points_balance", "tier_id", "tier_since").get(pk=customer.pk)
    )


def lot_expires_on(earned_on: datetime.date) -> datetime.date:
    """The day a lot of points earned on `earned_on` lapses: CRM_POINTS_EXPIRY_DAYS later."""
    return earned_on + datetime.timedelta(days=points_expiry_days())


def _balance_after(*, kind: PointsKind, points: int, balance: int) -> int:
    """The balance once `points` are booked on `balance`; refused if it would go below zero."""
    after = balance + points
    if after < 0:
        if kind == PointsKind.REDEEMED:
            message = _("Cannot redeem %(points)s points: the balance is only %(balance)s.")
        else:
            message = _("Cannot take %(points)s points: the balance is only %(balance)s.")
        raise ValidationError({"points": message % {"points": -points, "balance": balance}})
    return after


def _ledger_write(entry: PointsEntry, *, balance: int) -> PointsEntry:
    """The one writer of the ledger: the entry and its customer's balance change together.

    `balance` is the customer's balance before the entry, read from the row the caller
    has locked (after a merge, with the other customer's moved lots included).
    """
    entry.balance_after = _balance_after(kind=entry.kind, points=entry.points, balance=balance)
    entry.full_clean()
    entry.save()
    Customer.objects.filter(pk=entry.customer_id).update(points_balance=entry.balance_after)
    entry.customer.points_balance = entry.balance_after
    return entry


def _ledger_write_bulk(entries: list[PointsEntry], *, balances: dict[int, int]) -> None:
    """The ledger writer's bulk form: `entries` in booking order, each customer's running balance
    carried from `balances` (read from rows the caller has locked); one insert, one balance update."""
    for entry in entries:
        entry.balance_after = balances[entry.customer_id] = _balance_after(
            kind=entry.kind, points=entry.points, balance=balances[entry.customer_id]
        )
    PointsEntry.objects.bulk_create(entries, batch_size=2000)
    booked = {entry.customer_id for entry in entries}
    Customer.objects.bulk_update(
        [Customer(pk=pk, points_balance=balances[pk]) for pk in booked], ["points_balance"], batch_size=1000
    )


def _take_from_lots(*, customer_id: int, points: int, prefer_reference: str = "") -> None:
    """Use up `points` from the customer's lots: a named lot first (a refunded purchase), then oldest first."""
    lots = list(
        PointsEntry.objects.filter(customer_id=customer_id, remaining__gt=0)
        .order_by("expires_on", "id")
        .only("pk", "remaining", "reference")
    )
    if prefer_reference:
        lots.sort(key=lambda lot: lot.reference != prefer_reference)
    left = points
    for lot in lots:
        if left == 0:
            break
        used = min(lot.remaining, left)
        lot.remaining -= used
        left -= used
        PointsEntry.objects.filter(pk=lot.pk).update(remaining=lot.remaining)


def _write(
    *,
    customer: Customer,
    locked: Customer,
    kind: PointsKind,
    points: int,
    reason: Reason,
    reference: str,
    actor: AbstractBaseUser | None,
    earned_on: datetime.date | None = None,
) -> PointsEntry:
    """Points in make a lot that expires; points out are taken from the lots."""
    at = timezone.now()
    adds = points > 0
    entry = _ledger_write(
        PointsEntry(
            customer=customer,
            kind=kind,
            points=points,
            reason_code=reason.code,
            reason_params=reason.params,
            reference=reference,
            expires_on=lot_expires_on(earned_on or timezone.localdate(at)) if adds else None,
            remaining=points if adds else 0,
            created_by=acting_user(actor),
            at=at,
        ),
        balance=locked.points_balance,
    )
    if points < 0:
        _take_from_lots(customer_id=customer.pk, points=-points, prefer_reference=reference)
    return entry


def _as_reason(reason: Reason | str) -> Reason:
    """A coded reason as given; text (what staff typed) is kept as typed."""
    return reason if isinstance(reason, Reason) else Reason.typed(reason)


def _positive(points: int) -> None:
    if points <= 0:
        raise ValidationError({"points": _("Enter a number of points greater than zero.")})


@transaction.atomic
def points_earn(
    *,
    customer: Customer,
    points: int,
    reason: Reason | str = "",
    reference: str = "",
    actor: AbstractBaseUser | None = None,
    earned_on: datetime.date | None = None,
) -> PointsEntry:
    """Add points as a lot that expires CRM_POINTS_EXPIRY_DAYS after `earned_on` (default today)."""
    _positive(points)
    return _write(
        customer=customer,
        locked=customer_lock(customer),
        kind=PointsKind.EARNED,
        points=points,
        reason=_as_reason(reason),
        reference=reference,
        actor=actor,
        earned_on=earned_on,
    )


@transaction.atomic
def points_redeem(
    *,
    customer: Customer,
    points: int,
    reason: Reason | str = "",
    reference: str = "",
    actor: AbstractBaseUser | None = None,
) -> PointsEntry:
    _positive(points)
    return _write(
        customer=customer,
        locked=customer_lock(customer),
        kind=PointsKind.REDEEMED,
        points=-points,
        reason=_as_reason(reason),
        reference=reference,
        actor=actor,
    )


@transaction.atomic
def points_adjust(*, customer: Customer, points: int, reason: str, actor: AbstractBaseUser | None) -> PointsEntry:
    """A staff correction, up or down; always with a reason. Points added expire like earned ones."""
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = _("Say why the points are adjusted.")
    if points == 0:
        errors["points"] = _("Enter a number of points other than zero.")
    if errors:
        raise ValidationError(errors)
    return _write(
        customer=customer,
        locked=customer_lock(customer),
        kind=PointsKind.ADJUSTED,
        points=points,
        reason=Reason.typed(reason),
        reference="",
        actor=actor,
    )


@transaction.atomic
def points_reverse(
    *,
    customer: Customer,
    points: int,
    reason: Reason | str,
    reference: str = "",
    actor: AbstractBaseUser | None = None,
) -> PointsEntry:
    """Take back earned points (a refund). Never below zero: what was already spent stays spent, and is noted."""
    _positive(points)
    locked = customer_lock(customer)
    reversed_points = min(points, locked.points_balance)
    reason = _as_reason(reason)
    if reversed_points < points:
        reason = Reason(reason.code, {**reason.params, "done": reversed_points, "asked": points})
    return _write(
        customer=customer,
        locked=locked,
        kind=PointsKind.REVERSED,
        points=-reversed_points,
        reason=reason,
        reference=reference,
        actor=actor,
    )


@dataclass(frozen=True)
class Earning:
    """Points earned at `at`, for points_earn_bulk."""

    customer_id: int
    points: int
    at: datetime.datetime
    reason: Reason
    reference: str = ""
    expired_reason: Reason | None = None  # its expiry entry's, when the lot has lapsed already


def points_earn_bulk(*, earnings: list[Earning], balances: dict[int, int], today: datetime.date | None = None) -> None:
    """Demo data and trusted back-fills: book many earnings at once, each a lot dated when it was earned.

    A lot whose expiry date has already come is written as expired on that date, so the
    ledger reads as if the daily job had run all along. `balances` are the customers'
    balances, read from rows the caller has locked in its transaction.
    """
    today = today or timezone.localdate()
    by_customer: dict[int, list[tuple[datetime.datetime, int, PointsEntry]]] = defaultdict(list)
    for earning in earnings:
        expires_on = lot_expires_on(timezone.localdate(earning.at))
        lapsed = expires_on <= today
        events = by_customer[earning.customer_id]  # (when, order, entry): earnings before expiries at the same moment
        lot = PointsEntry(
            customer_id=earning.customer_id,
            kind=PointsKind.EARNED,
            points=earning.points,
            reason_code=earning.reason.code,
            reason_params=earning.reason.params,
            reference=earning.reference,
            expires_on=expires_on,
            remaining=0 if lapsed else earning.points,
            at=earning.at,
        )
        events.append((earning.at, 0, lot))
        if lapsed:
            at = timezone.make_aware(datetime.datetime.combine(expires_on, datetime.time.min))
            expired_reason = earning.expired_reason or Reason(
                PointsReason.EXPIRED, {"date": timezone.localdate(earning.at).isoformat()}
            )
            expiry = PointsEntry(
                customer_id=earning.customer_id,
                kind=PointsKind.EXPIRED,
                points=-earning.points,
                reason_code=expired_reason.code,
                reason_params=expired_reason.params,
                reference=earning.reference,
                at=at,
            )
            events.append((at, 1, expiry))
    _ledger_write_bulk(
        [entry for events in by_customer.values() for _at, _order, entry in sorted(events, key=lambda e: e[:2])],
        balances=balances,
    )


def points_merge(*, survivor: Customer, other: Customer, actor: AbstractBaseUser | None) -> PointsEntry | None:
    """customer_merge's part, once the other's ledger rows have moved to the survivor (both rows locked):
    one entry stating the survivor's new balance, since the moved rows keep their old running balances."""
    if not other.points_balance:
        return None
    return _ledger_write(
        PointsEntry(
            customer=survivor,
            kind=PointsKind.ADJUSTED,
            points=0,
            reason_code=PointsReason.MERGED,
            reason_params={"number": other.crm_number, "points": other.points_balance},
            created_by=acting_user(actor),
        ),
        balance=survivor.points_balance + other.points_balance,
    )


def points_expire_due(*, today: datetime.date | None = None) -> int:
    """Expire every lot whose date has come; returns how many customers lost points.

    One transaction per customer, so a long run holds no lock for long; running it
    again the same day finds nothing left to expire.
    """
    today = today or timezone.localdate()
    customer_ids = (
        PointsEntry.objects.filter(remaining__gt=0, expires_on__lte=today)
        .order_by("customer_id")
        .values_list("customer_id", flat=True)
        .distinct()
    )
    count = 0
    for customer_id in customer_ids.iterator(chunk_size=2000):
        if _points_expire_customer(customer_id=customer_id, today=today):
            count += 1
    return count


@transaction.atomic
def _points_expire_customer(*, customer_id: int, today: datetime.date) -> PointsEntry | None:
    customer = Customer.objects.select_for_update().only("pk", "points_balance").get(pk=customer_id)
    lots = PointsEntry.objects.filter(customer_id=customer_id, remaining__gt=0, expires_on__lte=today)
    due = sum(lots.values_list("remaining", flat=True))
    if not due:
        return None
    lots.update(remaining=0)
    return _ledger_write(
        PointsEntry(
            customer=customer,
            kind=PointsKind.EXPIRED,
            points=-due,
            reason_code=PointsReason.EXPIRED,
            reason_params={"date": (today - datetime.timedelta(points_expiry_days())).isoformat()},
            at=timezone.now(),
        ),
        balance=customer.points_balance,
    )
