"""Why a member's churn probability is what it is, in numbers and in words for the customer's page.

A feature's effect is the member's probability minus the probability the model gives when that one feature is set
to the population's typical value (its median in the training frame): positive means the member's own value pushes
the risk up. The same measure serves logistic regression and gradient boosting, so the page reads the same
whichever kind a run chose. For the logistic model it is each feature's coefficient contribution against the
typical member (recency's includes its share of the silence-over-usual-gap term), carried through the logistic
curve, so its sign is the contribution's sign. All the substitutions for a chunk go through the model in one call,
which keeps 10,000 members to a fraction of a second (see bench/churn_model.py).
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy, ngettext

from analytics.churn.model import FEATURES, ChurnModel, feature_matrix, predict_matrix
from crm.lib.money import format_money

# Probability changes smaller than this are noise, not a reason to show anyone.
MIN_EFFECT = 0.001


@dataclass(frozen=True)
class Reason:
    feature: str
    value: float
    reference: float
    effect: float


def churn_effects(model: ChurnModel, *, matrix: np.ndarray) -> np.ndarray:
    """members × FEATURES array of effects (see the module docstring)."""
    members, width = matrix.shape
    reference = np.array([model.reference[name] for name in FEATURES])
    # Only where the member differs from typical: elsewhere the effect is zero, and many values (consents, zero
    # contacts, no refunds) are the typical ones.
    differs = (matrix != reference) & ~(np.isnan(matrix) & np.isnan(reference))
    rows, columns = np.nonzero(differs)
    substituted = matrix[rows]
    substituted[np.arange(len(rows)), columns] = reference[columns]
    probabilities = predict_matrix(model, np.concatenate([matrix, substituted]))
    effects = np.zeros((members, width))
    effects[rows, columns] = probabilities[rows] - probabilities[members:]
    return effects


def churn_reasons(model: ChurnModel, *, features: pd.DataFrame, top: int = 3) -> list[list[Reason]]:
    """Per member, in the frame's order, up to `top` features that moved the probability most, largest first."""
    matrix = feature_matrix(features)
    effects = churn_effects(model, matrix=matrix)
    order = np.argsort(-np.abs(effects), axis=1, kind="stable")[:, :top]
    # Plain Python lists from here: indexing numpy one element at a time would cost more than the model.
    chosen_effects = np.take_along_axis(effects, order, axis=1).tolist()
    chosen_values = np.take_along_axis(matrix, order, axis=1).tolist()
    reference = [model.reference[name] for name in FEATURES]
    return [
        [
            Reason(feature=FEATURES[column], value=value, reference=reference[column], effect=effect)
            for column, value, effect in zip(columns, values, member_effects, strict=True)
            if abs(effect) >= MIN_EFFECT
        ]
        for columns, values, member_effects in zip(order.tolist(), chosen_values, chosen_effects, strict=True)
    ]


def reason_text(reason: Reason, *, row: Mapping[str, float]) -> str:
    """The reason in words. A reason whose direction is not what its words suggest says so."""
    value, typical = reason.value, reason.reference
    describe = _DESCRIPTIONS.get(reason.feature)
    if describe is None:
        return reason.feature
    text, raises = describe(value, typical, row)
    if reason.effect > 0 and not raises:
        return gettext("%(reason)s, which raises the risk for this member") % {"reason": text}
    if reason.effect < 0 and raises:
        return gettext("%(reason)s, which lowers the risk for this member") % {"reason": text}
    return text


def _known(number: float) -> bool:
    return number is not None and not (isinstance(number, float) and math.isnan(number))


def _count(number: float) -> int:
    return round(number)


def _money(number: float) -> str:
    return format_money(Decimal(f"{number:.2f}"))


def _is_high(value: float, typical: float) -> bool:
    return not _known(typical) or value > typical


def _recency(value: float, typical: float, row: Mapping[str, float]) -> tuple[str, bool]:
    if not _known(value):
        return gettext("No purchase yet"), True
    days = _count(value)
    gap = row.get("usual_gap_days", float("nan"))
    overdue = value > gap if _known(gap) else _is_high(value, typical)
    if _known(gap):
        numbers = {"days": days, "gap": _count(gap)}
        if overdue:
            return ngettext(
                "No purchase for %(days)d day (usual gap %(gap)d)",
                "No purchase for %(days)d days (usual gap %(gap)d)",
                days,
            ) % numbers, True
        return ngettext(
            "Bought recently: %(days)d day ago (usual gap %(gap)d)",
            "Bought recently: %(days)d days ago (usual gap %(gap)d)",
            days,
        ) % numbers, False
    numbers = {"days": days, "typical": _count(typical) if _known(typical) else 0}
    if overdue:
        return ngettext(
            "No purchase for %(days)d day (typical %(typical)d)",
            "No purchase for %(days)d days (typical %(typical)d)",
            days,
        ) % numbers, True
    return ngettext(
        "Bought recently: %(days)d day ago (typical %(typical)d)",
        "Bought recently: %(days)d days ago (typical %(typical)d)",
        days,
    ) % numbers, False


def _compare(low: Promise, high: Promise, *, money: bool = False, low_raises: bool = True) -> Callable:
    """A description of "value (typical t)" worded by which side of typical the value is on."""

    def describe(value: float, typical: float, row: Mapping[str, float]) -> tuple[str, bool]:
        if not _known(value):
            return gettext("Not known"), False
        show = _money if money else _count
        numbers = {"value": show(value), "typical": show(typical) if _known(typical) else show(0)}
        if _is_high(value, typical):
            return str(high) % numbers, not low_raises
        return str(low) % numbers, low_raises

    return describe


def _usual_gap(value: float, typical: float, row: Mapping[str, float]) -> tuple[str, bool]:
    if not _known(value):
        return gettext("Only one purchase so far"), True
    numbers = {"days": _count(value), "typical": _count(typical) if _known(typical) else 0}
    if _is_high(value, typical):
        return ngettext(
            "Buys rarely: about every %(days)d day (typical %(typical)d)",
            "Buys rarely: about every %(days)d days (typical %(typical)d)",
            numbers["days"],
        ) % numbers, True
    return ngettext(
        "Buys often: about every %(days)d day (typical %(typical)d)",
        "Buys often: about every %(days)d days (typical %(typical)d)",
        numbers["days"],
    ) % numbers, False


def _tenure(value: float, typical: float, row: Mapping[str, float]) -> tuple[str, bool]:
    if not _known(value):
        return gettext("Membership date not known"), False
    days = _count(value)
    if _is_high(value, typical):
        return ngettext("Member for %(days)d day", "Member for %(days)d days", days) % {"days": days}, False
    return ngettext("New member: joined %(days)d day ago", "New member: joined %(days)d days ago", days) % {
        "days": days
    }, True


def _contact(value: float, typical: float, row: Mapping[str, float]) -> tuple[str, bool]:
    if not _known(value):
        return gettext("Never contacted"), True
    days = _count(value)
    if _is_high(value, typical):
        return ngettext(
            "No contact for %(days)d day (typical %(typical)d)",
            "No contact for %(days)d days (typical %(typical)d)",
            days,
        ) % {"days": days, "typical": _count(typical) if _known(typical) else 0}, True
    return ngettext("Recently contacted (%(days)d day ago)", "Recently contacted (%(days)d days ago)", days) % {
        "days": days
    }, False


def _refunds(value: float, typical: float, row: Mapping[str, float]) -> tuple[str, bool]:
    if not _known(value):
        return gettext("No spend to refund in the last year"), False

    def percent(share: float) -> int:
        return round(100 * min(max(share, 0.0), 1.0))

    numbers = {"share": percent(value), "typical": percent(typical) if _known(typical) else 0}
    if _is_high(value, typical):
        return gettext("Refunded %(share)d%% of last year's spend (typical %(typical)d%%)") % numbers, True
    return gettext("Few refunds: %(share)d%% of last year's spend (typical %(typical)d%%)") % numbers, False


def _consent(opted_out: Promise, accepts: Promise) -> Callable:
    def describe(value: float, typical: float, row: Mapping[str, float]) -> tuple[str, bool]:
        if _known(value) and value >= 0.5:
            return str(accepts), False
        return str(opted_out), True

    return describe


# Lazy, so importing this module needs no settings; each wording is translated when shown.
_DESCRIPTIONS: dict[str, Callable] = {
    "recency_days": _recency,
    "orders_365": _compare(
        gettext_lazy("Fewer orders in the last year: %(value)s (typical %(typical)s)"),
        gettext_lazy("More orders in the last year: %(value)s (typical %(typical)s)"),
    ),
    "spend_365": _compare(
        gettext_lazy("Spent less in the last year: %(value)s (typical %(typical)s)"),
        gettext_lazy("Spent more in the last year: %(value)s (typical %(typical)s)"),
        money=True,
    ),
    "orders_lifetime": _compare(
        gettext_lazy("Few orders in all: %(value)s (typical %(typical)s)"),
        gettext_lazy("Many orders in all: %(value)s (typical %(typical)s)"),
    ),
    "spend_lifetime": _compare(
        gettext_lazy("Low lifetime spend: %(value)s (typical %(typical)s)"),
        gettext_lazy("High lifetime spend: %(value)s (typical %(typical)s)"),
        money=True,
    ),
    "usual_gap_days": _usual_gap,
    "tenure_days": _tenure,
    "days_since_contact": _contact,
    "contacts_90": _compare(
        gettext_lazy("Few contacts in the last 90 days: %(value)s (typical %(typical)s)"),
        gettext_lazy("Many contacts in the last 90 days: %(value)s (typical %(typical)s)"),
    ),
    "refund_share": _refunds,
    "email_consent": _consent(gettext_lazy("Opted out of e-mail"), gettext_lazy("Accepts e-mail")),
    "sms_consent": _consent(gettext_lazy("Opted out of SMS"), gettext_lazy("Accepts SMS")),
}
