import hashlib

import pytest
from django.core.management import call_command
from django.urls import reverse

from crm.web.api import services
from crm.web.api.models import ApiClient, Scope
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_url():
    return reverse("api:member", args=[CustomerFactory().crm_number])


def test_no_token_is_401_and_says_how_to_send_one(anonymous_api, member_url):
    response = anonymous_api.get(member_url)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Bearer" in response.json()["detail"]


def test_unknown_token_is_401(member_url):
    from crm.web.api.tests.conftest import ApiHttp

    assert ApiHttp("crm_not-a-real-token").get(member_url).status_code == 401
    assert ApiHttp("garbage").get(member_url).status_code == 401


def test_revoked_token_is_401(integration, member_url):
    api = integration(Scope.LOOKUP)
    assert api.get(member_url).status_code == 200
    services.api_client_revoke(client=api.api_client)
    response = api.get(member_url)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_a_new_token_replaces_the_old_one(integration, member_url):
    from crm.web.api.tests.conftest import ApiHttp

    api = integration(Scope.LOOKUP)
    new_token = services.api_client_rotate(client=api.api_client)
    assert api.get(member_url).status_code == 401
    assert ApiHttp(new_token).get(member_url).status_code == 200


def test_token_without_the_scope_is_403(integration, member_url):
    response = integration(Scope.MEMBERS_WRITE).get(member_url)
    assert response.status_code == 403
    assert "lookup" in response.json()["detail"]


def test_only_a_hash_of_the_token_is_stored(integration):
    api = integration(Scope.LOOKUP)
    stored = ApiClient.objects.get(pk=api.api_client.pk)
    assert api.token not in {stored.token_hash, stored.token_prefix}
    assert stored.token_hash == hashlib.sha256(api.token.encode()).hexdigest()


def test_use_is_recorded_as_last_used(integration, member_url):
    api = integration(Scope.LOOKUP)
    assert api.api_client.last_used_at is None
    api.get(member_url)
    api.api_client.refresh_from_db()
    assert api.api_client.last_used_at is not None


def test_command_creates_a_client_and_prints_its_token_once(capsys):
    call_command("api_client_create", "Web shop", "--scope", "members:write", "--scope", "lookup")
    token = capsys.readouterr().out.strip()
    client = services.api_client_for_token(token=token)
    assert client.name == "Web shop"
    assert client.scopes == ["lookup", "members:write"]


def test_admin_shows_a_new_token_once_and_can_revoke(admin_user, login_as):
    browser = login_as(admin_user)
    response = browser.post(
        reverse("admin:api_apiclient_add"),
        {"name": "ERP", "scopes": ["transactions:write"], "active": "on"},
        follow=True,
    )
    assert response.status_code == 200
    client = ApiClient.objects.get(name="ERP")
    shown = [str(m) for m in response.context["messages"]]
    token = next(m.rsplit(" ", 1)[-1] for m in shown if "shown only now" in m)
    assert services.api_client_for_token(token=token) == client
    assert client.created_by == admin_user

    browser.post(reverse("admin:api_apiclient_changelist"), {"action": "revoke", "_selected_action": [client.pk]})
    client.refresh_from_db()
    assert not client.active


def test_schema_generates_without_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_schema_is_served_to_integrations_and_signed_in_staff(integration, anonymous_api, service_client):
    url = reverse("api:schema")
    assert anonymous_api.get(url).status_code == 401
    response = integration(Scope.LOOKUP).get(url)
    assert response.status_code == 200
    assert b"/api/v1/members/" in response.content
    assert service_client.get(url).status_code == 200
