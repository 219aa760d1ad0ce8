"""Scores as segment rule fields: registered by analytics, compiled by marketing's rule compiler (which knows them
only through the registry)."""

import pytest

from analytics.models import MemberScore, RfmSegment
from analytics.tests.conftest import buy, run_scoring
from customers.models import Customer
from customers.tests.factories import CustomerFactory
from marketing.rules import rule_compile

pytestmark = pytest.mark.django_db


def matching(*conditions) -> set[int]:
    tree = {"op": "and", "rules": list(conditions)}
    return set(Customer.objects.filter(rule_compile(tree)).values_list("pk", flat=True))


@pytest.fixture
def scored():
    recent, lapsed, never = CustomerFactory(), CustomerFactory(), CustomerFactory()
    for days in (2, 30, 60, 90, 120):
        buy(recent, days_ago=days)
    buy(lapsed, days_ago=300)
    unscored = CustomerFactory()
    run_scoring(params={"parts": ["rfm"]})
    MemberScore.objects.filter(customer=recent).update(p_alive=0.9, churn_probability=0.1)
    MemberScore.objects.filter(customer=lapsed).update(p_alive=0.2, churn_probability=0.85)
    MemberScore.objects.filter(customer=unscored).delete()
    return recent, lapsed, never, unscored


def test_rfm_segment_and_scores(scored):
    recent, lapsed, never, unscored = scored
    segment = MemberScore.objects.get(customer=recent).segment
    assert matching({"field": "rfm_segment", "operator": "eq", "value": segment}) == {recent.pk}
    assert matching({"field": "rfm_segment", "operator": "eq", "value": RfmSegment.NO_PURCHASE}) == {never.pk}
    assert matching({"field": "rfm_segment", "operator": "is_empty"}) == {unscored.pk}
    assert matching({"field": "rfm_r", "operator": "eq", "value": 5}) == {recent.pk}


def test_probabilities_are_written_as_per_cents(scored):
    recent, lapsed, _, _ = scored
    assert matching({"field": "p_alive", "operator": "lt", "value": 30}) == {lapsed.pk}
    assert matching({"field": "churn_probability", "operator": "between", "value": [50, 100]}) == {lapsed.pk}
    assert matching({"field": "churn_probability", "operator": "lt", "value": 50}) == {recent.pk}
