"""Automations find the members each occasion is due for, once per member and occasion, however often they run."""

import datetime

import pytest
import time_machine
from django.utils import timezone
from lunardate import LunarDate

from customers.models import PointsEntry, PointsKind, TierChange, TierChangeKind
from customers.tests.factories import CustomerFactory, TierFactory
from interactions.models import BehaviourKind, InteractionSource, PurchaseStats
from interactions.tests.factories import InteractionFactory, ProductFactory, TransactionFactory, behaviour_events
from marketing import rendering, templating
from marketing.models import Automation, AutomationKind, CampaignKind, MessageTemplate
from marketing.occasion_context import points_expiry_key
from marketing.tests.automation_helpers import at, rows, run, switch_on

pytestmark = pytest.mark.django_db


def test_every_kind_has_a_switched_off_automation_with_its_own_campaign_and_valid_messages():
    automations = Automation.objects.select_related("campaign")
    assert {a.kind for a in automations} == set(AutomationKind.values)
    for automation in automations:
        assert not automation.enabled and automation.campaign.kind == CampaignKind.AUTOMATION
        templates = MessageTemplate.objects.filter(variant__campaign=automation.campaign)
        assert {t.language for t in templates} == {"en", "zh-hans"}
        for template in templates:
            templating.check(template.subject)
            templating.check(template.body)


def test_a_switched_off_automation_sends_nothing():
    customer = CustomerFactory(birthday=datetime.date(1990, 3, 17))
    automation = Automation.objects.get(kind=AutomationKind.BIRTHDAY)
    assert run(automation, at(2027, 3, 10)) == 0 and rows(automation) == set()
    assert customer.pk


# Birthday


def test_a_solar_birthday_is_greeted_the_given_days_ahead_once():
    due = CustomerFactory(birthday=datetime.date(1990, 3, 17))
    later = CustomerFactory(birthday=datetime.date(1990, 3, 18))
    past = CustomerFactory(birthday=datetime.date(1990, 3, 9))
    automation = switch_on(AutomationKind.BIRTHDAY, at(2027, 3, 1), days=7)
    assert run(automation, at(2027, 3, 10)) == 1
    assert rows(automation) == {(due.pk, "birthday:2027")}
    assert later.pk and past.pk


def test_running_twice_writes_no_second_row():
    member = CustomerFactory(birthday=datetime.date(1990, 3, 17))
    automation = switch_on(AutomationKind.BIRTHDAY, at(2027, 3, 1), days=7)
    assert run(automation, at(2027, 3, 10, 9)) == 1
    assert run(automation, at(2027, 3, 10, 9, 5)) == 0
    assert run(automation, at(2027, 3, 12)) == 0  # still ahead, still greeted once
    assert rows(automation) == {(member.pk, "birthday:2027")}


def test_a_run_across_midnight_greets_each_member_once():
    today = CustomerFactory(birthday=datetime.date(1990, 3, 17))
    tomorrow = CustomerFactory(birthday=datetime.date(1990, 3, 18))
    automation = switch_on(AutomationKind.BIRTHDAY, at(2027, 3, 1), days=7)
    run(automation, at(2027, 3, 10, 23, 59))
    assert rows(automation) == {(today.pk, "birthday:2027")}
    run(automation, at(2027, 3, 11, 0, 1))
    run(automation, at(2027, 3, 11, 0, 2))
    assert rows(automation) == {(today.pk, "birthday:2027"), (tomorrow.pk, "birthday:2027")}


def test_a_missed_day_is_caught_up_and_a_new_member_close_to_their_birthday_is_still_greeted():
    automation = switch_on(AutomationKind.BIRTHDAY, at(2027, 3, 1), days=7)
    run(automation, at(2027, 3, 8))
    joined = CustomerFactory(birthday=datetime.date(1990, 3, 13))  # joined after the run 5 days ahead
    run(automation, at(2027, 3, 10))  # the 9th was missed
    assert (joined.pk, "birthday:2027") in rows(automation)


def test_next_year_is_a_new_occasion():
    member = CustomerFactory(birthday=datetime.date(1990, 3, 17))
    automation = switch_on(AutomationKind.BIRTHDAY, at(2027, 3, 1), days=7)
    run(automation, at(2027, 3, 10))
    run(automation, at(2028, 3, 10))
    assert rows(automation) == {(member.pk, "birthday:2027"), (member.pk, "birthday:2028")}


def test_29_february_is_greeted_on_28_february_in_a_year_without_one():
    leapling = CustomerFactory(birthday=datetime.date(1996, 2, 29))
    automation = switch_on(AutomationKind.BIRTHDAY, at(2027, 2, 1), days=0)
    run(automation, at(2027, 2, 27))
    assert rows(automation) == set()
    run(automation, at(2027, 2, 28))
    assert rows(automation) == {(leapling.pk, "birthday:2027")}
    run(automation, at(2027, 3, 1))
    assert rows(automation) == {(leapling.pk, "birthday:2027")}


def test_29_february_is_greeted_on_its_own_day_in_a_leap_year():
    leapling = CustomerFactory(birthday=datetime.date(1996, 2, 29))
    on_28th = CustomerFactory(birthday=datetime.date(1996, 2, 28))
    automation = switch_on(AutomationKind.BIRTHDAY, at(2028, 2, 1), days=0)
    run(automation, at(2028, 2, 28))
    assert rows(automation) == {(on_28th.pk, "birthday:2028")}
    run(automation, at(2028, 2, 29))
    assert rows(automation) == {(on_28th.pk, "birthday:2028"), (leapling.pk, "birthday:2028")}


def test_a_lunar_birthday_is_greeted_ahead_of_its_solar_day_this_year():
    # 农历八月十五 falls on 15 September 2027; a solar 15 August birthday is another member's.
    lunar = CustomerFactory(birthday=datetime.date(1985, 8, 15), birthday_is_lunar=True)
    solar = CustomerFactory(birthday=datetime.date(1985, 8, 15))
    automation = switch_on(AutomationKind.BIRTHDAY, at(2027, 8, 1), days=7)
    run(automation, at(2027, 8, 8))  # 15 August: the solar member's
    assert rows(automation) == {(solar.pk, "birthday:2027")}
    run(automation, at(2027, 9, 7))
    assert rows(automation) == {(solar.pk, "birthday:2027")}
    run(automation, at(2027, 9, 8))
    assert rows(automation) == {(solar.pk, "birthday:2027"), (lunar.pk, "birthday:2027")}
    run(automation, at(2027, 9, 9))
    assert len(rows(automation)) == 2


def test_a_lunar_day_30_is_greeted_on_day_29_in_a_short_month():
    # 正月三十: the first lunar month of 2030 has 29 days.
    member = CustomerFactory(birthday=datetime.date(1980, 1, 30), birthday_is_lunar=True)
    day = LunarDate(2030, 1, 29).to_solar_date()
    automation = switch_on(AutomationKind.BIRTHDAY, at(2030, 1, 1), days=0)
    run(automation, at(day.year, day.month, day.day))
    assert rows(automation) == {(member.pk, "birthday:2030")}


def test_a_lunar_twelfth_month_birthday_in_january_keeps_its_lunar_year():
    member = CustomerFactory(birthday=datetime.date(1990, 12, 20), birthday_is_lunar=True)
    automation = switch_on(AutomationKind.BIRTHDAY, at(2028, 1, 1), days=0)
    run(automation, at(2028, 1, 16))  # 农历二〇二七年腊月二十
    assert rows(automation) == {(member.pk, "birthday:2027")}


# Welcome


def test_a_new_member_from_any_source_is_welcomed_once():
    automation = switch_on(AutomationKind.WELCOME, at(2027, 3, 1))
    with time_machine.travel(at(2027, 3, 1, 11), tick=False):
        before = CustomerFactory(registered_on=datetime.date(2027, 3, 1))
    with time_machine.travel(at(2027, 3, 2, 9), tick=False):
        joined = CustomerFactory(registered_on=datetime.date(2027, 3, 2), source="api")
        imported = CustomerFactory(registered_on=datetime.date(2015, 6, 1), source="import")
    run(automation, at(2027, 3, 2, 10))
    run(automation, at(2027, 3, 2, 11))
    assert rows(automation) == {(before.pk, "welcome"), (joined.pk, "welcome")}
    assert imported.pk


def test_members_who_joined_before_the_welcome_was_switched_on_are_not_welcomed():
    with time_machine.travel(at(2027, 3, 1, 9), tick=False):
        CustomerFactory(registered_on=datetime.date(2027, 3, 1))
    automation = switch_on(AutomationKind.WELCOME, at(2027, 3, 1, 10))
    assert run(automation, at(2027, 3, 1, 11)) == 0


# Points expiry


def _lot(customer, points: int, expires_on: datetime.date, remaining: int | None = None) -> PointsEntry:
    return PointsEntry.objects.create(
        customer=customer,
        kind=PointsKind.EARNED,
        points=points,
        balance_after=points,
        expires_on=expires_on,
        remaining=points if remaining is None else remaining,
    )


def test_points_lapsing_within_the_days_are_warned_of_once_with_the_amount():
    member = CustomerFactory()
    _lot(member, 300, datetime.date(2027, 3, 20))
    _lot(member, 200, datetime.date(2027, 3, 20), remaining=50)
    _lot(member, 90, datetime.date(2027, 3, 21))
    far = CustomerFactory()
    _lot(far, 100, datetime.date(2027, 4, 30))
    spent = CustomerFactory()
    _lot(spent, 100, datetime.date(2027, 3, 20), remaining=0)
    automation = switch_on(AutomationKind.POINTS_EXPIRY, at(2027, 3, 1), days=14)
    run(automation, at(2027, 3, 10))
    occasion = points_expiry_key(datetime.date(2027, 3, 20))
    assert rows(automation) == {(member.pk, occasion)}
    run(automation, at(2027, 3, 11))  # the lot of the 21st is within the days too: no second warning yet
    assert rows(automation) == {(member.pk, occasion)}
    context = rendering.context_for(member, occasion=occasion)
    assert context["points_expiring"] == 350 and context["points_expiring_on"] == datetime.date(2027, 3, 20)
    template = MessageTemplate.objects.get(variant__campaign=automation.campaign, language="en")
    assert "350 of your points lapse on 2027-03-20" in rendering.render_for(template, member, occasion=occasion).body


# Win-back


def test_a_member_whose_last_purchase_is_the_given_days_old_is_won_back_once_per_lapse():
    lapsed = CustomerFactory()
    PurchaseStats.objects.create(customer=lapsed, orders=2, last_purchase_at=at(2026, 12, 10, 15))
    recent = CustomerFactory()
    PurchaseStats.objects.create(customer=recent, orders=2, last_purchase_at=at(2027, 2, 1))
    automation = switch_on(AutomationKind.WIN_BACK, at(2027, 3, 1), days=90)
    run(automation, at(2027, 3, 10))  # 10 December + 90 days
    run(automation, at(2027, 3, 11))
    assert rows(automation) == {(lapsed.pk, "win_back:2026-12-10")}
    # They come back, and lapse again: a new occasion.
    PurchaseStats.objects.filter(customer=lapsed).update(last_purchase_at=at(2027, 4, 1))
    run(automation, at(2027, 6, 30))
    assert (lapsed.pk, "win_back:2027-04-01") in rows(automation)


# Tier upgrade


def test_a_member_moved_up_a_tier_is_congratulated_once_per_tier():
    silver, gold = TierFactory(rank=1), TierFactory(rank=2)
    automation = switch_on(AutomationKind.TIER_UPGRADE, at(2027, 3, 1))
    upgraded = CustomerFactory(tier=gold)
    fell_back = CustomerFactory(tier=silver)
    downgraded = CustomerFactory(tier=silver)
    with time_machine.travel(at(2027, 3, 2), tick=False):
        TierChange.objects.create(customer=upgraded, kind=TierChangeKind.UPGRADE, from_tier=silver, to_tier=gold)
        TierChange.objects.create(customer=fell_back, kind=TierChangeKind.UPGRADE, from_tier=silver, to_tier=gold)
        TierChange.objects.create(customer=downgraded, kind=TierChangeKind.DOWNGRADE, from_tier=gold, to_tier=silver)
    run(automation, at(2027, 3, 2, 11))
    run(automation, at(2027, 3, 2, 12))
    assert rows(automation) == {(upgraded.pk, f"tier_upgrade:{gold.pk}")}


def test_staff_setting_a_higher_tier_counts_as_an_upgrade():
    silver, gold = TierFactory(rank=1), TierFactory(rank=2)
    automation = switch_on(AutomationKind.TIER_UPGRADE, at(2027, 3, 1))
    member = CustomerFactory(tier=gold)
    with time_machine.travel(at(2027, 3, 2), tick=False):
        TierChange.objects.create(customer=member, kind=TierChangeKind.MANUAL, from_tier=silver, to_tier=gold)
    run(automation, at(2027, 3, 2, 11))
    assert rows(automation) == {(member.pk, f"tier_upgrade:{gold.pk}")}


# Browse abandonment


def test_a_member_who_viewed_a_product_often_without_buying_is_reminded_once_a_period():
    now = timezone.now()
    product = ProductFactory()
    keen, casual, bought = CustomerFactory(), CustomerFactory(), CustomerFactory()
    hours = [now - datetime.timedelta(hours=h) for h in (30, 20, 2)]
    behaviour_events(keen, *[(BehaviourKind.PRODUCT_VIEW, h, product) for h in hours])
    behaviour_events(casual, *[(BehaviourKind.PRODUCT_VIEW, h, product) for h in hours[:2]])
    behaviour_events(bought, *[(BehaviourKind.PRODUCT_VIEW, h, product) for h in hours])
    PurchaseStats.objects.create(customer=bought, orders=1, last_purchase_at=now - datetime.timedelta(hours=1))
    automation = switch_on(AutomationKind.BROWSE_ABANDONMENT, now - datetime.timedelta(days=10), days=3, views=3)
    run(automation, now)
    assert rows(automation) == {(keen.pk, f"browse:{timezone.localdate(now).isoformat()}")}
    run(automation, now + datetime.timedelta(days=1))  # still interested the next day: not again this period
    assert len(rows(automation)) == 1


def test_views_of_one_category_count_across_its_products_and_pages():
    now = timezone.now()
    one, two = ProductFactory(), ProductFactory()
    member = CustomerFactory()
    category = one.category
    two.category = category
    two.save()
    behaviour_events(
        member,
        (BehaviourKind.PRODUCT_VIEW, now - datetime.timedelta(hours=3), one),
        (BehaviourKind.PRODUCT_VIEW, now - datetime.timedelta(hours=2), two),
        (BehaviourKind.CATEGORY_VIEW, now - datetime.timedelta(hours=1), category),
    )
    automation = switch_on(AutomationKind.BROWSE_ABANDONMENT, now - datetime.timedelta(days=10), days=3, views=3)
    run(automation, now)
    assert {customer for customer, _occasion in rows(automation)} == {member.pk}


# Satisfaction survey


def test_a_purchase_or_staff_contact_is_asked_about_after_the_delay_once():
    automation = switch_on(AutomationKind.SURVEY, at(2027, 3, 1), delay_hours=24)
    buyer, caller, fresh = CustomerFactory(), CustomerFactory(), CustomerFactory()
    purchase = TransactionFactory(customer=buyer, occurred_at=at(2027, 3, 2, 9))
    call = InteractionFactory(customer=caller, occurred_at=at(2027, 3, 2, 8))
    InteractionFactory(customer=fresh, occurred_at=at(2027, 3, 3, 9))  # not a day old yet
    InteractionFactory(customer=fresh, occurred_at=at(2027, 3, 2, 8), source=InteractionSource.SOCIAL)
    run(automation, at(2027, 3, 3, 10))
    run(automation, at(2027, 3, 3, 11))
    assert rows(automation) == {(buyer.pk, f"survey:purchase:{purchase.pk}"), (caller.pk, f"survey:contact:{call.pk}")}


def test_a_member_is_asked_about_their_latest_purchase_only_and_not_again_within_a_week():
    automation = switch_on(AutomationKind.SURVEY, at(2027, 3, 1), delay_hours=24)
    member = CustomerFactory()
    TransactionFactory(customer=member, occurred_at=at(2027, 3, 2, 9))
    latest = TransactionFactory(customer=member, occurred_at=at(2027, 3, 2, 10))
    run(automation, at(2027, 3, 3, 11))
    assert rows(automation) == {(member.pk, f"survey:purchase:{latest.pk}")}
    TransactionFactory(customer=member, occurred_at=at(2027, 3, 4, 10))
    run(automation, at(2027, 3, 5, 11))
    assert len(rows(automation)) == 1


def test_purchases_from_before_the_survey_was_switched_on_are_not_asked_about():
    member = CustomerFactory()
    TransactionFactory(customer=member, occurred_at=at(2027, 3, 1, 9))
    automation = switch_on(AutomationKind.SURVEY, at(2027, 3, 1, 12), delay_hours=24)
    assert run(automation, at(2027, 3, 2, 13)) == 0


def test_the_survey_message_carries_a_link_per_score():
    automation = Automation.objects.get(kind=AutomationKind.SURVEY)
    member = CustomerFactory()
    occasion = f"survey:purchase:{TransactionFactory(customer=member).pk}"
    template = MessageTemplate.objects.get(variant__campaign=automation.campaign, language="en")
    body = rendering.render_for(template, member, occasion=occasion).body
    assert [line.split(":")[0] for line in body.splitlines()[1:]] == ["1", "2", "3", "4", "5"]
    assert body.count("/s/") == 5


def test_a_campaign_that_cannot_be_sent_is_reported_and_caught_up_after_the_fix(monkeypatch, marketing_client):
    from django.core.exceptions import ValidationError

    from marketing.services import automations as service

    member = CustomerFactory(birthday=datetime.date(1990, 3, 17))
    automation = switch_on(AutomationKind.BIRTHDAY, at(2027, 3, 1), days=7)
    working = service._prepare

    def broken(**kwargs):
        raise ValidationError("Messages cannot be sent by this channel yet.")

    monkeypatch.setattr(service, "_prepare", broken)
    assert run(automation, at(2027, 3, 10)) == 0
    automation.refresh_from_db()
    assert automation.last_error == "Messages cannot be sent by this channel yet." and automation.last_run_at is None
    page = marketing_client.get("/marketing/automations/").content.decode()
    assert 'id="automation-birthday-error"' in page and "cannot be sent by this channel" in page
    monkeypatch.setattr(service, "_prepare", working)
    run(automation, at(2027, 3, 12))
    automation.refresh_from_db()
    assert rows(automation) == {(member.pk, "birthday:2027")} and automation.last_error == ""
