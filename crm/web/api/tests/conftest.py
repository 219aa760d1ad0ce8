"""An integration (API client with chosen scopes) and an HTTP client that sends its token."""

import hashlib
import json

import pytest
from django.test import Client

from crm.web.api import services
from crm.web.api.models import Scope


class ApiHttp:
    def __init__(self, token: str | None):
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self.client = Client(headers=headers)

    def get(self, url, data=None):
        return self.client.get(url, data)

    def post(self, url, data=None, *, raw: str | bytes | None = None):
        body = raw if raw is not None else json.dumps(data or {})
        return self.client.post(url, body, content_type="application/json")

    def patch(self, url, data=None, *, raw: str | None = None):
        body = raw if raw is not None else json.dumps(data or {})
        return self.client.patch(url, body, content_type="application/json")

    def put(self, url, data=None):
        return self.client.put(url, json.dumps(data or {}), content_type="application/json")

    def delete(self, url):
        return self.client.delete(url)


@pytest.fixture
def integration(db):
    """integration(*scopes) -> an ApiHttp carrying a fresh token with those scopes (.api_client, .token)."""

    def make(*scopes: Scope, name: str | None = None) -> ApiHttp:
        label = "-".join(scopes) or "none"
        if len(label) > 60:  # the name holds 100 characters; every scope's name together is longer
            label = f"{label[:40]}-{hashlib.sha256(label.encode()).hexdigest()[:12]}"
        client, token = services.api_client_create(name=name or f"test-{label}", scopes=scopes)
        http = ApiHttp(token)
        http.api_client, http.token = client, token
        return http

    return make


@pytest.fixture
def anonymous_api():
    return ApiHttp(None)
