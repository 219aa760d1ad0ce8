"""Reads of purchases shared by the customer page, jobs and (later) analytics."""

import datetime
from decimal import Decimal

from django.db.models import Avg, Count, DecimalField, F, Max, Min, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from customers.models import Category, Customer
from interactions.models import Transaction, TransactionLine, TransactionStatus

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


def purchase_summary(*, customer: Customer, window_since: datetime.datetime) -> dict:
    """Lifetime spend, orders (refunded ones left out), average order, first and last purchase,
    spend in the tier window, and the number of transaction rows, in one query."""
    kept = ~Q(status=TransactionStatus.REFUNDED)
    return Transaction.objects.filter(customer=customer).aggregate(
        transactions=Count("pk"),
        lifetime_spend=Coalesce(Sum(NET), ZERO),
        orders=Count("pk", filter=kept),
        average_order=Avg(NET, filter=kept),
        first_purchase=Min("occurred_at"),
        last_purchase=Max("occurred_at"),
        window_spend=Coalesce(Sum(NET, filter=Q(occurred_at__gt=window_since)), ZERO),
    )


def preferred_categories_from_purchases(*, customer: Customer, limit: int = 3) -> list[Category]:
    """The categories the customer spends most on, each with `spent` and `items` attached."""
    rows = (
        TransactionLine.objects.filter(transaction__customer=customer, product__category__isnull=False)
        .exclude(transaction__status=TransactionStatus.REFUNDED)
        .values("product__category", "product__category__name")
        .annotate(spent=Sum("line_total"), items=Sum("quantity"))
        .order_by("-spent", "product__category__name")[:limit]
    )
    categories = []
    for row in rows:
        category = Category(pk=row["product__category"], name=row["product__category__name"])
        category.spent, category.items = row["spent"], row["items"]
        categories.append(category)
    return categories
