"""Swagger UI and Redoc for signed-in staff, with their assets from the installed sidecar package."""

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["api:docs", "api:redoc"])
def test_docs_pages_load_their_assets_locally(service_client, name):
    response = service_client.get(reverse(name))
    assert response.status_code == 200
    body = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in body
    assert "cdn." not in body and "unpkg" not in body and "googleapis" not in body
    assert "<script>" not in body
    if name == "api:docs":  # Swagger's start-up script is a file of its own (the CSP refuses inline ones)
        body = service_client.get(reverse(name), {"script": ""}).content.decode()
    assert reverse("api:schema") in body


def test_swagger_assets_are_served(service_client):
    response = Client().get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["api:docs", "api:redoc"])
def test_docs_pages_need_a_login(name):
    response = Client().get(reverse(name))
    assert response.status_code == 302
    assert "login" in response.url
