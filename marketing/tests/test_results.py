"""The results reads: what a campaign did, and what its recipients bought in the window against the control group."""

from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketing import stats
from marketing.models import (
    CampaignKind,
    CampaignStatus,
    CampaignVariant,
    Coupon,
    CouponOffer,
    CouponStatus,
    Message,
    ResultsSnapshot,
    SkipReason,
)
from marketing.models import MessageStatus as S
from marketing.results import campaign_results, results_for_page
from marketing.services.coupons import coupon_issue
from marketing.services.results import results_refresh
from marketing.tasks import results_refresh_task
from marketing.tests.results_data import DAY, HOUR, T0, buy, campaign_make, row, variants

MINUTE = HOUR / 60

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _without_the_automations(db):
    """Migration 0008 makes one campaign per automation kind; these tests count and fetch one-off campaigns only
    (marketing/tests/test_automations*.py cover the automations')."""
    from marketing.models import Automation, Campaign

    campaigns = list(Automation.objects.values_list("campaign_id", flat=True))
    Automation.objects.all().delete()
    Campaign.objects.filter(pk__in=campaigns).delete()


@pytest.fixture
def campaign():
    """Nine rows whose figures are worked out by hand in the tests below."""
    offer = CouponOffer.objects.create(name="10 off", value=Decimal("10"))
    campaign = campaign_make(offer=offer)
    a = row(campaign, S.CLICKED, delivered_at=T0 + HOUR, opened_at=T0 + 2 * HOUR, clicked_at=T0 + 2 * HOUR)
    buy(a, "100", T0 + 2 * DAY, refunded="20")  # in the window, 80 kept
    buy(a, "50", T0 + HOUR + 8 * DAY)  # after the window
    a.coupon = coupon_issue(offer=offer, customer=a.customer, actor=None)
    a.save(update_fields=["coupon"])
    Coupon.objects.filter(pk=a.coupon_id).update(status=CouponStatus.REDEEMED)
    b = row(campaign, S.BOUNCED)
    buy(b, "80", T0 + HOUR / 2)  # half an hour after the start, before the send
    buy(b, "60", T0 + DAY, refunded="60")  # refunded in full: no purchase, no revenue
    c = row(campaign, S.UNSUBSCRIBED, delivered_at=T0 + HOUR, unsubscribed_at=T0 + 3 * HOUR)
    c.coupon = coupon_issue(offer=offer, customer=c.customer, actor=None)
    c.save(update_fields=["coupon"])
    d = row(campaign, S.FAILED, error="mailbox full")
    buy(d, "40", T0 + 3 * DAY)  # not sent: counted from the start, as the campaign meant to reach them
    row(campaign, S.QUEUED)
    f = row(campaign, S.HELD_OUT)
    buy(f, "30", T0 + DAY)
    row(campaign, S.HELD_OUT)
    h = row(campaign, S.HELD_OUT, skip_reason=SkipReason.NO_CONSENT)
    buy(h, "500", T0 + DAY)  # would have been skipped: not in the control group
    i = row(campaign, S.SKIPPED, skip_reason=SkipReason.NO_ADDRESS)
    buy(i, "1000", T0 + DAY)
    return campaign


def test_the_counts_of_what_the_campaign_did(campaign):
    results = campaign_results(campaign)
    counts = results.counts
    assert (counts["targeted"], counts["held_out"], counts["skipped"], counts["control_ineligible"]) == (9, 3, 1, 1)
    sending = (counts["sent"], counts["delivered"], counts["failed"], counts["unknown"], counts["queued"])
    assert sending == (3, 2, 1, 0, 1)
    assert (counts["opened"], counts["clicked"], counts["unsubscribed"], counts["bounced"]) == (1, 1, 1, 1)
    assert results.skipped == {SkipReason.NO_ADDRESS: 1} and results.coupons_redeemed == 1


def test_each_group_counts_its_own_window_less_refunds(campaign):
    results = campaign_results(campaign)
    # Treatment: a 80 (100 less 20), b nothing (bought before the send; the rest refunded), c nothing,
    # d 40 (failed, counted from the start), the queued row nothing: 5 members, 2 bought, 120.
    t = results.treatment
    assert (t.members, t.converters, t.purchases, t.revenue) == (5, 2, 2, Decimal("120.00"))
    assert t.revenue_per_member == Decimal("24.00") and t.conversion == 0.4
    # Control: f 30, g nothing (h would have been skipped, so is left out): 2 members, 1 bought, 30.
    c = results.control
    assert (c.members, c.converters, c.purchases, c.revenue) == (2, 1, 1, Decimal("30.00"))
    expected = stats.revenue_lift(stats.Group.from_values([80, 0, 0, 40, 0]), stats.Group.from_values([30, 0]))
    assert results.revenue.difference == pytest.approx(9.0)
    assert (results.revenue.low, results.revenue.high) == pytest.approx((expected.low, expected.high))
    assert results.conversion.difference == pytest.approx(0.4 - 0.5)
    assert results.verdict.code == "no_effect"


def test_an_automation_counts_each_occasion_from_its_own_row():
    campaign = campaign_make("Birthday", kind=CampaignKind.AUTOMATION, segment=None, started_at=None, status="sending")
    member = row(campaign, S.HELD_OUT, occasion="birthday:2026", created_at=T0).customer
    row(campaign, S.HELD_OUT, customer=member, occasion="birthday:2027", created_at=T0 + 200 * DAY)
    sent = row(campaign, S.SENT, occasion="birthday:2027", created_at=T0 + 200 * DAY, sent_at=T0 + 200 * DAY)
    buy(sent, "25", T0 + 201 * DAY)
    buy(sent, "99", T0 + 2 * DAY)  # half a year earlier: not this occasion's
    purchase = buy(type(sent).objects.get(occasion="birthday:2026"), "70", T0 + 2 * DAY)
    results = campaign_results(campaign)
    assert (results.control.members, results.control.converters, results.control.revenue) == (2, 1, purchase.amount)
    assert (results.treatment.members, results.treatment.revenue) == (1, Decimal("25"))


def test_variants_and_the_test_between_them():
    campaign = campaign_make("A/B", winner_metric="conversion")
    a, b = variants(campaign)
    for n in range(40):
        bought_a = row(campaign, S.SENT, variant=a)
        bought_b = row(campaign, S.SENT, variant=b)
        if n < 2:
            buy(bought_a, "10", T0 + DAY)
        if n < 30:
            buy(bought_b, "10", T0 + DAY)
    row(campaign, S.QUEUED)  # waiting for the winner
    results = campaign_results(campaign)
    assert [(v.variant.label, v.figures.members, v.figures.converters) for v in results.variants] == [
        ("A", 40, 2),
        ("B", 40, 30),
    ]
    assert results.ab.winner == 1 and results.variants[0].comparison.p_adjusted < 0.001
    assert results.treatment.members == 81 and not results.variant_srm.mismatch
    # No control group in this campaign: nothing to compare with.
    assert results.revenue is None and results.verdict.code == "too_few"


def test_no_control_group_is_said_so():
    campaign = campaign_make("No control", control_percent=0)
    row(campaign, S.SENT)
    results = campaign_results(campaign)
    assert results.verdict.code == "no_control" and results.srm is None


def test_a_broken_split_is_flagged():
    campaign = campaign_make("Broken", control_percent=50)
    for _ in range(40):
        row(campaign, S.SENT)
    for _ in range(5):
        row(campaign, S.HELD_OUT)
    assert campaign_results(campaign).verdict.code == "srm"


def test_the_number_of_queries_does_not_grow_with_the_rows():
    def queries(campaign) -> int:
        with CaptureQueriesContext(connection) as captured:
            campaign_results(campaign)
        return len(captured.captured_queries)

    small = campaign_make("small", offer=CouponOffer.objects.create(name="5 off", value=Decimal("5")))
    large = campaign_make("large", offer=small.offer)
    for campaign, size in ((small, 2), (large, 30)):
        variants(campaign, "ABC")
        for _ in range(size):
            buy(row(campaign, S.SENT, variant=campaign.variants.first()), "10", T0 + DAY)
            row(campaign, S.HELD_OUT)
    assert queries(small) == queries(large)


def test_the_page_reads_a_recent_snapshot_and_counts_live_when_it_is_old(campaign):
    with time_machine.travel(T0 + 3 * DAY, tick=False):
        results_refresh(campaign=campaign)
        late = buy(Message.objects.get(campaign=campaign, status=S.CLICKED), "500", T0 + 2 * DAY)
        assert results_for_page(campaign).treatment.revenue == Decimal("120.00")  # as counted
        assert campaign_results(campaign).treatment.revenue == Decimal("120.00") + late.amount
    with time_machine.travel(T0 + 3 * DAY + 16 * MINUTE, tick=False):
        assert results_for_page(campaign).treatment.revenue == Decimal("120.00") + late.amount


def test_the_beat_job_counts_what_can_still_change_and_leaves_final_results(campaign):
    draft = campaign_make("Draft", status=CampaignStatus.DRAFT, started_at=None)
    with time_machine.travel(T0 + 3 * DAY, tick=False):
        assert results_refresh_task() is None and ResultsSnapshot.objects.get().campaign == campaign
        first = ResultsSnapshot.objects.get().computed_at
        results_refresh_task()  # 4 minutes have not passed: left alone
        assert ResultsSnapshot.objects.get().computed_at == first
    with time_machine.travel(T0 + 3 * DAY + 5 * MINUTE, tick=False):
        results_refresh_task()
        assert ResultsSnapshot.objects.get().computed_at > first
    # Sent and counted a day after the window closed: final, never counted again, and read however old.
    with time_machine.travel(T0 + 10 * DAY, tick=False):
        results_refresh_task()
        final = ResultsSnapshot.objects.get().computed_at
    with time_machine.travel(T0 + 40 * DAY, tick=False):
        results_refresh_task()
        assert ResultsSnapshot.objects.get().computed_at == final
        assert results_for_page(campaign).computed_at == final
    assert not ResultsSnapshot.objects.filter(campaign=draft).exists()


def test_an_automation_is_counted_whatever_its_status():
    automation = campaign_make("Welcome", kind=CampaignKind.AUTOMATION, segment=None, started_at=None, status="draft")
    row(automation, S.SENT, occasion="welcome", created_at=T0)
    with time_machine.travel(T0 + DAY, tick=False):
        results_refresh_task()
    assert ResultsSnapshot.objects.get().campaign == automation
    assert results_for_page(automation).treatment.members == 1


def test_a_row_skipped_at_the_send_stays_in_the_campaign_group(campaign):
    """Skipped at the freeze: no variant, left out. Skipped at the send (consent withdrawn since, a cancel):
    it keeps its variant and stays in the group the campaign meant to reach, as its control twin does."""
    variant = CampaignVariant.objects.create(campaign=campaign, label="A")
    late = row(campaign, S.SKIPPED, skip_reason=SkipReason.CANCELLED, variant=variant)
    buy(late, "70", T0 + DAY)
    t = campaign_results(campaign).treatment
    assert (t.members, t.converters, t.revenue) == (6, 3, Decimal("190.00"))
