"""The server error handler (crm/views/errors.py) as production serves it: the database away is a 503 the user can
wait out, in their language, with no trace of the error; JSON under /api/; any other error stays the 500 page."""

import pytest
from django.contrib.auth.decorators import login_not_required
from django.db import InterfaceError, OperationalError
from django.test import Client
from django.urls import path

from crm.web.urls import handler500  # noqa: F401 -- this module is the URL conf, and the handler is the site's
from crm.web.urls import urlpatterns as site_urlpatterns

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@login_not_required
def database_away_view(request):
    raise OperationalError('connection to server at "db" failed: secret detail')


@login_not_required
def connection_closed_view(request):
    raise InterfaceError("connection already closed: secret detail")


@login_not_required
def broken_view(request):
    raise RuntimeError("secret detail")


urlpatterns = [
    path("test-only/away/", database_away_view),
    path("test-only/closed/", connection_closed_view),
    path("test-only/broken/", broken_view),
    path("api/test-only/away/", database_away_view),
    *site_urlpatterns,
]


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("url", ["/test-only/away/", "/test-only/closed/"])
def test_the_database_away_is_a_friendly_503_page(client, url):
    response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "Briefly unavailable" in body and 'id="error-home"' in body
    assert "secret detail" not in body and "Error" not in body


def test_the_503_page_speaks_the_readers_language(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.get("/test-only/away/")
    assert response.status_code == 503 and '<html lang="zh-hans">' in response.content.decode()


def test_the_api_gets_json_503_with_its_reason(client):
    response = client.get("/api/test-only/away/")
    assert response.status_code == 503 and response["Content-Type"] == "application/json"
    assert response.json()["reason"] == "database_unavailable" and "secret" not in response.content.decode()


def test_any_other_error_is_still_the_500_page(client):
    response = client.get("/test-only/broken/")
    assert response.status_code == 500 and "Server error" in response.content.decode()
