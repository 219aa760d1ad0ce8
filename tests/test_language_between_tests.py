"""A test that reads a page in Chinese must not leave Chinese active for the next one (they run in this order)."""

import pytest
from django.conf import settings
from django.utils import translation

from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_a_page_read_in_chinese(service_client):
    service_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    body = service_client.get(CustomerFactory().get_absolute_url()).content.decode()
    assert "基本资料" in body


def test_the_next_test_starts_in_the_default_language():
    assert translation.get_language() == settings.LANGUAGE_CODE
