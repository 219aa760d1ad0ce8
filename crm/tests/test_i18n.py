from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from crm.templatetags.crm_tags import money
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_language_switch_turns_the_ui_chinese_and_back(service_client):
    response = service_client.post(reverse("set_language"), {"language": "zh-hans", "next": "/customers/"})
    assert response.status_code == 302
    body = service_client.get(reverse("customers:list")).content.decode()
    assert "会员" in body and "新建会员" in body
    service_client.post(reverse("set_language"), {"language": "en", "next": "/customers/"})
    assert "New customer" in service_client.get(reverse("customers:list")).content.decode()


def test_browser_language_chinese_gets_chinese_login_page():
    body = Client(headers={"accept-language": "zh-CN,zh;q=0.9"}).get(reverse("login")).content.decode()
    assert "登录" in body


def test_validation_messages_are_translated(service_client):
    service_client.post(reverse("set_language"), {"language": "zh-hans"})
    response = service_client.post(
        reverse("customers:create"),
        {"name": "x", "mobile": "12345", "source": "store", "gender": "unknown", "registered_on": "2026-01-01"},
    )
    assert "手机号" in response.content.decode()


def test_dates_follow_the_active_language(service_client):
    import datetime

    customer = CustomerFactory(registered_on=datetime.date(2020, 3, 8), birthday=datetime.date(1990, 3, 8))
    reveal = reverse("customers:reveal", args=[customer.crm_number])
    english = service_client.get(customer.get_absolute_url()).content.decode()
    assert "March 8, 2020" in english
    assert "March 8, 1990" in service_client.post(reveal, {"field": "birthday"}).content.decode()  # shown in full
    service_client.post(reverse("set_language"), {"language": "zh-hans"})
    chinese = service_client.get(customer.get_absolute_url()).content.decode()
    assert "2020年3月8日" in chinese
    assert "1990年3月8日" in service_client.post(reveal, {"field": "birthday"}).content.decode()


def test_money_uses_currency_symbol_and_grouping():
    with translation.override("en"):
        assert money(Decimal("12345.6")) == "¥12,345.60"
    with translation.override("zh-hans"):
        assert money(Decimal("12345.6"), "CNY") == "¥12,345.60"
        assert money(Decimal("5"), "USD") == "$5.00"
