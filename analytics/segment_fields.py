"""The scores segment rules may name (registered from AnalyticsConfig.ready()): a member's RFM segment and scores,
probability of being active, churn probability, expected purchases and predicted value, from their current
scores. A member not scored yet has none of them: "is empty" finds them, and no other condition matches them."""

from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from analytics.models import RfmSegment
from crm.segment_fields import Kind, Operator, SegmentField, Value, lookup_q, register

SCORES = _("Scores")
_RANGE = (Operator.LT, Operator.GT, Operator.BETWEEN)


def _percent(lookup: str):
    """A probability stored as 0..1, written in rules as a per cent."""

    def build(operator: Operator, value: Value) -> Q:
        if operator == Operator.BETWEEN:
            value = [Decimal(v) / 100 for v in value]
        elif operator in (Operator.LT, Operator.GT):
            value = Decimal(value) / 100
        return lookup_q(lookup, operator, value)

    def shown(customer):
        score = getattr(customer, "scores", None)
        probability = getattr(score, lookup.split("__")[1], None)
        return None if probability is None else f"{probability:.0%}"

    return build, shown


def _score(key: str, label, lookup: str) -> SegmentField:
    return SegmentField(
        key=key, label=label, group=SCORES, kind=Kind.NUMBER, lookup=lookup, nullable=True, min_value=1, max_value=5
    )


def _probability(key: str, label, lookup: str) -> SegmentField:
    build, shown = _percent(lookup)
    return SegmentField(
        key=key,
        label=label,
        group=SCORES,
        kind=Kind.NUMBER,
        build=build,
        shown=shown,
        nullable=True,
        min_value=0,
        max_value=100,
        operators=_RANGE,
    )


def register_fields() -> None:
    register(
        SegmentField(
            key="rfm_segment",
            label=_("RFM segment"),
            group=SCORES,
            kind=Kind.CHOICE,
            lookup="scores__segment",
            choices=lambda: RfmSegment.choices,
            nullable=True,
        ),
        _score("rfm_r", _("R score (recency, 1-5)"), "scores__r"),
        _score("rfm_f", _("F score (frequency, 1-5)"), "scores__f"),
        _score("rfm_m", _("M score (spend, 1-5)"), "scores__m"),
        _probability("p_alive", _("Probability of being active (%)"), "scores__p_alive"),
        _probability("churn_probability", _("Churn risk (%)"), "scores__churn_probability"),
        SegmentField(
            key="expected_purchases",
            label=_("Expected purchases, next 12 months"),
            group=SCORES,
            kind=Kind.DECIMAL,
            lookup="scores__expected_purchases",
            nullable=True,
        ),
        SegmentField(
            key="predicted_value",
            label=_("Predicted value, next 12 months"),
            group=SCORES,
            kind=Kind.DECIMAL,
            lookup="scores__predicted_value",
            nullable=True,
        ),
    )
