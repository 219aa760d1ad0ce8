"""Every endpoint refuses a missing, unknown or revoked token with 401, before reading the body."""

import pytest
from django.urls import reverse

from crm.web.api import services
from crm.web.api.models import Scope
from crm.web.api.tests.conftest import ApiHttp
from customers.tests.factories import CustomerFactory
from marketing.models import Segment

pytestmark = pytest.mark.django_db

# (method, route, what its path names: a member, a segment or nothing)
ENDPOINTS = [
    ("post", "api:members", ""),
    ("get", "api:member", "member"),
    ("patch", "api:member", "member"),
    ("get", "api:member_by_phone", ""),
    ("post", "api:transactions", ""),
    ("post", "api:interactions", ""),
    ("post", "api:social_mention", ""),
    ("get", "api:rewards", ""),
    ("post", "api:member_rewards", "member"),
    ("get", "api:segments", ""),
    ("post", "api:segments", ""),
    ("post", "api:segment_count", ""),
    ("get", "api:segment", "segment"),
    ("patch", "api:segment", "segment"),
    ("delete", "api:segment", "segment"),
    ("get", "api:segment_members", "segment"),
]


@pytest.fixture
def revoked(integration):
    api = integration(*Scope.values, name="revoked")
    services.api_client_revoke(client=api.api_client)
    return api


def _path_args(names: str) -> list:
    if names == "member":
        return [CustomerFactory().crm_number]
    return [Segment.objects.create(name="Everyone").pk] if names == "segment" else []


@pytest.mark.parametrize(("method", "name", "names"), ENDPOINTS, ids=[f"{m}-{n}" for m, n, _ in ENDPOINTS])
@pytest.mark.parametrize("token", ["none", "unknown", "revoked"])
def test_endpoint_refuses_a_bad_token(method, name, names, token, revoked):
    url = reverse(name, args=_path_args(names))
    http = {"none": ApiHttp(None), "unknown": ApiHttp("crm_unknown"), "revoked": revoked}[token]
    response = getattr(http, method)(url)
    assert response.status_code == 401
    assert "detail" in response.json()
