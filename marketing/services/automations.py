"""Automations: find the members each occasion is due for, and hand them to the sending engine.

One `<kind>_due(automation, now)` per kind answers {occasion: [customer ids]} with set-based queries (a
birthday by month and day, never a loop over members). `automation_run` hands each occasion's members to
marketing.services.sending.messages_prepare, which writes one Message row per (campaign, member, occasion)
(unique in the database, the control draw included) and dispatches them: so a member gets an occasion once
however often the job runs, restarts or overlaps, and a run that finds nothing new writes nothing.

The due rules read a window rather than "exactly today", so a run missed (a worker down, a deploy at the
wrong minute) is caught up by the next, and a member who joins two days before their birthday is still
greeted: birthdays and lapsing points from today to N days ahead; events (sign-ups, upgrades, purchases) since
the last run, at most CATCH_UP_DAYS back and never from before the automation was switched on.
"""

import datetime
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from customers import birthdays
from customers.models import Customer, PointsEntry, TierChange, TierChangeKind
from interactions.models import (
    BehaviourEvent,
    BehaviourKind,
    Direction,
    Interaction,
    InteractionSource,
    PurchaseStats,
    Transaction,
    TransactionStatus,
)
from marketing import surveys
from marketing.models import (
    Automation,
    AutomationKind,
    Campaign,
    CampaignStatus,
    Message,
    MessageStatus,
    SkipReason,
)
from marketing.occasion_context import points_expiry_key
from marketing.selectors import segment_members

logger = logging.getLogger(__name__)

# How far back a run looks for events it may have missed.
CATCH_UP_DAYS = 7
# Rows written in a transaction that committed after the last run looked: the next run looks this far back.
OVERLAP = datetime.timedelta(hours=1)
# Members handed to the sending engine per call (each call is its own transaction there).
PREPARE_CHUNK = 5_000
# A member asked to rate a purchase or contact is not asked again for this many days.
SURVEY_GAP_DAYS = 7
# The contacts a survey asks about: staff talking with the member, not a social mention or a survey reply.
SURVEYED_CONTACT_SOURCES = [InteractionSource.STAFF]

Due = dict[str, list[int]]


def _prepare(*, campaign: Campaign, customer_ids: list[int], occasion: str) -> int:
    # Imported when called: the sending engine imports rendering, which imports this app's occasion values.
    from marketing.services.sending import messages_prepare

    return messages_prepare(campaign=campaign, customer_ids=customer_ids, occasion=occasion)


def _since(automation: Automation, now: datetime.datetime) -> datetime.datetime:
    """Where a run's look-back starts: its last run (less OVERLAP, for rows its query could not see yet), at
    most CATCH_UP_DAYS back, never before it was switched on."""
    start = automation.last_run_at - OVERLAP if automation.last_run_at else automation.enabled_at or now
    since = max(start, now - datetime.timedelta(days=CATCH_UP_DAYS))
    if automation.enabled_at is not None:
        since = max(since, automation.enabled_at)
    return min(since, now)


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _messaged_since(automation: Automation, since: datetime.datetime, *, member: str = "pk") -> QuerySet[Message]:
    """This automation's rows since `since` for the member the outer query's `member` field names."""
    return Message.objects.filter(
        campaign_id=automation.campaign_id, customer_id=OuterRef(member), created_at__gte=since
    )


def _grouped(rows: Iterable[tuple[str, int]]) -> Due:
    due: Due = defaultdict(list)
    for occasion, customer_id in rows:
        due[occasion].append(customer_id)
    return dict(due)


def birthday_due(automation: Automation, now: datetime.datetime) -> Due:
    """Members whose birthday (solar or lunar) falls from today to `days` ahead, keyed by its year.

    One query per key, calendar and month (month = N and day IN (...)), so each reads its month through
    customer_birth_month_idx; those already greeted are taken out by the unique index afterwards (an anti-join
    in the same query was planned as a scan of every member once the year's rows existed)."""
    today = timezone.localdate(now)
    wanted: dict[tuple[str, bool, int], set[int]] = defaultdict(set)
    for day in birthdays.days(today, today + datetime.timedelta(days=automation.days)):
        for month, day_of_month in birthdays.solar_birthdays_on(day):
            wanted[birthdays.birthday_key(day.year), False, month].add(day_of_month)
        if (lunar := birthdays.lunar_birthdays_on(day)) is not None:
            lunar_year, month_days = lunar
            for month, day_of_month in month_days:
                wanted[birthdays.birthday_key(lunar_year), True, month].add(day_of_month)
    due: Due = defaultdict(list)
    for (occasion, lunar, month), days_of_month in wanted.items():
        due[occasion] += (
            Customer.objects.filter(
                birthday_is_lunar=lunar, birthday__month=month, birthday__day__in=sorted(days_of_month)
            )
            .values_list("pk", flat=True)
            .order_by()
        )
    return _new_only(automation, dict(due))


def _already(automation: Automation, occasion: str) -> QuerySet[Message]:
    return Message.objects.filter(campaign_id=automation.campaign_id, customer_id=OuterRef("pk"), occasion=occasion)


def welcome_due(automation: Automation, now: datetime.datetime) -> Due:
    """Members added since the last run, from any source (form, import, API, sign-up). An import of members who
    registered long ago is not a welcome: their registration date must be recent too."""
    since = _since(automation, now)
    ids = list(
        Customer.objects.filter(
            registered_on__gte=timezone.localdate(since) - datetime.timedelta(days=1), created_at__gte=since
        )
        .exclude(Exists(_already(automation, "welcome")))
        .order_by()
        .values_list("pk", flat=True)
    )
    return {"welcome": ids} if ids else {}


def points_expiry_due(automation: Automation, now: datetime.datetime) -> Due:
    """Members with points lapsing within `days`, keyed by the first day some lapse, and at most one warning per
    `days` (a member who earns every day has a lot lapsing every day)."""
    today = timezone.localdate(now)
    warned = _messaged_since(automation, now - datetime.timedelta(days=max(automation.days, 1)), member="customer_id")
    rows = (
        PointsEntry.objects.filter(
            remaining__gt=0, expires_on__gt=today, expires_on__lte=today + datetime.timedelta(days=automation.days)
        )
        .exclude(Exists(warned))
        .order_by("customer_id", "expires_on")
        .distinct("customer_id")
        .values_list("expires_on", "customer_id")
    )
    return _grouped((points_expiry_key(day), customer_id) for day, customer_id in rows)


def win_back_due(automation: Automation, now: datetime.datetime) -> Due:
    """Members whose last purchase is `days` old, keyed by its day ("win_back:2026-05-01"): once per lapse, and
    again only after they bought and lapsed anew."""
    last = timezone.localdate(now) - datetime.timedelta(days=automation.days)
    first = last - datetime.timedelta(days=CATCH_UP_DAYS)
    rows = (
        PurchaseStats.objects.filter(
            last_purchase_at__gte=_day_start(first), last_purchase_at__lt=_day_start(last + datetime.timedelta(days=1))
        )
        .annotate(day=TruncDate("last_purchase_at", tzinfo=timezone.get_current_timezone()))
        .values_list("day", "customer_id")
    )
    return _new_only(automation, _grouped((f"win_back:{day.isoformat()}", customer_id) for day, customer_id in rows))


def tier_upgrade_due(automation: Automation, now: datetime.datetime) -> Due:
    """Members moved up a tier since the last run and still in it, keyed by the tier: once per tier reached."""
    since = _since(automation, now)
    up = Q(kind=TierChangeKind.UPGRADE) | Q(
        kind=TierChangeKind.MANUAL, to_tier__rank__gt=Coalesce(F("from_tier__rank"), -1)
    )
    rows = (
        TierChange.objects.filter(up, at__gte=since, at__lte=now, to_tier__isnull=False)
        .filter(customer__tier_id=F("to_tier_id"))
        .values_list("to_tier_id", "customer_id")
        .distinct()
    )
    return _new_only(automation, _grouped((f"tier_upgrade:{tier_id}", customer_id) for tier_id, customer_id in rows))


def browse_abandonment_due(automation: Automation, now: datetime.datetime) -> Due:
    """Members who viewed one product, or products and pages of one category, `views` times in the last `days`
    days and bought nothing since the period began; at most one such message per period."""
    since = now - datetime.timedelta(days=automation.days)
    views = BehaviourEvent.objects.filter(
        occurred_at__gte=since,
        occurred_at__lte=now,
        kind__in=[BehaviourKind.PRODUCT_VIEW, BehaviourKind.CATEGORY_VIEW],
    )
    interested = set()
    for item in ("product", "category"):
        interested |= set(
            views.filter(**{f"{item}__isnull": False})
            .values("member_id", item)
            .annotate(n=Count("*"))
            .filter(n__gte=automation.views)
            .values_list("member_id", flat=True)
        )
    if not interested:
        return {}
    bought = PurchaseStats.objects.filter(customer_id=OuterRef("pk"), last_purchase_at__gte=since)
    ids = list(
        Customer.objects.filter(pk__in=interested)
        .exclude(Exists(bought))
        .exclude(Exists(_messaged_since(automation, since)))
        .values_list("pk", flat=True)
    )
    return {f"browse:{timezone.localdate(now).isoformat()}": ids} if ids else {}


def survey_due(automation: Automation, now: datetime.datetime) -> Due:
    """A member's latest purchase or staff contact `delay_hours` old (since the last run), one per member, and
    not when they were asked in the last SURVEY_GAP_DAYS days. A contact already scored is not asked about."""
    until = now - datetime.timedelta(hours=automation.delay_hours)
    since = _since(automation, now) - datetime.timedelta(hours=automation.delay_hours)
    if automation.enabled_at is not None:
        since = max(since, automation.enabled_at)
    if since >= until:
        return {}
    asked = _messaged_since(automation, now - datetime.timedelta(days=SURVEY_GAP_DAYS))
    purchases = (
        Transaction.objects.filter(occurred_at__gt=since, occurred_at__lte=until)
        .exclude(status=TransactionStatus.REFUNDED)
        .values_list("customer_id", "occurred_at", "pk")
    )
    contacts = Interaction.objects.filter(
        occurred_at__gt=since,
        occurred_at__lte=until,
        source__in=SURVEYED_CONTACT_SOURCES,
        direction=Direction.INBOUND,
        satisfaction__isnull=True,
    ).values_list("customer_id", "occurred_at", "pk")
    latest: dict[int, tuple[datetime.datetime, str]] = {}
    for subject, rows in ((surveys.Subject.PURCHASE, purchases), (surveys.Subject.CONTACT, contacts)):
        for customer_id, at, pk in rows:
            if customer_id not in latest or at > latest[customer_id][0]:
                latest[customer_id] = (at, surveys.occasion_key(subject, pk))
    if not latest:
        return {}
    recently = set(Customer.objects.filter(pk__in=list(latest)).filter(Exists(asked)).values_list("pk", flat=True))
    rows = ((occasion, customer_id) for customer_id, (_at, occasion) in latest.items() if customer_id not in recently)
    return _new_only(automation, _grouped(rows))


def _new_only(automation: Automation, due: Due) -> Due:
    """`due` without the members who already have a row for that occasion (read through the unique index)."""
    fresh: Due = {}
    for occasion, ids in due.items():
        had: set[int] = set()
        for start in range(0, len(ids), PREPARE_CHUNK):
            chunk = ids[start : start + PREPARE_CHUNK]
            rows = Message.objects.filter(campaign_id=automation.campaign_id, occasion=occasion, customer_id__in=chunk)
            had.update(rows.values_list("customer_id", flat=True))
        if left := [pk for pk in dict.fromkeys(ids) if pk not in had]:
            fresh[occasion] = left
    return fresh


DUE: dict[str, Callable[[Automation, datetime.datetime], Due]] = {
    AutomationKind.BIRTHDAY: birthday_due,
    AutomationKind.WELCOME: welcome_due,
    AutomationKind.POINTS_EXPIRY: points_expiry_due,
    AutomationKind.WIN_BACK: win_back_due,
    AutomationKind.TIER_UPGRADE: tier_upgrade_due,
    AutomationKind.BROWSE_ABANDONMENT: browse_abandonment_due,
    AutomationKind.SURVEY: survey_due,
}


def automation_run(*, automation: Automation, now: datetime.datetime | None = None) -> int:
    """Prepare this automation's due occasions; the number of members newly handed to sending. Does nothing
    while it is switched off. Safe to run at any time, twice, or in two workers at once: the unique occasion
    key decides, and each chunk is prepared in its own transaction, so a run killed halfway is finished by the
    next."""
    now = now or timezone.now()
    automation = Automation.objects.select_related("campaign__segment").get(pk=automation.pk)
    if not automation.enabled:
        return 0
    prepared = 0
    segment = automation.campaign.segment
    try:
        for occasion, ids in DUE[automation.kind](automation, now).items():
            for start in range(0, len(ids), PREPARE_CHUNK):
                chunk = ids[start : start + PREPARE_CHUNK]
                if segment is not None:  # only those in the segment now (e.g. a low probability of being active)
                    chunk = list(segment_members(segment).filter(pk__in=chunk).values_list("pk", flat=True))
                prepared += _prepare(campaign=automation.campaign, customer_ids=chunk, occasion=occasion)
    except ValidationError as error:
        # The campaign cannot be sent as it stands (its channel unavailable, a template broken): shown on the
        # automations page; the window stays where it was, so the next run after the fix catches up.
        reason = " ".join(error.messages)[:255]
        Automation.objects.filter(pk=automation.pk).update(last_error=reason)
        logger.warning("automation %s could not prepare its messages: %s", automation.kind, reason)
        return prepared
    # Moved on only after everything found was prepared, so a crash leaves the window where it was.
    Automation.objects.filter(pk=automation.pk).update(last_run_at=now, last_run_count=prepared, last_error="")
    logger.info("automation %s prepared %s messages", automation.kind, prepared)
    return prepared


@transaction.atomic
def automation_update(
    *,
    automation: Automation,
    enabled: bool,
    days: int | None = None,
    views: int | None = None,
    delay_hours: int | None = None,
    actor: AbstractBaseUser | None = None,
) -> Automation:
    """Switch an automation on or off and set its timing. Switching on starts its look-back afresh, so events
    from while it was off (a month of purchases, of sign-ups) are not all messaged at once."""
    locked = Automation.objects.select_for_update().select_related("campaign").get(pk=automation.pk)
    if enabled and not locked.enabled:
        locked.enabled_at = timezone.now()
        locked.last_run_at = None
    if not enabled and locked.enabled:
        # Switched off: nothing more goes out, what was queued included (a greeting weeks late is worse than none).
        Message.objects.filter(campaign_id=locked.campaign_id, status=MessageStatus.QUEUED).update(
            status=MessageStatus.SKIPPED, skip_reason=SkipReason.CANCELLED
        )
    if enabled and locked.campaign.status == CampaignStatus.PAUSED:
        from marketing.services.sending import campaign_resume  # imported when called, as messages_prepare

        campaign_resume(campaign=locked.campaign, actor=actor)  # paused by failures: switching on resumes it
    locked.enabled = enabled
    for name, value in (("days", days), ("views", views), ("delay_hours", delay_hours)):
        if value is not None:
            setattr(locked, name, value)
    locked.full_clean()
    locked.save()
    return locked
