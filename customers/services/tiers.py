"""Membership's tiers: the tier a member's spend earns (up at once, down after a window), tiers set
by hand, and the progress to the next one."""

import datetime
import math
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from crm.lib.users import acting_user
from customers.models import Customer, Tier, TierChange, TierChangeKind, TierChangeReason
from customers.services.membership import customer_lock


def tier_window() -> datetime.timedelta:
    return datetime.timedelta(days=settings.CRM_TIER_WINDOW_DAYS)


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
    locked = customer_lock(customer)
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
        reason_code=TierChangeReason.SPEND,
        reason_params={"spend": str(window_spend), "days": settings.CRM_TIER_WINDOW_DAYS},
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
