"""Every URL, for every role and an anonymous visitor: the status each should get."""

import pytest
from django.test import Client
from django.urls import reverse

from crm.roles import Role
from customers.tests.factories import CustomerFactory, UserFactory
from interactions.tests.factories import ReminderFactory, TransactionFactory

pytestmark = pytest.mark.django_db

ROLES = [Role.SERVICE, Role.SALES, Role.MARKETING, Role.MANAGER, Role.ADMIN, "outsider"]

# (url name, needs a customer (or "transaction"/"reminder": one of theirs), {role: expected status});
# 302 = to login for anonymous.
# The customer is owned by another sales user, so Sales get 404 on it.
EXPECTED = [
    (
        "customers:list",
        False,
        {Role.SERVICE: 200, Role.SALES: 200, Role.MARKETING: 200, Role.MANAGER: 200, Role.ADMIN: 200, "outsider": 403},
    ),
    (
        "customers:create",
        False,
        {Role.SERVICE: 200, Role.SALES: 200, Role.MARKETING: 403, Role.MANAGER: 200, Role.ADMIN: 200, "outsider": 403},
    ),
    (
        "customers:detail",
        True,
        {Role.SERVICE: 200, Role.SALES: 404, Role.MARKETING: 200, Role.MANAGER: 200, Role.ADMIN: 200, "outsider": 403},
    ),
    (
        "customers:edit",
        True,
        {Role.SERVICE: 200, Role.SALES: 404, Role.MARKETING: 403, Role.MANAGER: 200, Role.ADMIN: 200, "outsider": 403},
    ),
    (
        "import",
        False,
        {Role.SERVICE: 200, Role.SALES: 403, Role.MARKETING: 403, Role.MANAGER: 200, Role.ADMIN: 200, "outsider": 403},
    ),
    (
        "customers:duplicates",
        False,
        {Role.SERVICE: 403, Role.SALES: 403, Role.MARKETING: 403, Role.MANAGER: 200, Role.ADMIN: 200, "outsider": 403},
    ),
    (
        "interactions:purchase_record",
        True,
        {Role.SERVICE: 200, Role.SALES: 404, Role.MARKETING: 403, Role.MANAGER: 200, Role.ADMIN: 200, "outsider": 403},
    ),
    (
        "interactions:purchase_refund",
        "transaction",
        {Role.SERVICE: 200, Role.SALES: 404, Role.MARKETING: 403, Role.MANAGER: 200, Role.ADMIN: 200, "outsider": 403},
    ),
    (
        "customers:points_adjust",
        True,
        {Role.SERVICE: 403, Role.SALES: 404, Role.MARKETING: 403, Role.MANAGER: 200, Role.ADMIN: 200, "outsider": 403},
    ),
    (
        "interactions:mention_queue",
        False,
        {Role.SERVICE: 200, Role.SALES: 403, Role.MARKETING: 403, Role.MANAGER: 200, Role.ADMIN: 200, "outsider": 403},
    ),
    (
        "interactions:interaction_log",
        True,
        {Role.SERVICE: 200, Role.SALES: 404, Role.MARKETING: 403, Role.MANAGER: 200, Role.ADMIN: 200, "outsider": 403},
    ),
    (
        "interactions:my_day",
        False,
        {Role.SERVICE: 200, Role.SALES: 200, Role.MARKETING: 403, Role.MANAGER: 200, Role.ADMIN: 200, "outsider": 403},
    ),
    (
        "interactions:reports",
        False,
        {Role.SERVICE: 200, Role.SALES: 403, Role.MARKETING: 403, Role.MANAGER: 200, Role.ADMIN: 200, "outsider": 403},
    ),
    # Done and snooze are POST-only (their owner/role checks are in interactions/tests/test_my_day.py).
    ("interactions:reminder_done", "reminder", dict.fromkeys(ROLES, 405)),
    ("interactions:reminder_snooze", "reminder", dict.fromkeys(ROLES, 405)),
    ("notifications", False, dict.fromkeys(ROLES, 200)),
    (
        "admin:index",
        False,
        {Role.SERVICE: 302, Role.SALES: 302, Role.MARKETING: 302, Role.MANAGER: 302, Role.ADMIN: 200, "outsider": 302},
    ),
    (
        "admin:customers_customer_changelist",
        False,
        {Role.SERVICE: 302, Role.SALES: 302, Role.MARKETING: 302, Role.MANAGER: 302, Role.ADMIN: 200, "outsider": 302},
    ),
    (
        "admin:interactions_reminderrule_changelist",
        False,
        {Role.SERVICE: 302, Role.SALES: 302, Role.MARKETING: 302, Role.MANAGER: 302, Role.ADMIN: 200, "outsider": 302},
    ),
]


@pytest.fixture
def customer():
    return CustomerFactory(owner=UserFactory(username="another-seller", role=Role.SALES))


def _url(name, needs_customer, customer):
    if needs_customer == "transaction":
        return reverse(name, args=[customer.crm_number, TransactionFactory(customer=customer).pk])
    if needs_customer == "reminder":
        return reverse(name, args=[ReminderFactory(customer=customer).pk])
    return reverse(name, args=[customer.crm_number]) if needs_customer else reverse(name)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "needs_customer", "expected"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_each_role_gets_the_expected_status(role, name, needs_customer, expected, customer, login_as):
    user = UserFactory(
        username=f"u-{role}".lower(), role=None if role == "outsider" else role, is_staff=role == Role.ADMIN
    )
    response = login_as(user).get(_url(name, needs_customer, customer))
    assert response.status_code == expected[role]


@pytest.mark.parametrize(("name", "needs_customer", "expected"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_anonymous_visitors_are_sent_to_login(name, needs_customer, expected, customer):
    url = _url(name, needs_customer, customer)
    response = Client().get(url)
    assert response.status_code == 302
    assert "login" in response.url


def test_lookup_needs_login_and_a_role(customer, login_as):
    url = reverse("customers:lookup") + f"?q={customer.crm_number}"
    assert Client().get(url).status_code == 302
    assert login_as(UserFactory(username="nobody")).get(url).status_code == 403


@pytest.mark.parametrize("name", ["customers:list", "customers:lookup"])
def test_wrong_method_is_405(name, service_client):
    assert service_client.post(reverse(name)).status_code == 405


def test_detail_wrong_method_is_405(service_client, customer):
    assert service_client.post(reverse("customers:detail", args=[customer.crm_number])).status_code == 405
    assert service_client.delete(reverse("customers:edit", args=[customer.crm_number])).status_code == 405


def test_health_check_is_public():
    assert Client().get("/healthz").status_code == 200


def test_login_page_is_public():
    assert Client().get(reverse("login")).status_code == 200


def _admin_pages():
    from django.contrib import admin

    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        yield opts.label, f"admin:{opts.app_label}_{opts.model_name}_changelist", model_admin
        yield opts.label, f"admin:{opts.app_label}_{opts.model_name}_add", model_admin


@pytest.mark.parametrize(("label", "name", "model_admin"), list(_admin_pages()), ids=lambda v: str(v))
def test_every_admin_list_and_add_page_opens_for_an_admin(label, name, model_admin, login_as, rf):
    user = UserFactory(username="the-admin", role=Role.ADMIN, is_staff=True, is_superuser=True)
    response = login_as(user).get(reverse(name))
    request = rf.get("/")
    request.user = user
    if name.endswith("_add") and not model_admin.has_add_permission(request):
        assert response.status_code == 403
    else:
        assert response.status_code == 200, f"{label}: {response.status_code}"
