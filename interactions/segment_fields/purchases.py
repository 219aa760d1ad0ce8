"""The purchase facts segment rules may name.

Lifetime facts read the per-member PurchaseStats rows, so a count never scans the purchase table. So do the facts
over the periods PurchaseStats keeps columns for (30, 90 and 365 days) while those are counted up to today; any
other period, or those while the daily roll has not yet run, reads that period's purchases through the index on
their time: slower, never wrong.
"""

import datetime

from django.db import models
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Sum,
    When,
    Window,
)
from django.db.models.functions import CumeDist
from django.db.models.lookups import LessThan
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.segment_fields import (
    Kind,
    Operator,
    Param,
    SegmentField,
    Value,
    day_range_q,
    holds,
    register,
    zero_default_q,
)
from interactions.models import WINDOW_DAYS, Transaction, TransactionStatus, window_column
from interactions.segment_fields.common import DAYS, RECENT_DAYS, TIMES, categories, products, since
from interactions.selectors import NET, purchase_windows_current

PURCHASES = _("Purchases")
_NUMBER_OPS = (Operator.EQ, Operator.NE, Operator.LT, Operator.GT, Operator.BETWEEN)
_AMOUNT_OPS = (Operator.LT, Operator.GT, Operator.BETWEEN)


def _stats(name: str):
    def build(operator: Operator, value: Value) -> Q:
        return zero_default_q(f"purchase_stats__{name}", operator, value, missing="purchase_stats__isnull")

    return build


def _window(fact: str, aggregate, *, kept: bool):
    """A number over the last N days' purchases: 0 for a member who bought nothing then. `fact` names
    PurchaseStats' columns for the kept periods; `aggregate` and `kept` say the same over the purchases."""

    def build(operator: Operator, value: Value, days: int = DAYS.default) -> Q:
        if days in WINDOW_DAYS and purchase_windows_current():
            return _stats(window_column(fact, days))(operator, value)
        purchases = Transaction.objects.filter(occurred_at__gte=since(days))
        if kept:
            purchases = purchases.exclude(status=TransactionStatus.REFUNDED)
        per_member = purchases.values("customer_id").annotate(n=aggregate).order_by()
        if holds(operator, 0, value):  # who bought nothing then matches too: leave out those who fail
            failing = per_member.exclude(_compare("n", operator, value)).values("customer_id")
            return ~Q(pk__in=failing)
        return Q(pk__in=per_member.filter(_compare("n", operator, value)).values("customer_id"))

    return build


def _compare(name: str, operator: Operator, value: Value) -> Q:
    lookup = {
        Operator.EQ: "",
        Operator.LT: "__lt",
        Operator.GT: "__gt",
        Operator.BETWEEN: "__range",
        Operator.NE: "",
    }[operator]
    q = Q(**{f"{name}{lookup}": tuple(value) if operator == Operator.BETWEEN else value})
    return ~q if operator == Operator.NE else q


def bought_q(line_filter: str):
    """Bought any of these products or categories at least `times` times in the last `days` days; "none of"
    is the opposite. Refunded purchases do not count."""

    def build(operator: Operator, value: Value, days: int = 30, times: int = 1) -> Q:
        purchases = (
            Transaction.objects.filter(occurred_at__gte=since(days), **{f"lines__{line_filter}__in": value})
            .exclude(status=TransactionStatus.REFUNDED)
            .values("customer_id")
            .annotate(n=Count("pk", distinct=True))
            .filter(n__gte=times)
            .values("customer_id")
        )
        q = Q(pk__in=purchases)
        return q if operator == Operator.IN else ~q

    return build


def stopped_buying_q(operator: Operator, value: Value, days: int = 90) -> Q:
    """Bought in the N days before the last N days, and nothing since."""
    before = Transaction.objects.filter(
        customer_id=OuterRef("pk"), occurred_at__gte=since(2 * days), occurred_at__lt=since(days)
    )
    recent = Transaction.objects.filter(customer_id=OuterRef("pk"), occurred_at__gte=since(days))
    stopped = Q(Exists(before)) & ~Q(Exists(recent))
    return stopped if value else ~stopped


def lapsing_q(operator: Operator, value: Value, days: int = 90) -> Q:
    """No purchase for more than twice the member's usual gap between purchases (the span from first to last
    over the orders between), or for more than `days` days when one purchase gives no gap yet."""
    stats = "purchase_stats__"
    usual_gap = ExpressionWrapper(
        (F(f"{stats}last_purchase_at") - F(f"{stats}first_purchase_at")) * 2 / (F(f"{stats}orders") - 1),
        output_field=DurationField(),
    )
    allowed = Case(
        When(**{f"{stats}orders__gte": 2}, then=usual_gap),
        default=models.Value(datetime.timedelta(days=days)),
        output_field=DurationField(),
    )
    due = ExpressionWrapper(F(f"{stats}last_purchase_at") + allowed, output_field=DateTimeField())
    lapsing = Q(**{f"{stats}last_purchase_at__isnull": False}) & Q(LessThan(due, models.Value(timezone.now())))
    return lapsing if value else ~lapsing


def top_spenders_q(operator: Operator, value: Value, percent: int = 20, days: int = 365) -> Q:
    """Among the top `percent` % of the members who bought in the last `days` days, by what they spent then
    (ties share a place: the cumulative share of members spending at least as much)."""
    ranked = (
        Transaction.objects.filter(occurred_at__gte=since(days))
        .values("customer_id")
        .annotate(spend=Sum(NET))
        .annotate(share=Window(CumeDist(), order_by=F("spend").desc()))
        .order_by()
    )
    top = Q(pk__in=ranked.filter(share__lte=percent / 100).values("customer_id"))
    return top if value else ~top


def _stat(name: str):
    def shown(customer) -> object:
        stats = getattr(customer, "purchase_stats", None)  # None for a member who never bought (no row)
        return getattr(stats, name, None)

    return shown


def _local_day(name: str):
    def shown(customer) -> object:
        value = _stat(name)(customer)
        return timezone.localdate(value) if value else None

    return shown


def register_fields() -> None:
    with_period = (DAYS,)
    register(
        SegmentField(
            "lifetime_spend",
            _("Lifetime spend"),
            PURCHASES,
            Kind.DECIMAL,
            build=_stats("lifetime_spend"),
            shown=_stat("lifetime_spend"),
        ),
        SegmentField(
            "orders",
            _("Number of orders"),
            PURCHASES,
            Kind.NUMBER,
            build=_stats("orders"),
            operators=_NUMBER_OPS,
            shown=_stat("orders"),
            min_value=0,
            max_value=1_000_000,
        ),
        SegmentField(
            "average_order",
            _("Average order value"),
            PURCHASES,
            Kind.DECIMAL,
            lookup="purchase_stats__average_order",
            nullable=True,
            shown=_stat("average_order"),
        ),
        SegmentField(
            "first_purchase",
            _("First purchase"),
            PURCHASES,
            Kind.DATE,
            nullable=True,
            build=lambda op, v: day_range_q("purchase_stats__first_purchase_at", op, v),
            shown=_local_day("first_purchase_at"),
        ),
        SegmentField(
            "last_purchase",
            _("Last purchase"),
            PURCHASES,
            Kind.DATE,
            nullable=True,
            build=lambda op, v: day_range_q("purchase_stats__last_purchase_at", op, v),
            shown=_local_day("last_purchase_at"),
        ),
        SegmentField(
            "spend_in_period",
            _("Spend in a recent period"),
            PURCHASES,
            Kind.DECIMAL,
            build=_window("spend", Sum(NET), kept=False),
            params=with_period,
            operators=_AMOUNT_OPS,
        ),
        SegmentField(
            "orders_in_period",
            _("Orders in a recent period"),
            PURCHASES,
            Kind.NUMBER,
            build=_window("orders", Count("pk"), kept=True),
            params=with_period,
            operators=_NUMBER_OPS,
            min_value=0,
            max_value=1_000_000,
        ),
        SegmentField(
            "bought_category",
            _("Bought from category"),
            PURCHASES,
            Kind.CHOICES,
            choices=categories,
            build=bought_q("product__category_id"),
            operators=(Operator.IN, Operator.NOT_IN),
            params=(RECENT_DAYS, TIMES),
        ),
        SegmentField(
            "bought_product",
            _("Bought product"),
            PURCHASES,
            Kind.CHOICES,
            choices=products,
            build=bought_q("product_id"),
            operators=(Operator.IN, Operator.NOT_IN),
            params=(RECENT_DAYS, TIMES),
        ),
        SegmentField(
            "stopped_buying",
            _("Stopped buying"),
            PURCHASES,
            Kind.BOOLEAN,
            build=stopped_buying_q,
            params=(Param("days", _("quiet for N days"), default=90),),
        ),
        SegmentField(
            "lapsing",
            _("Overdue for a purchase"),
            PURCHASES,
            Kind.BOOLEAN,
            build=lapsing_q,
            params=(Param("days", _("N days after a single purchase"), default=90),),
        ),
        SegmentField(
            "top_spenders",
            _("Top spenders"),
            PURCHASES,
            Kind.BOOLEAN,
            build=top_spenders_q,
            params=(
                Param("percent", _("top N %"), default=20, high=100),
                Param("days", _("in the last N days"), default=365),
            ),
        ),
    )
