"""The 400, 403, 404 and 500 pages as production serves them (DEBUG off), and how refusals are logged."""

import logging

import pytest
from django.conf import settings
from django.core.exceptions import BadRequest
from django.template.loader import render_to_string
from django.test import Client, override_settings
from django.urls import path, reverse
from django.utils import translation

from crm.web.urls import urlpatterns as site_urlpatterns
from customers.tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def broken_view(request):
    raise RuntimeError("secret detail from deep inside")


def bad_request_view(request):
    raise BadRequest("a malformed parameter")


# The site's URLs plus two test-only views that fail.
urlpatterns = [
    path("test-only/broken/", broken_view),
    path("test-only/bad-request/", bad_request_view),
    *site_urlpatterns,
]

ENGLISH = {
    404: "Page not found",
    403: "No permission",
    400: "Request not accepted",
    500: "Server error",
    "back": "Go back",
    "list": "Back to the customer list",
    "home": "Home page",
}
CHINESE = {
    404: "页面不存在",
    403: "没有权限",
    400: "请求无法处理",
    500: "服务器出错",
    "back": "返回上一页",
    "list": "返回会员列表",
    "home": "返回首页",
}
LANGUAGES = pytest.mark.parametrize(("language", "words"), [("en", ENGLISH), ("zh-hans", CHINESE)])


def in_language(client: Client, language: str) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def assert_site_page(body: str, words: dict, status: int) -> None:
    assert words[status] in body
    assert 'id="main-nav"' in body  # the site's navigation
    assert f'href="{reverse("customers:list")}"' in body and words["list"] in body
    assert "data-crm-back" in body and words["back"] in body  # static/js/crm.js goes back


@LANGUAGES
@override_settings(DEBUG=False)
def test_sales_opening_another_reps_customer_get_the_404_page(sales_client, other_sales_user, language, words):
    customer = CustomerFactory(owner=other_sales_user)
    response = in_language(sales_client, language).get(customer.get_absolute_url())
    assert response.status_code == 404
    body = response.content.decode()
    assert_site_page(body, words, 404)
    assert customer.name not in body
    assert "URLconf" not in body and "<int:number>" not in body  # not Django's debug page


@LANGUAGES
@override_settings(DEBUG=False)
def test_marketing_opening_the_customer_form_get_the_403_page(marketing_client, language, words):
    response = in_language(marketing_client, language).get(reverse("customers:create"))
    assert response.status_code == 403
    assert_site_page(response.content.decode(), words, 403)


@override_settings(DEBUG=False)
def test_a_user_in_no_role_is_offered_the_home_page_not_the_list_they_cannot_open(login_as, outsider):
    response = login_as(outsider).get(reverse("customers:list"))
    assert response.status_code == 403
    body = response.content.decode()
    assert f'href="{reverse("home")}"' in body and ENGLISH["home"] in body
    assert ENGLISH["list"] not in body


@LANGUAGES
@override_settings(DEBUG=False)
def test_a_bad_request_gets_the_400_page(sales_client, language, words):
    response = in_language(sales_client, language).get("/test-only/bad-request/")
    assert response.status_code == 400
    body = response.content.decode()
    assert_site_page(body, words, 400)
    assert "a malformed parameter" not in body


@LANGUAGES
@override_settings(DEBUG=False)
def test_a_view_that_raises_gets_the_500_page_without_the_traceback(sales_client, language, words):
    sales_client.raise_request_exception = False
    response = in_language(sales_client, language).get("/test-only/broken/")
    assert response.status_code == 500
    body = response.content.decode()
    assert words[500] in body and words["home"] in body and words["back"] in body
    assert f'href="{reverse("home")}"' in body
    assert "css/crm.css" in body and "bootstrap.min.css" in body  # looks like the site
    assert "Traceback" not in body and "secret detail" not in body and "RuntimeError" not in body


def test_the_500_page_renders_with_no_request_and_no_database(django_assert_num_queries):
    with translation.override("zh-hans"), django_assert_num_queries(0):
        body = render_to_string("500.html")
    assert CHINESE[500] in body and 'lang="zh-hans"' in body


@override_settings(DEBUG=False)
def test_a_refused_permission_is_logged_as_one_line_with_who_and_where(marketing_client, caplog):
    with caplog.at_level(logging.INFO, logger="django.request"):
        marketing_client.get(reverse("customers:create"))
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 1
    (record,) = records
    assert record.levelno == logging.WARNING and record.exc_info is None
    line = caplog.text.strip()
    assert "\n" not in line and "Traceback" not in line
    assert reverse("customers:create") in line and "marketing" in line and "403" in line


@override_settings(DEBUG=False)
def test_a_server_error_keeps_its_traceback_in_the_log(sales_client, caplog):
    sales_client.raise_request_exception = False
    with caplog.at_level(logging.INFO, logger="django.request"):
        sales_client.get("/test-only/broken/")
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.levelno == logging.ERROR
    assert "Traceback" in caplog.text and "secret detail from deep inside" in caplog.text
