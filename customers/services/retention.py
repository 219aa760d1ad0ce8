"""Retention: the personal data of members inactive for RETENTION_INACTIVE_YEARS is erased, as on request.

A chunk of members (a range of ids) at a time; each member through customer_erase, in its own transaction,
with no actor and the reason "retention". An erased member is never picked again, so a run killed midway and
run again erases the rest and nothing twice.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max, Min
from django.utils import timezone

from crm.lib.dates import years_before
from customers.activity import activity_conditions
from customers.models import Customer
from customers.services.erasure import customer_erase

RETENTION_CHUNK = 5_000
RETENTION_REASON = "retention"


@dataclass(frozen=True)
class RetentionProgress:
    upto_id: int  # members with a lower id have been looked at
    last_id: int
    erased: int


def retention_cutoff(now: datetime.datetime | None = None) -> datetime.datetime | None:
    """Members with nothing since this time are inactive; None when the retention is off (0 years)."""
    years = settings.RETENTION_INACTIVE_YEARS
    return years_before(now or timezone.now(), years) if years > 0 else None


def members_inactive_since(cutoff: datetime.datetime, *, lo: int, hi: int) -> list[Customer]:
    """The not yet erased members with ids in [lo, hi) and no activity (customers.activity) since `cutoff`."""
    members = Customer.objects.filter(pk__gte=lo, pk__lt=hi, erased_at__isnull=True)
    for active in activity_conditions(cutoff):
        members = members.exclude(active)
    return list(members.only("pk", "crm_number").order_by("pk"))


def members_retention_apply(
    *,
    now: datetime.datetime | None = None,
    chunk: int = RETENTION_CHUNK,
    progress: Callable[[RetentionProgress], None] | None = None,
) -> int:
    """Erase every member inactive since the retention's cut-off; how many were erased now."""
    cutoff = retention_cutoff(now)
    if cutoff is None:
        return 0
    bounds = Customer.objects.filter(erased_at__isnull=True).aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return 0
    erased = 0
    for lo in range(bounds["lo"], bounds["hi"] + 1, chunk):
        for member in members_inactive_since(cutoff, lo=lo, hi=lo + chunk):
            erased += customer_erase(
                customer=member, actor=None, confirm_number=member.crm_number, reason=RETENTION_REASON
            )
        if progress:
            progress(RetentionProgress(upto_id=min(lo + chunk, bounds["hi"] + 1), last_id=bounds["hi"], erased=erased))
    return erased
