import datetime
from decimal import Decimal

import pytest
import time_machine
from celery.schedules import crontab
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import ModelEntry

from crm.celery import app
from customers import services as customer_services
from customers.models import Customer, PointsEntry, TierChange, TierChangeKind
from customers.services import membership
from customers.tests.factories import CustomerFactory, TierFactory
from interactions import services
from interactions.tasks import membership_daily_task

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 1, 5, 10, 0, tzinfo=datetime.UTC)


def days(n: int) -> datetime.datetime:
    return T0 + datetime.timedelta(days=n)


@pytest.fixture
def tiers(settings):
    settings.CRM_TIER_WINDOW_DAYS = 365
    return {
        "base": TierFactory(name="普通", rank=0, min_spend=Decimal("0")),
        "silver": TierFactory(name="银卡", rank=1, min_spend=Decimal("2000")),
        "gold": TierFactory(name="金卡", rank=2, min_spend=Decimal("8000")),
    }


def _tier(customer):
    return Customer.objects.select_related("tier").get(pk=customer.pk).tier


def _buy(customer, amount: str, when: datetime.datetime):
    with time_machine.travel(when, tick=False):
        return services.transaction_record(customer=customer, amount=Decimal(amount))


def test_a_purchase_that_reaches_the_next_threshold_upgrades_at_once(tiers):
    customer = CustomerFactory(tier=tiers["base"])
    _buy(customer, "1500", days(0))
    assert _tier(customer) == tiers["base"]
    _buy(customer, "600", days(10))
    assert _tier(customer) == tiers["silver"]
    change = TierChange.objects.get(customer=customer)
    assert (change.kind, change.from_tier, change.to_tier) == (TierChangeKind.UPGRADE, tiers["base"], tiers["silver"])
    assert "2,100.00" in change.reason_text
    assert Customer.objects.get(pk=customer.pk).tier_since == days(10)


def test_a_downgrade_waits_until_the_tier_has_been_held_a_whole_window(tiers):
    customer = CustomerFactory(tier=tiers["base"])
    _buy(customer, "2500", days(0))
    _buy(customer, "6000", days(300))
    assert _tier(customer) == tiers["gold"]  # 8,500 in the window

    # The first purchase has left the window (6,000 < 8,000), but gold was only won 100 days ago.
    with time_machine.travel(days(400), tick=False):
        assert services.tiers_evaluate() == 0
    assert _tier(customer) == tiers["gold"]

    # A window after winning gold, nothing is left in the window: straight down to what the spend earns.
    with time_machine.travel(days(666), tick=False):
        assert services.tiers_evaluate() == 1
    assert _tier(customer) == tiers["base"]
    change = TierChange.objects.filter(customer=customer).first()
    assert (change.kind, change.from_tier, change.to_tier) == (TierChangeKind.DOWNGRADE, tiers["gold"], tiers["base"])


def test_a_member_who_still_spends_enough_keeps_the_tier_after_the_window(tiers):
    customer = CustomerFactory(tier=tiers["base"])
    _buy(customer, "2500", days(0))
    _buy(customer, "2100", days(200))
    with time_machine.travel(days(500), tick=False):
        assert services.tiers_evaluate() == 0
    assert _tier(customer) == tiers["silver"]


def test_a_refund_does_not_downgrade_before_the_window(tiers):
    customer = CustomerFactory(tier=tiers["base"])
    tx = _buy(customer, "2500", days(0))
    with time_machine.travel(days(30), tick=False):
        services.transaction_refund(transaction=tx)
        services.tiers_evaluate()
    assert _tier(customer) == tiers["silver"]
    with time_machine.travel(days(366), tick=False):
        services.tiers_evaluate()
    assert _tier(customer) == tiers["base"]


def test_staff_setting_a_tier_by_hand_is_recorded(tiers, manager_user):
    customer = CustomerFactory(tier=tiers["base"])
    with time_machine.travel(days(0), tick=False):
        customer_services.customer_update(customer=customer, actor=manager_user, tier=tiers["gold"])
    change = TierChange.objects.get(customer=customer)
    assert (change.kind, change.to_tier, change.created_by) == (TierChangeKind.MANUAL, tiers["gold"], manager_user)
    assert Customer.objects.get(pk=customer.pk).tier_since == days(0)


def test_the_daily_task_expires_points_and_moves_tiers_and_a_second_run_changes_nothing(tiers, settings):
    settings.CRM_POINTS_EXPIRY_DAYS = 365
    lapsed = CustomerFactory(tier=tiers["base"])
    _buy(lapsed, "3000", days(0))
    newcomer = CustomerFactory(tier=None)
    with time_machine.travel(days(0), tick=False):
        membership.points_earn(customer=newcomer, points=5)
    with time_machine.travel(days(400), tick=False):
        first = membership_daily_task()
        rows = (PointsEntry.objects.count(), TierChange.objects.count())
        second = membership_daily_task()
    assert first == {"points_expired": 2, "tier_changes": 2}  # lapsed down to base, newcomer into base
    assert second == {"points_expired": 0, "tier_changes": 0}
    assert (PointsEntry.objects.count(), TierChange.objects.count()) == rows
    assert _tier(lapsed) == tiers["base"] and _tier(newcomer) == tiers["base"]
    assert Customer.objects.get(pk=lapsed.pk).points_balance == 0


def test_the_daily_job_is_on_the_beat_schedule_with_an_expiry():
    entry = app.conf.beat_schedule["membership-daily"]
    assert entry["task"] == membership_daily_task.name
    assert isinstance(entry["schedule"], crontab)
    # What beat (django_celery_beat's DatabaseScheduler) stores from it at start-up:
    ModelEntry.from_entry("membership-daily", app=app, **entry)
    stored = PeriodicTask.objects.get(name="membership-daily")
    assert (stored.crontab.hour, stored.crontab.minute) == ("2", "30")
    assert stored.expire_seconds == entry["options"]["expires"] > 0
