"""An automation limited to a segment built on scores: win-back only for members whose probability of being active
has fallen low (the segment field comes from analytics through the registry; marketing knows no analytics)."""

import pytest

from analytics.models import MemberScore, RfmSegment, ScoringRun
from customers.tests.factories import CustomerFactory
from interactions.models import PurchaseStats
from marketing.models import Automation, AutomationKind, Segment
from marketing.services.automation_messages import Text, automation_message_update
from marketing.tests.automation_helpers import at, rows, run, switch_on

pytestmark = pytest.mark.django_db


def test_a_win_back_limited_to_a_low_probability_of_being_active_reaches_only_those_members():
    fading, loyal = CustomerFactory(), CustomerFactory()
    for member in (fading, loyal):
        PurchaseStats.objects.create(customer=member, orders=3, last_purchase_at=at(2026, 12, 10, 15))
    scoring = ScoringRun.objects.create(as_of=at(2027, 3, 9), status="done")
    for member, p_alive in ((fading, 0.12), (loyal, 0.8)):
        MemberScore.objects.create(
            customer=member, run=scoring, scored_at=at(2027, 3, 9), p_alive=p_alive, segment=RfmSegment.AT_RISK
        )
    low = Segment.objects.create(
        name="Fading", rules={"op": "and", "rules": [{"field": "p_alive", "operator": "lt", "value": 30}]}
    )
    automation = Automation.objects.get(kind=AutomationKind.WIN_BACK)
    automation_message_update(
        automation=automation,
        channel=automation.campaign.channel,
        offer=None,
        control_percent=0,
        attribution_days=7,
        texts=[Text(language="en", subject="We miss you", body="Come back, {{ name }}")],
        segment=low,
    )
    automation = switch_on(AutomationKind.WIN_BACK, at(2027, 3, 1), days=90)
    run(automation, at(2027, 3, 10))
    assert rows(automation) == {(fading.pk, "win_back:2026-12-10")}
