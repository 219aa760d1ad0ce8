"""What analytics adds to a data-subject export (customers.data_requests): the member's current scores, their
history run by run, and the products recommended to them. Registered from AnalyticsConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from analytics.models import MemberRecommendation, MemberScore, ScoreHistory
from customers.data_requests import Table, register_part, table
from customers.models import Customer

SCORE_FIELDS = [
    "recency_days",
    "frequency",
    "monetary",
    "r",
    "f",
    "m",
    "segment",
    "p_alive",
    "expected_purchases",
    "predicted_value",
    "churn_probability",
]


def score_tables(customer: Customer) -> list[Table]:
    return [
        table(
            "scores",
            _("Current scores"),
            MemberScore.objects.filter(customer=customer),
            ["scored_at", *SCORE_FIELDS, "churn_source", "churn_reasons"],
        ),
        table(
            "score_history",
            _("Score history"),
            ScoreHistory.objects.filter(customer=customer).order_by("run__as_of", "run_id"),
            [("run__as_of", _("as of")), *SCORE_FIELDS],
        ),
        table(
            "recommendations",
            _("Recommended products"),
            MemberRecommendation.objects.filter(customer=customer).order_by("rank"),
            ["rank", ("product__name", _("product")), ("because_of__name", _("because of")), "together"],
        ),
    ]


def register() -> None:
    register_part("analytics", score_tables, title=_("Scores"), order=30)
