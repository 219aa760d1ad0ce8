"""Services for membership: the points ledger and tiers.

Kept beside services.py (not in it) so each module stays under ~400 lines; the
same rules apply: keyword-only, typed, one transaction each, full_clean().

Every points change locks the customer row first (select_for_update), so two
desks redeeming at once queue up and neither can spend points the other took.
"""

import datetime
import math
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.lib.users import acting_user
from customers.models import Customer, PointsEntry, PointsKind, Tier, TierChange, TierChangeKind


def points_expiry_days() -> int:
    return settings.CRM_POINTS_EXPIRY_DAYS


def tier_window() -> datetime.timedelta:
    return datetime.timedelta(days=settings.CRM_TIER_WINDOW_DAYS)


def _lock(customer: Customer) -> Customer:
    return (
        Customer.objects.select_for_update().only("pk", "points_balance", "tier_id", "tier_since").get(pk=customer.pk)
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
    reason: str,
    reference: str,
    actor: AbstractBaseUser | None,
    earned_on: datetime.date | None = None,
) -> PointsEntry:
    at = timezone.now()
    earned_on = earned_on or timezone.localdate(at)
    balance = locked.points_balance + points
    if balance < 0:
        raise ValidationError(
            _("Cannot take %(points)s points: the balance is only %(balance)s.")
            % {"points": -points, "balance": locked.points_balance}
        )
    adds = points > 0
    entry = PointsEntry(
        customer=customer,
        kind=kind,
        points=points,
        balance_after=balance,
        reason=str(reason)[:255],
        reference=reference,
        expires_on=(earned_on + datetime.timedelta(days=points_expiry_days())) if adds else None,
        remaining=points if adds else 0,
        created_by=acting_user(actor),
        at=at,
    )
    entry.full_clean()
    if points < 0:
        _take_from_lots(customer_id=customer.pk, points=-points, prefer_reference=reference)
    entry.save()
    Customer.objects.filter(pk=customer.pk).update(points_balance=balance)
    customer.points_balance = balance
    return entry


def _positive(points: int) -> None:
    if points <= 0:
        raise ValidationError({"points": _("Enter a number of points greater than zero.")})


@transaction.atomic
def points_earn(
    *,
    customer: Customer,
    points: int,
    reason: str = "",
    reference: str = "",
    actor: AbstractBaseUser | None = None,
    earned_on: datetime.date | None = None,
) -> PointsEntry:
    """Add points as a lot that expires CRM_POINTS_EXPIRY_DAYS after `earned_on` (default today)."""
    _positive(points)
    return _write(
        customer=customer,
        locked=_lock(customer),
        kind=PointsKind.EARNED,
        points=points,
        reason=reason,
        reference=reference,
        actor=actor,
        earned_on=earned_on,
    )


@transaction.atomic
def points_redeem(
    *,
    customer: Customer,
    points: int,
    reason: str = "",
    reference: str = "",
    actor: AbstractBaseUser | None = None,
) -> PointsEntry:
    _positive(points)
    locked = _lock(customer)
    if points > locked.points_balance:
        raise ValidationError(
            {
                "points": _("Cannot redeem %(points)s points: the balance is only %(balance)s.")
                % {"points": points, "balance": locked.points_balance}
            }
        )
    return _write(
        customer=customer,
        locked=locked,
        kind=PointsKind.REDEEMED,
        points=-points,
        reason=reason,
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
    locked = _lock(customer)
    if points + locked.points_balance < 0:
        raise ValidationError(
            {
                "points": _("Cannot take %(points)s points: the balance is only %(balance)s.")
                % {"points": -points, "balance": locked.points_balance}
            }
        )
    return _write(
        customer=customer,
        locked=locked,
        kind=PointsKind.ADJUSTED,
        points=points,
        reason=reason,
        reference="",
        actor=actor,
    )


@transaction.atomic
def points_reverse(
    *, customer: Customer, points: int, reason: str, reference: str = "", actor: AbstractBaseUser | None = None
) -> PointsEntry:
    """Take back earned points (a refund). Never below zero: what was already spent stays spent, and is noted."""
    _positive(points)
    locked = _lock(customer)
    reversed_points = min(points, locked.points_balance)
    if reversed_points < points:
        reason = gettext("%(reason)s (reversed %(done)s of %(asked)s points; the rest were already used)") % {
            "reason": reason,
            "done": reversed_points,
            "asked": points,
        }
    return _write(
        customer=customer,
        locked=locked,
        kind=PointsKind.REVERSED,
        points=-reversed_points,
        reason=reason,
        reference=reference,
        actor=actor,
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
    customer = locked = Customer.objects.select_for_update().only("pk", "points_balance").get(pk=customer_id)
    lots = PointsEntry.objects.filter(customer_id=customer_id, remaining__gt=0, expires_on__lte=today)
    due = sum(lots.values_list("remaining", flat=True))
    if not due:
        return None
    lots.update(remaining=0)
    entry = PointsEntry(
        customer=customer,
        kind=PointsKind.EXPIRED,
        points=-due,
        balance_after=locked.points_balance - due,
        reason=gettext("Points earned before %(date)s expired")
        % {"date": today - datetime.timedelta(points_expiry_days())},
        at=timezone.now(),
    )
    entry.full_clean()
    entry.save()
    Customer.objects.filter(pk=customer_id).update(points_balance=entry.balance_after)
    return entry


def tier_for_spend(*, tiers: list[Tier], spend: Decimal) -> Tier | None:
    """The highest tier whose threshold the spend reaches (tiers in rank order)."""
    reached = None
    for tier in tiers:
        if spend >= tier.min_spend:
            reached = tier
    return reached


@transaction.atomic
def tier_apply(
    *,
    customer: Customer,
    window_spend: Decimal,
    tiers: list[Tier] | None = None,
    now: datetime.datetime | None = None,
) -> TierChange | None:
    """Move the customer to the tier their spend in the window earns.

    Up at once. Down only once they have held their tier for a whole window, so a
    quiet month does not cost a member the tier they earned last year.
    """
    now = now or timezone.now()
    tiers = tiers if tiers is not None else list(Tier.objects.order_by("rank"))
    locked = _lock(customer)
    ranks = {t.pk: t.rank for t in tiers}
    target = tier_for_spend(tiers=tiers, spend=window_spend)
    if (target.pk if target else None) == locked.tier_id:
        return None
    current_rank = ranks.get(locked.tier_id, -1) if locked.tier_id else -1
    target_rank = target.rank if target else -1
    if target_rank > current_rank:
        kind = TierChangeKind.UPGRADE
    elif locked.tier_since is None or locked.tier_since <= now - tier_window():
        kind = TierChangeKind.DOWNGRADE
    else:
        return None
    change = TierChange(
        customer=customer,
        kind=kind,
        from_tier_id=locked.tier_id,
        to_tier=target,
        reason=gettext("Spend %(spend)s in the last %(days)s days")
        % {
            "spend": f"{window_spend:,.2f}",
            "days": settings.CRM_TIER_WINDOW_DAYS,
        },
        at=now,
    )
    change.full_clean()
    change.save()
    Customer.objects.filter(pk=customer.pk).update(tier=target, tier_since=now)
    customer.tier, customer.tier_since = target, now
    return change


def tier_record_manual(
    *, customer: Customer, from_tier: Tier | None, actor: AbstractBaseUser | None, at: datetime.datetime
) -> TierChange:
    """Staff set the tier by hand (customer form or admin); called inside customer_update's transaction."""
    return TierChange.objects.create(
        customer=customer,
        kind=TierChangeKind.MANUAL,
        from_tier=from_tier,
        to_tier=customer.tier,
        created_by=acting_user(actor),
        at=at,
    )


def tier_progress(*, customer: Customer, tiers: list[Tier], window_spend: Decimal) -> dict:
    """Where the customer stands: the next tier up, what is still to spend, and a percentage for a bar."""
    current_rank = customer.tier.rank if customer.tier else -1
    above = [t for t in tiers if t.rank > current_rank]
    if not above:
        return {"next_tier": None, "to_spend": Decimal(0), "percent": 100, "window_spend": window_spend}
    nxt = above[0]
    percent = 100 if not nxt.min_spend else min(100, math.floor(100 * window_spend / nxt.min_spend))
    return {
        "next_tier": nxt,
        "to_spend": max(Decimal(0), nxt.min_spend - window_spend),
        "percent": percent,
        "window_spend": window_spend,
    }
