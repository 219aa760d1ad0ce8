"""An erased member's scores go with the erasure, and no later run writes them again."""

import pytest
from django.utils import timezone

from analytics.models import MemberRecommendation, MemberScore, ScoreHistory, ScoringRun
from analytics.recommend.model import Recommendation
from analytics.score import Scored
from analytics.services.scoring import _write
from customers.services.erasure import customer_erase
from customers.tests.factories import CustomerFactory
from interactions.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_a_run_after_the_erasure_keeps_nothing_about_the_erased_member():
    kept, erased = CustomerFactory(), CustomerFactory()
    customer_erase(customer=erased, actor=None, confirm_number=erased.crm_number, reason="asked")
    run = ScoringRun.objects.create(as_of=timezone.now(), status="scoring")
    product = ProductFactory()
    pick = [Recommendation(product=product.pk, because_of=None, together=0, score=1.0)]
    scored = Scored(
        scores=[{"customer_id": pk, "churn_probability": None} for pk in (kept.pk, erased.pk)],
        reasons={},
        recommendations={kept.pk: pick, erased.pk: pick},
    )
    _write(run, scored, lo=min(kept.pk, erased.pk), hi=max(kept.pk, erased.pk) + 1, history=True)
    for model in (MemberScore, ScoreHistory, MemberRecommendation):
        assert list(model.objects.values_list("customer_id", flat=True)) == [kept.pk]
