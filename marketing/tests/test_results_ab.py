"""An A/B test's end: the winner on revenue or conversion with a significance test, the rest sent with it."""

import pytest
import time_machine

from customers.tests.factories import CustomerFactory
from marketing.models import CampaignStatus, Message
from marketing.models import MessageStatus as S
from marketing.services import ab
from marketing.services.sending import campaign_start
from marketing.tasks import campaign_winners_task
from marketing.tests import sending_fixtures
from marketing.tests.results_data import DAY, HOUR, T0, buy, campaign_make, row, variants
from marketing.tests.sending_fixtures import make_campaign, send_all

fast_sending, smtp = sending_fixtures.fast_sending, sending_fixtures.smtp

pytestmark = pytest.mark.django_db
DUE = T0 + 25 * HOUR  # winner_after_hours defaults to 24


@pytest.fixture
def dispatched(monkeypatch):
    """The campaigns the engine was asked to send the rest of."""
    calls = []
    monkeypatch.setattr(ab, "_dispatch", lambda campaign: calls.append(campaign.pk))
    return calls


def ab_campaign(name: str = "A/B", *, bought_a: int, bought_b: int, per_variant: int = 60, **kwargs):
    campaign = campaign_make(name, **({"status": CampaignStatus.SENDING, "winner_metric": "conversion"} | kwargs))
    a, b = variants(campaign)
    for n in range(per_variant):
        if n < bought_a:
            buy(row(campaign, S.SENT, variant=a), "50", T0 + 2 * HOUR)
        else:
            row(campaign, S.SENT, variant=a)
        if n < bought_b:
            buy(row(campaign, S.SENT, variant=b), "50", T0 + 2 * HOUR)
        else:
            row(campaign, S.SENT, variant=b)
    waiting = [row(campaign, S.QUEUED) for _ in range(5)]
    control = row(campaign, S.HELD_OUT)
    return campaign, (a, b), waiting, control


def test_the_better_variant_wins_and_the_rest_is_sent_with_it(dispatched):
    campaign, (_a, b), waiting, control = ab_campaign(bought_a=3, bought_b=30)
    with time_machine.travel(DUE, tick=False):
        assert ab.campaign_choose_winner(campaign=campaign) == b
    campaign.refresh_from_db()
    assert campaign.winner == b and campaign.ab_verdict == ab.AbVerdict.WINNER
    assert set(Message.objects.filter(pk__in=[m.pk for m in waiting]).values_list("variant", flat=True)) == {b.pk}
    assert Message.objects.get(pk=control.pk).variant is None  # the control group is never sent
    assert dispatched == [campaign.pk]


def test_no_difference_sends_the_rest_with_variant_a(dispatched):
    campaign, (a, _b), waiting, _control = ab_campaign(bought_a=10, bought_b=11)
    with time_machine.travel(DUE, tick=False):
        assert ab.campaign_choose_winner(campaign=campaign) == a
    campaign.refresh_from_db()
    assert campaign.winner == a and campaign.ab_verdict == ab.AbVerdict.NO_DIFFERENCE
    assert not Message.objects.filter(campaign=campaign, status=S.QUEUED, variant__isnull=True).exists()
    assert dispatched == [campaign.pk]


def test_a_winner_on_revenue_per_member(dispatched):
    campaign, (a, b), _waiting, _control = ab_campaign(bought_a=20, bought_b=20, per_variant=40)
    campaign.winner_metric = "revenue"
    campaign.save()
    # As many buyers in each, but A's spend five times as much.
    for message in Message.objects.filter(campaign=campaign, variant=a)[:20]:
        buy(message, "200", T0 + DAY)
    with time_machine.travel(DUE, tick=False):
        assert ab.campaign_choose_winner(campaign=campaign) == a
    assert dispatched == [campaign.pk] and campaign.variants.get(label="B") == b


def test_not_before_its_time_and_only_once(dispatched):
    campaign, _variants, _waiting, _control = ab_campaign(bought_a=3, bought_b=30)
    with time_machine.travel(T0 + 23 * HOUR, tick=False):
        assert ab.campaign_choose_winner(campaign=campaign) is None
    campaign.refresh_from_db()
    assert campaign.winner is None and campaign.ab_verdict == "" and dispatched == []
    with time_machine.travel(DUE, tick=False):
        ab.campaign_choose_winner(campaign=campaign)
        campaign.refresh_from_db()
        first = campaign.winner
        # Decided: running again changes nothing, even if later figures would say otherwise.
        Message.objects.filter(campaign=campaign, variant=first).update(variant=None, status=S.QUEUED)
        assert ab.campaign_choose_winner(campaign=campaign) is None
    campaign.refresh_from_db()
    assert campaign.winner == first and dispatched == [campaign.pk]


def test_a_paused_campaign_gets_its_winner_but_sends_on_resume(dispatched):
    campaign, (_a, b), waiting, _control = ab_campaign(bought_a=3, bought_b=30, status=CampaignStatus.PAUSED)
    with time_machine.travel(DUE, tick=False):
        assert ab.campaign_choose_winner(campaign=campaign) == b
    assert dispatched == [] and Message.objects.get(pk=waiting[0].pk).variant == b


@pytest.mark.parametrize("status", [CampaignStatus.CANCELLED, CampaignStatus.DRAFT, CampaignStatus.SCHEDULED])
def test_nothing_is_decided_for_a_campaign_not_sending(dispatched, status):
    campaign, _variants, waiting, _control = ab_campaign(bought_a=3, bought_b=30, status=status)
    with time_machine.travel(DUE, tick=False):
        assert ab.campaign_choose_winner(campaign=campaign) is None
    campaign.refresh_from_db()
    assert campaign.winner is None and Message.objects.get(pk=waiting[0].pk).variant is None and not dispatched


def test_a_campaign_with_one_variant_has_no_test(dispatched):
    campaign = campaign_make("Single", status=CampaignStatus.SENDING)
    variants(campaign, "A")
    row(campaign, S.QUEUED)
    with time_machine.travel(DUE, tick=False):
        assert ab.campaign_choose_winner(campaign=campaign) is None
        assert ab.campaigns_due_for_winner() == []


def test_the_beat_job_decides_the_due_tests_only(dispatched):
    due, _v, _w, _c = ab_campaign("due", bought_a=3, bought_b=30)
    later, _v, _w, _c = ab_campaign("later", bought_a=3, bought_b=30, winner_after_hours=48)
    with time_machine.travel(DUE, tick=False):
        campaign_winners_task()
        campaign_winners_task()
    due.refresh_from_db()
    later.refresh_from_db()
    assert due.ab_verdict == ab.AbVerdict.WINNER and later.winner is None
    assert dispatched == [due.pk]


def test_through_the_engine_the_rest_gets_the_winner(fast_sending, smtp, django_capture_on_commit_callbacks):
    people = [CustomerFactory(email_opt_in=True) for _ in range(80)]
    campaign = make_campaign(people, variants=2, test_percent=50, winner_metric="conversion")
    with time_machine.travel(T0, tick=False):
        campaign_start(campaign=campaign, actor=None)
        send_all(campaign)
    test_rows = Message.objects.filter(campaign=campaign, variant__isnull=False)
    waiting = Message.objects.filter(campaign=campaign, status=S.QUEUED, variant__isnull=True)
    assert test_rows.count() + waiting.count() == 80 and waiting.exists()
    for message in test_rows.select_related("variant"):
        assert smtp.to(message.address)["Subject"].startswith(message.variant.label + ":")
    b = campaign.variants.get(label="B")
    for message in test_rows.filter(variant=b):
        buy(message, "30", T0 + 2 * HOUR)  # everyone who got B bought, no one who got A
    rest = set(waiting.values_list("customer__email", flat=True))
    with time_machine.travel(DUE, tick=False):
        with django_capture_on_commit_callbacks() as callbacks:
            assert ab.campaign_choose_winner(campaign=campaign) == b
        assert callbacks  # the engine's batches for the rest, queued after the decision committed
        send_all(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT and campaign.ab_verdict == ab.AbVerdict.WINNER
    assert {smtp.to(address)["Subject"].split(":")[0] for address in rest} == {"B"}
    assert all(count == 1 for count in smtp.deliveries().values())  # the test's members got no second mail
