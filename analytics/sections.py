"""What scores add to the customer's page (registered from AnalyticsConfig.ready()): one card beside the history,
with the member's RFM segment, probability of being active, churn probability and its reasons, expected purchases
and predicted value, and the products to offer; each with the date of the run that computed it; and the segment the
member was in at the run before. Three queries."""

from django.http import HttpRequest

from analytics.churn import Reason, reason_text
from analytics.models import MemberRecommendation, MemberScore, ScoreHistory
from customers.models import Customer
from customers.sections import Section, register_sections


def reason_lines(score: MemberScore) -> list[str]:
    """The member's churn reasons in words, in the reader's language."""
    lines = []
    for item in score.churn_reasons or []:
        context = item.get("context") or {}
        reason = Reason(
            feature=item["feature"],
            value=item.get("value") if item.get("value") is not None else float("nan"),
            reference=item.get("reference") if item.get("reference") is not None else float("nan"),
            effect=item.get("effect", 0.0),
        )
        row = {item["feature"]: reason.value} | {k: float("nan") if v is None else v for k, v in context.items()}
        lines.append(reason_text(reason, row=row))
    return lines


def score_sections(request: HttpRequest, customer: Customer) -> list[Section]:
    if not request.user.has_perm("analytics.view_memberscore"):
        return []

    def load() -> dict:
        # Never the run's fitted models (tens of megabytes) nor its metrics: the page needs its date and settings.
        score = (
            MemberScore.objects.select_related("run").defer("run__fitted", "run__metrics").filter(customer=customer)
        ).first()
        recommendations = list(
            MemberRecommendation.objects.filter(customer=customer).select_related("product", "because_of")
        )
        # The member's segment in the run before the one shown: their own movement ("At Risk, was Loyal").
        previous = None
        if score is not None:
            previous = (
                ScoreHistory.objects.filter(customer=customer, run__as_of__lt=score.run.as_of, run__status="done")
                .select_related("run")
                .defer("run__fitted", "run__metrics")
                .order_by("-run__as_of")
                .first()
            )
        return {
            "score": score,
            "previous": previous,
            "reasons": reason_lines(score) if score else [],
            "recommendations": recommendations,
        }

    return [Section(key="scores", template="analytics/includes/scores_section.html", column="side", order=5, load=load)]


def register() -> None:
    register_sections("analytics", score_sections)
