"""Tier and product-category names given per language, shown in the reader's."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import translation

from crm.lib.tables import read_table
from crm.models import AuditAction, AuditEvent
from customers import services as customer_services
from customers.imports import CUSTOMERS
from customers.models import Customer
from customers.tests.factories import CategoryFactory, CustomerFactory, TierFactory
from interactions import services
from interactions.services import LineInput
from interactions.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _page(client, customer, language: str) -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client.get(customer.get_absolute_url()).content.decode()


@pytest.mark.parametrize(("language", "shown", "hidden"), [("en", "Gold", "金卡"), ("zh-hans", "金卡", "Gold")])
def test_the_tier_on_the_customer_page_is_in_the_active_language(service_client, language, shown, hidden):
    customer = CustomerFactory(tier=TierFactory(name="金卡", name_zh_hans="金卡", name_en="Gold"))
    body = _page(service_client, customer, language)
    assert f'id="tier">{shown}<' in body and hidden not in body


@pytest.mark.parametrize(("language", "shown", "hidden"), [("en", "Tea", "茶叶"), ("zh-hans", "茶叶", "Tea")])
def test_the_category_of_purchases_is_in_the_active_language(service_client, language, shown, hidden):
    customer = CustomerFactory()
    tea = ProductFactory(category=CategoryFactory(name="茶叶", name_zh_hans="茶叶", name_en="Tea"), price=Decimal(300))
    services.transaction_record(customer=customer, amount=Decimal(300), lines=[LineInput(product=tea)])
    body = _page(service_client, customer, language)
    categories = body[body.index('id="purchase-categories"') :]
    assert f"<span>{shown}</span>" in categories and f"<span>{hidden}</span>" not in categories


def test_a_name_missing_in_the_active_language_falls_back_to_the_other():
    only_chinese = TierFactory(name="钻石", name_zh_hans="钻石")
    only_english = CategoryFactory(name="Shoes", name_en="Shoes")
    neither = CategoryFactory(name="legacy")
    with translation.override("en"):
        assert (str(only_chinese), str(only_english), str(neither)) == ("钻石", "Shoes", "legacy")
    with translation.override("zh-hans"):
        assert (str(only_chinese), str(only_english), str(neither)) == ("钻石", "Shoes", "legacy")


def test_an_import_matches_a_tier_by_its_name_in_either_language():
    TierFactory(name="金卡", name_zh_hans="金卡", name_en="Gold")
    headers, rows = read_table("姓名,手机,等级\n张三,13800000001,Gold\n李四,13800000002,金卡\n".encode(), "m.csv")
    report = CUSTOMERS.run(rows, mapping=CUSTOMERS.guess_mapping(headers), actor=None)
    assert not report.errors
    assert sorted(Customer.objects.values_list("tier__name", flat=True)) == ["金卡", "金卡"]


def test_the_audit_records_the_tier_by_the_name_that_does_not_depend_on_language(service_user):
    gold = TierFactory(name="金卡", name_zh_hans="金卡", name_en="Gold")
    customer = CustomerFactory()
    with translation.override("en"):
        customer_services.customer_update(customer=customer, actor=service_user, tier=gold)
    event = AuditEvent.objects.get(customer_id=customer.pk, action=AuditAction.UPDATE)
    assert event.changes["tier"] == [None, "金卡"]
