"""Why points moved, why a tier changed, why a purchase was flagged: written in one language, read in the other."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext

from customers.models import PointsEntry, PointsKind, PointsReason, TierChange, TierChangeKind
from customers.services import membership
from customers.services.merge import customer_merge
from customers.tests.factories import CustomerFactory, TierFactory
from interactions import services

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)


def _in(language: str, read):
    with translation.override(language):
        return read()


def _chinese(message: str, **params) -> str:
    """The message as the Chinese catalog has it (whatever its wording today), filled in."""
    text = _in("zh-hans", lambda: gettext(message)) % params
    assert text != gettext(message) % params, "the catalog should translate it"
    return text


@pytest.mark.parametrize("written_in", ["zh-hans", "en"])
def test_points_of_a_purchase_read_in_the_viewers_language(written_in):
    customer = CustomerFactory()
    with translation.override(written_in):
        tx = services.transaction_record(customer=customer, amount=Decimal("120"))
    entry = PointsEntry.objects.get(customer=customer)
    assert (entry.reason_code, entry.reason_params) == (PointsReason.PURCHASE, {"id": tx.pk})
    assert _in("en", lambda: entry.reason_text) == f"Purchase #{tx.pk}"
    assert _in("zh-hans", lambda: entry.reason_text) == _chinese("Purchase #%(id)s", id=tx.pk)


def test_a_refund_with_a_typed_note_keeps_the_note_as_typed():
    customer = CustomerFactory()
    with translation.override("zh-hans"):
        tx = services.transaction_record(customer=customer, amount=Decimal("2000"))
        services.transaction_refund(transaction=tx, amount=Decimal("1500"), reason="尺码不合适")
    entry = PointsEntry.objects.get(customer=customer, kind=PointsKind.REVERSED)
    assert _in("en", lambda: entry.reason_text) == f"Refund of 1,500.00 on purchase #{tx.pk}: 尺码不合适"
    refund = _chinese("Refund of %(amount)s on purchase #%(id)s", amount="1,500.00", id=tx.pk)
    assert _in("zh-hans", lambda: entry.reason_text) == f"{refund}: 尺码不合适"


def test_a_partial_reversal_says_how_much_in_either_language():
    customer = CustomerFactory()
    membership.points_earn(customer=customer, points=80, reference="transaction:1")
    membership.points_redeem(customer=customer, points=50)
    with translation.override("en"):
        entry = membership.points_reverse(customer=customer, points=80, reason="Refund", reference="transaction:1")
    assert _in("zh-hans", lambda: entry.reason_text) == _chinese(
        "%(reason)s (reversed %(done)s of %(asked)s points; the rest were already used)",
        reason="Refund",
        done=30,
        asked=80,
    )
    assert _in("en", lambda: entry.reason_text).endswith("(reversed 30 of 80 points; the rest were already used)")


@pytest.mark.parametrize("written_in", ["zh-hans", "en"])
def test_an_expiry_reads_in_the_viewers_language(written_in, settings):
    settings.CRM_POINTS_EXPIRY_DAYS = 30
    customer = CustomerFactory()
    membership.points_earn(customer=customer, points=40, earned_on=datetime.date(2026, 1, 1))
    with translation.override(written_in):
        membership.points_expire_due(today=datetime.date(2026, 3, 1))
    entry = PointsEntry.objects.get(customer=customer, kind=PointsKind.EXPIRED)
    assert entry.reason_params == {"date": "2026-01-30"}
    english, chinese = _in("en", lambda: entry.reason_text), _in("zh-hans", lambda: entry.reason_text)
    chinese_date = _in("zh-hans", lambda: date_format(datetime.date(2026, 1, 30), "SHORT_DATE_FORMAT"))
    assert english.startswith("Points earned before ") and english.endswith(" expired") and "2026" in english
    assert chinese == _chinese("Points earned before %(date)s expired", date=chinese_date)


def test_a_merge_reads_in_the_viewers_language(service_user):
    gold = TierFactory(name="金卡", rank=5)
    survivor, other = CustomerFactory(), CustomerFactory(tier=gold)
    membership.points_adjust(customer=other, points=120, reason="迁移积分", actor=service_user)
    number = other.crm_number_display
    with translation.override("zh-hans"):
        customer_merge(survivor=survivor, other=other, actor=service_user)
    points = survivor.points_entries.filter(reason_code=PointsReason.MERGED).get()
    tier = TierChange.objects.get(customer=survivor)
    assert _in("en", lambda: points.reason_text) == f"Merged with {number} (+120 points)"
    assert _in("zh-hans", lambda: points.reason_text) == _chinese(
        "Merged with %(number)s (+%(points)s points)", number=number, points=120
    )
    assert _in("en", lambda: tier.reason_text) == f"Merged with {number}"
    assert _in("zh-hans", lambda: tier.reason_text) == _chinese("Merged with %(number)s", number=number)
    # What staff typed stays as typed, whoever reads it.
    typed = survivor.points_entries.get(reason_code=PointsReason.MANUAL)
    assert _in("en", lambda: typed.reason_text) == _in("zh-hans", lambda: typed.reason_text) == "迁移积分"


def test_tier_changes_up_and_down_read_in_the_viewers_language(settings):
    settings.CRM_TIER_WINDOW_DAYS = 365
    base = TierFactory(name="普通", rank=0, min_spend=Decimal("0"))
    TierFactory(name="银卡", rank=1, min_spend=Decimal("2000"))
    customer = CustomerFactory(tier=base)
    with translation.override("zh-hans"), time_machine.travel(T0, tick=False):
        services.transaction_record(customer=customer, amount=Decimal("2100"))
    with translation.override("en"), time_machine.travel(T0 + datetime.timedelta(days=400), tick=False):
        services.tiers_evaluate()
    up, down = TierChange.objects.filter(customer=customer).order_by("at")
    assert (up.kind, down.kind) == (TierChangeKind.UPGRADE, TierChangeKind.DOWNGRADE)
    assert _in("en", lambda: up.reason_text) == "Spend 2,100.00 in the last 365 days"
    spend = "Spend %(spend)s in the last %(days)s days"
    assert _in("zh-hans", lambda: up.reason_text) == _chinese(spend, spend="2,100.00", days=365)
    assert _in("en", lambda: down.reason_text) == "Spend 0.00 in the last 365 days"
    assert _in("zh-hans", lambda: down.reason_text) == _chinese(spend, spend="0.00", days=365)


def test_a_flagged_purchase_reads_in_the_viewers_language():
    customer = CustomerFactory()
    with translation.override("en"):
        for minute in range(6):
            with time_machine.travel(T0 + datetime.timedelta(minutes=minute), tick=False):
                tx = services.transaction_record(customer=customer, amount=Decimal("10"))
    assert tx.flagged
    assert _in("en", lambda: tx.flag_reason_text) == "6 purchases within 10 minutes"
    assert _in("zh-hans", lambda: tx.flag_reason_text) == _chinese(
        "%(count)s purchases within %(minutes)s minutes", count=6, minutes=10
    )


def test_a_flag_for_a_large_amount_formats_the_average_when_read():
    customer = CustomerFactory()
    with translation.override("zh-hans"):
        for day in range(3):
            with time_machine.travel(T0 + datetime.timedelta(days=day), tick=False):
                services.transaction_record(customer=customer, amount=Decimal("300"))
        with time_machine.travel(T0 + datetime.timedelta(days=5), tick=False):
            big = services.transaction_record(customer=customer, amount=Decimal("5000"))
    assert _in("en", lambda: big.flag_reason_text) == "Amount is over 5× the customer's average order of 300.00"
    assert _in("zh-hans", lambda: big.flag_reason_text) == _chinese(
        "Amount is over %(factor)s× the customer's average order of %(average)s", factor=5, average="300.00"
    )


@pytest.mark.parametrize(("language", "written_in"), [("en", "zh-hans"), ("zh-hans", "en")])
def test_the_points_tab_shows_reasons_in_the_viewers_language(service_client, language, written_in):
    customer = CustomerFactory()
    with translation.override(written_in):
        tx = services.transaction_record(customer=customer, amount=Decimal("120"))
    service_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    body = service_client.get(customer.get_absolute_url(), {"tab": "points-ledger"}).content.decode()
    assert _in(language, lambda: gettext("Purchase #%(id)s")) % {"id": tx.pk} in body
    assert _in(written_in, lambda: gettext("Purchase #%(id)s")) % {"id": tx.pk} not in body
