"""Every endpoint refuses a missing, unknown or revoked token with 401, before reading the body."""

import pytest
from django.urls import reverse

from crm.web.api import services
from crm.web.api.models import Scope
from crm.web.api.tests.conftest import ApiHttp
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("post", "api:members", False),
    ("get", "api:member", True),
    ("patch", "api:member", True),
    ("get", "api:member_by_phone", False),
    ("post", "api:transactions", False),
    ("post", "api:interactions", False),
    ("post", "api:social_mention", False),
    ("get", "api:rewards", False),
    ("post", "api:member_rewards", True),
]


@pytest.fixture
def revoked(integration):
    api = integration(*Scope.values, name="revoked")
    services.api_client_revoke(client=api.api_client)
    return api


@pytest.mark.parametrize(("method", "name", "needs_member"), ENDPOINTS, ids=[f"{m}-{n}" for m, n, _ in ENDPOINTS])
@pytest.mark.parametrize("token", ["none", "unknown", "revoked"])
def test_endpoint_refuses_a_bad_token(method, name, needs_member, token, revoked):
    url = reverse(name, args=[CustomerFactory().crm_number] if needs_member else [])
    http = {"none": ApiHttp(None), "unknown": ApiHttp("crm_unknown"), "revoked": revoked}[token]
    response = getattr(http, method)(url)
    assert response.status_code == 401
    assert "detail" in response.json()
