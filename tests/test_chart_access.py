"""Every chart endpoint of every app, JSON and CSV, for every role: a chart answers only those who may open its
page."""

import pytest
from django.test import Client
from django.urls import reverse

from crm import charts
from crm.roles import Role
from customers.tests.factories import UserFactory
from marketing.models import Segment

pytestmark = pytest.mark.django_db

# Who may read the charts behind each permission: the dashboard is the Manager's, the marketing reports
# Marketing's and the Manager's. A chart with a permission missing here fails the first test.
READERS = {
    "analytics.view_dashboard": {Role.MANAGER, Role.ADMIN},
    "analytics.view_marketing_reports": {Role.MARKETING, Role.MANAGER, Role.ADMIN},
}
ROLES = [Role.SERVICE, Role.SALES, Role.MARKETING, Role.MANAGER, Role.ADMIN, None]
KEYS = sorted(charts.charts())


def test_every_chart_is_guarded_by_a_known_permission():
    assert {chart.permission for chart in charts.charts().values()} <= READERS.keys()


@pytest.mark.parametrize("key", KEYS)
def test_each_role_reads_only_the_charts_of_its_pages(key, login_as):
    # What a chart that reports on one segment needs; the others take no such parameter and ignore it.
    params = {"segment": Segment.objects.create(name="Everyone").pk}
    got, wanted = {}, {}
    for role in ROLES:
        client = login_as(UserFactory(username=f"u-{role}".lower(), role=role))
        for name in ("chart_json", "chart_csv"):
            got[role, name] = client.get(reverse(name, args=[key]), params).status_code
            wanted[role, name] = 200 if role in READERS[charts.get(key).permission] else 403
    assert got == wanted


@pytest.mark.parametrize("key", KEYS)
def test_anonymous_visitors_get_no_chart(key):
    response = Client().get(reverse("chart_json", args=[key]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["chart_json", "chart_csv"])
def test_a_chart_answers_get_only(name, manager_client):
    assert manager_client.post(reverse(name, args=["kpi_sales"])).status_code == 405
