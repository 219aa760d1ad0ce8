"""Reads of purchases, interactions and reminders shared by the customer page, jobs, reports and (later) analytics."""

import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import (
    Avg,
    Count,
    DecimalField,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from crm.segment_fields import day_start
from customers.models import Category, Customer
from interactions.models import (
    ACTIVE_REMINDER,
    WINDOW_DAYS,
    BehaviourEvent,
    BehaviourKind,
    Interaction,
    InteractionChannel,
    Outcome,
    PurchaseWindows,
    Reminder,
    Transaction,
    TransactionLine,
    TransactionStatus,
    UnmatchedMention,
    window_column,
)

ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=14, decimal_places=2))
NET = F("amount") - F("refunded_amount")


def customers_with_window_spend(*, since: datetime.datetime, until: datetime.datetime) -> QuerySet[Customer]:
    """Customers annotated with `window_spend`: what they paid (less refunds) between the two times."""
    return (
        Customer.objects.order_by("pk")
        .only("pk", "tier_id", "tier_since")
        .annotate(
            window_spend=Coalesce(
                Sum(
                    F("transactions__amount") - F("transactions__refunded_amount"),
                    filter=Q(transactions__occurred_at__gt=since, transactions__occurred_at__lte=until),
                ),
                ZERO,
            )
        )
    )


def transactions_for_customer(*, customer: Customer) -> QuerySet[Transaction]:
    """A customer's purchases newest first, with their lines and products in two more queries."""
    return (
        Transaction.objects.filter(customer=customer)
        .select_related("recorded_by")
        .prefetch_related(Prefetch("lines", queryset=TransactionLine.objects.select_related("product")))
        .order_by("-occurred_at", "-id")
    )


KEPT = ~Q(status=TransactionStatus.REFUNDED)
# What a purchase history adds up to: the customer page's summary and the per-member PurchaseStats rows
# (that segments read) both use these, so the two never disagree. Refunded orders are not orders.
PURCHASE_FACTS = {
    "lifetime_spend": Coalesce(Sum(NET), ZERO),
    "orders": Count("pk", filter=KEPT),
    "average_order": Avg(NET, filter=KEPT),
    "first_purchase": Min("occurred_at"),
    "last_purchase": Max("occurred_at"),
}


def window_since(today: datetime.date, days: int) -> datetime.datetime:
    """Where "the last `days` days" begins on `today`: the start of that local day (as segment rules count it)."""
    return day_start(today - datetime.timedelta(days=days))


def window_facts(today: datetime.date) -> dict[str, Coalesce | Count]:
    """PurchaseStats' window columns as aggregates over a member's purchases, counted up to `today`: orders
    leave refunded ones out, spend is every purchase's net (as segment_fields._window reads the raw history)."""
    facts = {}
    for days in WINDOW_DAYS:
        inside = Q(occurred_at__gte=window_since(today, days))
        facts[window_column("orders", days)] = Count("pk", filter=KEPT & inside)
        facts[window_column("spend", days)] = Coalesce(Sum(NET, filter=inside), ZERO)
    return facts


def purchase_windows_current() -> bool:
    """Whether PurchaseStats' window columns are counted up to today (the daily roll has run)."""
    return PurchaseWindows.objects.filter(pk=1, day=timezone.localdate()).exists()


def purchase_summary(*, customer: Customer, window_since: datetime.datetime) -> dict:
    """Lifetime spend, orders (refunded ones left out), average order, first and last purchase,
    spend in the tier window, and the number of transaction rows, in one query."""
    return Transaction.objects.filter(customer=customer).aggregate(
        transactions=Count("pk"),
        window_spend=Coalesce(Sum(NET, filter=Q(occurred_at__gt=window_since)), ZERO),
        **PURCHASE_FACTS,
    )


def preferred_categories_from_purchases(*, customer: Customer, limit: int = 3) -> list[Category]:
    """The categories the customer spends most on, each with `spent` and `items` attached."""
    rows = (
        TransactionLine.objects.filter(transaction__customer=customer, product__category__isnull=False)
        .exclude(transaction__status=TransactionStatus.REFUNDED)
        .values(
            "product__category",
            "product__category__name",
            "product__category__name_en",
            "product__category__name_zh_hans",
        )
        .annotate(spent=Sum("line_total"), items=Sum("quantity"))
        .order_by("-spent", "product__category__name")[:limit]
    )
    categories = []
    for row in rows:
        category = Category(
            pk=row["product__category"],
            name=row["product__category__name"],
            name_en=row["product__category__name_en"],
            name_zh_hans=row["product__category__name_zh_hans"],
        )
        category.spent, category.items = row["spent"], row["items"]
        categories.append(category)
    return categories


def interactions_for_customer(*, customer: Customer) -> QuerySet[Interaction]:
    """A customer's interactions newest first, with the staff member who logged each."""
    return Interaction.objects.filter(customer=customer).select_related("staff").order_by("-occurred_at", "-id")


def behaviour_days(*, customer: Customer) -> QuerySet:
    """The member's shop behaviour as one row per local day (day, at: its last event, and distinct counts of
    products viewed, categories viewed (a product's view counts for its category), favourites and cart
    additions), unordered: the timeline orders and cuts it."""
    viewed = Q(kind__in=[BehaviourKind.PRODUCT_VIEW, BehaviourKind.CATEGORY_VIEW])
    return (
        BehaviourEvent.objects.filter(member=customer)
        .annotate(day=TruncDate("occurred_at"))
        .values("day")
        .annotate(
            at=Max("occurred_at"),
            products=Count("product", distinct=True, filter=Q(kind=BehaviourKind.PRODUCT_VIEW)),
            categories=Count("category", distinct=True, filter=viewed),
            favourites=Count("product", distinct=True, filter=Q(kind=BehaviourKind.FAVOURITE)),
            carted=Count("product", distinct=True, filter=Q(kind=BehaviourKind.CART_ADD)),
            events=Count("*"),
        )
        .order_by()
    )


def reminders_for_customer(*, customer: Customer) -> QuerySet[Reminder]:
    """Reminders still waiting about this customer, soonest first."""
    return Reminder.objects.filter(ACTIVE_REMINDER, customer=customer).select_related("assignee").order_by("due_at")


def reminders_due_for(*, user: AbstractBaseUser, until: datetime.datetime) -> QuerySet[Reminder]:
    """The user's waiting reminders due by `until` (overdue ones first), with their customers."""
    return (
        Reminder.objects.filter(ACTIVE_REMINDER, assignee=user, due_at__lte=until)
        .select_related("customer", "interaction")
        .order_by("due_at", "pk")
    )


def reminders_due_today(*, user: AbstractBaseUser) -> QuerySet[Reminder]:
    """The user's day ("My day" and the home page): their waiting reminders due by the end of today."""
    return reminders_due_for(user=user, until=day_start(timezone.localdate() + datetime.timedelta(days=1)))


def interactions_logged_by(*, user: AbstractBaseUser, since: datetime.datetime) -> QuerySet[Interaction]:
    """The interactions the user logged since `since`, newest first, with their customers (the home page)."""
    return (
        Interaction.objects.filter(staff=user, occurred_at__gte=since)
        .select_related("customer")
        .order_by("-occurred_at", "-id")
    )


def purchases_of_members(*, user: AbstractBaseUser, since: datetime.datetime) -> QuerySet[Transaction]:
    """Purchases since `since` of the user's members, newest first, with their customers (the home page).

    A user's members are the customers they own; a user who sees every customer (the desk) owns few or none
    and serves everyone, so for them it is the purchases they recorded themselves."""
    purchases = Transaction.objects.filter(occurred_at__gte=since)
    if user.has_perm("customers.view_all_customers"):
        purchases = purchases.filter(recorded_by=user)
    else:
        purchases = purchases.filter(customer__owner=user)
    return purchases.select_related("customer").order_by("-occurred_at", "-id")


def interaction_report(*, since: datetime.datetime, until: datetime.datetime) -> dict:
    """Interactions in [since, until): the total and average satisfaction, and counts by channel, staff
    member and outcome (biggest first). Four queries, whatever the period."""
    period = Interaction.objects.filter(occurred_at__gte=since, occurred_at__lt=until)
    totals = period.aggregate(total=Count("pk"), scored=Count("satisfaction"), satisfaction=Avg("satisfaction"))
    by_channel = list(period.values("channel").annotate(n=Count("pk")).order_by("-n", "channel"))
    by_outcome = list(period.values("outcome").annotate(n=Count("pk")).order_by("-n", "outcome"))
    by_staff = list(
        period.values("staff", "staff__username")
        .annotate(n=Count("pk"), satisfaction=Avg("satisfaction"))
        .order_by("-n", "staff__username")
    )
    channels, outcomes = dict(InteractionChannel.choices), dict(Outcome.choices)
    for row in by_channel:
        row["label"] = channels.get(row["channel"], row["channel"])
    for row in by_outcome:
        row["label"] = outcomes.get(row["outcome"], row["outcome"]) or "—"
    return totals | {"by_channel": by_channel, "by_outcome": by_outcome, "by_staff": by_staff}


def customers_not_contacted(*, queryset: QuerySet[Customer], days: int, now: datetime.datetime) -> QuerySet[Customer]:
    """Customers registered at least `days` ago with no interaction in the last `days` days, each with
    `last_contact` (None if never), newest customers first. The subquery runs only for the rows fetched."""
    cutoff = now - datetime.timedelta(days=days)
    recent = Interaction.objects.filter(customer=OuterRef("pk"), occurred_at__gt=cutoff)
    last = Interaction.objects.filter(customer=OuterRef("pk")).order_by("-occurred_at").values("occurred_at")[:1]
    return (
        queryset.filter(registered_on__lte=timezone.localdate(cutoff))
        .exclude(Exists(recent))
        .select_related("tier", "owner")
        .annotate(last_contact=Subquery(last))
        .order_by("-crm_number")
    )


def customer_by_handle(*, handle: str) -> Customer | None:
    """The customer whose social interactions came from this handle, most recently.

    Handles are learnt from earlier mentions (matched or assigned by staff). Interactions
    store no platform, so the same handle on two platforms is taken as one person.
    """
    if not handle:
        return None
    last = (
        Interaction.objects.filter(channel=InteractionChannel.SOCIAL, external_handle__iexact=handle)
        .order_by("-occurred_at", "-id")
        .values("customer_id")[:1]
    )
    return Customer.objects.select_related("tier", "owner").filter(pk__in=last).first()


def mentions_waiting() -> QuerySet[UnmatchedMention]:
    """The queue staff work through: unassigned mentions, newest first."""
    return (
        UnmatchedMention.objects.filter(assigned_at=None).select_related("received_from").order_by("-posted_at", "-id")
    )
