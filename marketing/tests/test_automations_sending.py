"""Automations through the real sending engine to a real SMTP server: what the member receives, once."""

import datetime
import re
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from customers.models import PointsEntry, PointsKind
from customers.tests.factories import CustomerFactory
from interactions.models import Interaction, InteractionSource
from interactions.tests.factories import TransactionFactory
from marketing.models import Automation, AutomationKind, Campaign, CouponOffer
from marketing.occasion_context import points_expiry_key
from marketing.services.automations import automation_run, automation_update

sending_fixtures = pytest.importorskip("marketing.tests.sending_fixtures")
fast_sending, smtp, send_all = sending_fixtures.fast_sending, sending_fixtures.smtp, sending_fixtures.send_all

pytestmark = pytest.mark.django_db


def _on(kind: str, *, switched_on_at: datetime.datetime | None = None, **timing: int) -> Automation:
    automation = automation_update(automation=Automation.objects.get(kind=kind), enabled=True, **timing)
    Campaign.objects.filter(pk=automation.campaign_id).update(control_percent=0)  # everyone, for the test
    if switched_on_at is not None:
        Automation.objects.filter(pk=automation.pk).update(enabled_at=switched_on_at)
    automation.refresh_from_db()
    return automation


def _text(message) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content()


def test_a_birthday_greeting_with_its_coupon_reaches_the_member_once(fast_sending, smtp):
    soon = timezone.localdate() + datetime.timedelta(days=3)
    member = CustomerFactory(email_opt_in=True, birthday=datetime.date(1992, soon.month, soon.day))  # a leap year
    automation = _on(AutomationKind.BIRTHDAY, days=7)
    Campaign.objects.filter(pk=automation.campaign_id).update(offer=CouponOffer.objects.create(name="Gift", value=30))
    assert automation_run(automation=automation) == 1
    assert automation_run(automation=automation) == 0
    send_all(automation.campaign)
    assert smtp.deliveries() == {member.email: 1}
    mail = smtp.to(member.email)
    assert mail["Subject"] == f"Happy birthday, {member.name}!"
    coupon = member.coupons.get()
    assert coupon.code_display in _text(mail) and coupon.occasion.endswith(f"birthday:{soon.year}")


def test_the_points_expiry_warning_says_how_many_points_lapse_and_when(fast_sending, smtp):
    member = CustomerFactory(email_opt_in=True, language="en")
    day = timezone.localdate() + datetime.timedelta(days=10)
    PointsEntry.objects.create(
        customer=member, kind=PointsKind.EARNED, points=350, balance_after=350, expires_on=day, remaining=350
    )
    automation = _on(AutomationKind.POINTS_EXPIRY, days=14)
    automation_run(automation=automation)
    send_all(automation.campaign)
    assert automation.campaign.messages.get().occasion == points_expiry_key(day)
    assert f"350 of your points lapse on {day.isoformat()}" in _text(smtp.to(member.email))


def test_the_survey_mail_carries_five_score_links_and_the_chosen_one_is_recorded(fast_sending, smtp):
    now = timezone.now()
    member = CustomerFactory(email_opt_in=True, language="en")
    purchase = TransactionFactory(customer=member, occurred_at=now - datetime.timedelta(hours=30))
    automation = _on(AutomationKind.SURVEY, switched_on_at=now - datetime.timedelta(days=2), delay_hours=24)
    automation_run(automation=automation)
    send_all(automation.campaign)
    body = _text(smtp.to(member.email))
    urls = dict(re.findall(r"^([1-5]): (\S+)\r?$", body, flags=re.M))
    assert sorted(urls) == ["1", "2", "3", "4", "5"]
    Client().post(urlsplit(urls["2"]).path)
    answer = Interaction.objects.get(customer=member, source=InteractionSource.SURVEY)
    assert answer.satisfaction == 2 and f"#{purchase.pk}" in answer.subject
