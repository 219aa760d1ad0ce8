"""Fixtures shared by every app's tests: a user per role, an outsider, logged-in clients."""

import os

import pytest
from django.test import Client
from django.utils import translation
from hypothesis import HealthCheck, settings

from crm.roles import Role
from customers.tests.factories import UserFactory
from tests.logins import force_login


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A request in Chinese leaves Chinese active in the thread (LocaleMiddleware does not undo it), so the
    next test would read Chinese messages where it expects English; each test starts from the default."""
    yield
    translation.deactivate()


@pytest.fixture
def make_user(db):
    def make(role: str | None = None, **kwargs):
        return UserFactory(role=role, **kwargs)

    return make


@pytest.fixture
def service_user(make_user):
    return make_user(Role.SERVICE, username="service")


@pytest.fixture
def sales_user(make_user):
    return make_user(Role.SALES, username="sales")


@pytest.fixture
def other_sales_user(make_user):
    return make_user(Role.SALES, username="sales2")


@pytest.fixture
def marketing_user(make_user):
    return make_user(Role.MARKETING, username="marketing")


@pytest.fixture
def manager_user(make_user):
    return make_user(Role.MANAGER, username="manager")


@pytest.fixture
def admin_user(make_user):
    return make_user(Role.ADMIN, username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def outsider(make_user):
    """Logged in, but in no role."""
    return make_user(None, username="outsider")


def _client_for(user) -> Client:
    """Logged in; a manager or admin with their second factor verified (tests/logins.py)."""
    return force_login(Client(), user)


@pytest.fixture
def service_client(service_user):
    return _client_for(service_user)


@pytest.fixture
def sales_client(sales_user):
    return _client_for(sales_user)


@pytest.fixture
def marketing_client(marketing_user):
    return _client_for(marketing_user)


@pytest.fixture
def manager_client(manager_user):
    return _client_for(manager_user)


@pytest.fixture
def admin_client(admin_user):
    """pytest-django's, with the second factor verified as every admin's must be."""
    return _client_for(admin_user)


@pytest.fixture
def login_as():
    return _client_for


# Property tests run on the real database, so keep examples few and without a deadline (queries vary);
# CI runs more of them, always the same ones (derandomized), so a red CI run can be repeated.
settings.register_profile(
    "crm",
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "60" if os.environ.get("CI") else "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=bool(os.environ.get("CI")),
)
settings.load_profile("crm")
