"""Hostile query parameters on the dashboard, its tiles and every chart endpoint: never a 500, nothing written."""

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from analytics.charts import CHARTS
from crm.roles import Role
from customers.tests.factories import UserFactory
from tests.hostile import hostile_date, hostile_number, hostile_text, rolled_back, table_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(login_as):
    return login_as(UserFactory(username="hostile-manager", role=Role.MANAGER))


@given(
    start=hostile_date,
    end=hostile_date,
    grain=st.one_of(st.sampled_from(["day", "week", "month"]), hostile_text),
    age_band=hostile_text,
    gender=hostile_text,
    category=hostile_number,
    level=hostile_text,
    key=st.sampled_from([chart.key for chart in CHARTS]),
)
def test_no_query_breaks_a_chart_or_the_dashboard(manager, start, end, grain, age_band, gender, category, level, key):
    params = {
        "start": start,
        "end": end,
        "grain": grain,
        "age_band": age_band,
        "gender": gender,
        "category": category,
        "level": level,
    }
    before = table_counts()
    with rolled_back():
        for url in (
            reverse("chart_json", args=[key]),
            reverse("chart_csv", args=[key]),
            reverse("analytics:dashboard"),
            reverse("analytics:dashboard_tiles"),
        ):
            response = manager.get(url, params)
            assert response.status_code in (200, 400), (url, response.status_code, response.content[:300])
        assert table_counts() == before
