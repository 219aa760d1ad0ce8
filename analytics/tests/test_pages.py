"""The scoring pages and the customer page's scores card, for the roles that may and may not see them."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given

from analytics.models import MemberScore, RunStatus, ScoreHistory, ScoringRun
from analytics.tests.conftest import AS_OF, buy, run_scoring
from customers.tests.factories import CustomerFactory
from interactions.tests.factories import ProductFactory, TransactionLineFactory
from tests.hostile import hostile_number, hostile_text, rolled_back, table_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored_member():
    member = CustomerFactory(name="王芳")
    for days in (3, 40, 90):
        buy(member, days_ago=days, amount="120.00")
    other = CustomerFactory()
    buy(other, days_ago=200, amount="10.00")
    run = run_scoring(params={"parts": ["rfm"]})
    return member, run


def test_the_run_list_shows_runs_and_the_button_to_managers(manager_client, scored_member):
    _, run = scored_member
    page = manager_client.get(reverse("analytics:run_list")).content.decode()
    assert reverse("analytics:run_detail", args=[run.pk]) in page
    assert 'id="run-start"' in page


def test_marketers_see_runs_but_cannot_start_one(marketing_client, scored_member):
    page = marketing_client.get(reverse("analytics:run_list")).content.decode()
    assert 'id="run-start"' not in page
    assert marketing_client.post(reverse("analytics:run_start")).status_code == 403
    assert ScoringRun.objects.count() == 1


@pytest.mark.parametrize("client_name", ["service_client", "sales_client"])
def test_front_line_roles_do_not_see_the_runs(client_name, request):
    client = request.getfixturevalue(client_name)
    assert client.get(reverse("analytics:run_list")).status_code == 403


def test_start_is_post_only(manager_client):
    assert manager_client.get(reverse("analytics:run_start")).status_code == 405
    assert not ScoringRun.objects.exists()


def test_a_manager_starts_a_run_and_lands_on_its_progress(
    manager_client, manager_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        response = manager_client.post(reverse("analytics:run_start"))
    run = ScoringRun.objects.get()
    assert response.url == reverse("analytics:run_detail", args=[run.pk])
    assert run.created_by == manager_user and run.status == RunStatus.QUEUED
    assert len(queued) == 1  # the fit, queued once the run is committed
    page = manager_client.get(response.url).content.decode()
    assert 'id="run-progress"' in page and 'hx-trigger="every 2s"' in page
    fragment = manager_client.get(response.url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div id="run-progress"')


def test_a_second_start_while_one_runs_is_refused_with_a_message(manager_client):
    manager_client.post(reverse("analytics:run_start"))
    response = manager_client.post(reverse("analytics:run_start"), follow=True)
    assert "already under way" in response.content.decode()
    assert ScoringRun.objects.count() == 1


def test_a_finished_run_shows_segments_and_a_polling_page_reloads(manager_client, scored_member):
    _, run = scored_member
    page = manager_client.get(reverse("analytics:run_detail", args=[run.pk])).content.decode()
    assert 'id="rfm-segments"' in page and "Potential Loyalist" in page
    assert 'hx-trigger="every 2s"' not in page
    fragment = manager_client.get(reverse("analytics:run_detail", args=[run.pk]), headers={"HX-Request": "true"})
    assert fragment.headers["HX-Refresh"] == "true"


def test_the_customer_page_shows_the_scores_with_their_run_date(sales_client, sales_user, scored_member):
    member, run = scored_member
    member.owner = sales_user
    member.save()
    page = sales_client.get(member.get_absolute_url()).content.decode()
    card = page[page.index('id="scores"') :]
    score = MemberScore.objects.get(customer=member)
    assert score.get_segment_display() in card
    assert f"R {score.r} · F {score.f} · M {score.m}" in card
    assert run.as_of.strftime("%m/%d/%Y") in card or run.as_of.strftime("%Y") in card


def test_a_member_not_yet_scored_says_so(service_client):
    member = CustomerFactory()
    page = service_client.get(member.get_absolute_url()).content.decode()
    assert "Not scored yet" in page


def test_the_scores_card_is_hidden_without_the_permission(login_as, make_user):
    member = CustomerFactory()
    user = make_user(None, username="reader")
    from django.contrib.auth.models import Permission

    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_customer", "view_all_customers"]))
    page = login_as(user).get(member.get_absolute_url()).content.decode()
    assert 'id="scores"' not in page


def test_recommendations_show_with_their_reason(service_client):
    a, b = ProductFactory(name="Green tea"), ProductFactory(name="Tea cups")
    for _ in range(4):
        buyer = CustomerFactory()
        TransactionLineFactory(transaction=buy(buyer, days_ago=200), product=a)
        TransactionLineFactory(transaction=buy(buyer, days_ago=150), product=b)
    newcomer = CustomerFactory()
    TransactionLineFactory(transaction=buy(newcomer, days_ago=5), product=a)
    run_scoring(params={"parts": ["rfm", "recommendations"]})
    page = service_client.get(newcomer.get_absolute_url()).content.decode()
    card = page[page.index('id="recommendations"') :]
    assert "Tea cups" in card and "Bought together with Green tea by 4 members" in card


def test_the_scores_card_costs_the_same_queries_whatever_the_history(service_client):
    lean = CustomerFactory()
    buy(lean, days_ago=3)
    rich = CustomerFactory()
    for days in range(1, 60):
        buy(rich, days_ago=days)
    run_scoring(params={"parts": ["rfm", "recommendations"]})
    service_client.get(lean.get_absolute_url())
    with CaptureQueriesContext(connection) as lean_queries:
        service_client.get(lean.get_absolute_url())
    with CaptureQueriesContext(connection) as rich_queries:
        service_client.get(rich.get_absolute_url())
    assert len(rich_queries) == len(lean_queries)


def test_the_card_says_which_segment_the_member_was_in_at_the_run_before(service_client):
    member = CustomerFactory()
    buy(member, days_ago=1, amount="10.00")
    for days in (300, 310, 320, 330, 340):
        buy(CustomerFactory(), days_ago=days, amount="10.00")
    run_scoring(params={"parts": ["rfm"]})
    later = AS_OF + datetime.timedelta(days=200)
    run_scoring(as_of=later, params={"parts": ["rfm"]})
    before, now = (h.get_segment_display() for h in ScoreHistory.objects.filter(customer=member).order_by("run_id"))
    assert before != now
    card = service_client.get(member.get_absolute_url()).content.decode()
    assert f"Was {before} on" in card[card.index('id="rfm-previous"') :]


@given(page=hostile_text, run_id=hostile_number, body=hostile_text)
def test_hostile_pages_ids_and_bodies_never_fail_and_change_nothing_on_error(manager_client, page, run_id, body):
    with rolled_back():
        before = table_counts()
        listing = manager_client.get(reverse("analytics:run_list"), {"page": page})
        assert listing.status_code in (200, 400)  # 400: a NUL, refused before any view (crm/middleware.py)
        detail = manager_client.get(f"/analytics/scoring/{run_id}/", headers={"HX-Request": "true"})
        assert detail.status_code in (200, 400, 404)
        assert table_counts() == before
        # The start takes nothing from its body: whatever is posted, a run with the defaults, or a refusal.
        started = manager_client.post(reverse("analytics:run_start"), {"parts": body, "window_days": body})
        assert started.status_code == 302
        assert ScoringRun.objects.count() == 1 and ScoringRun.objects.get().params["window_days"] == 365


def test_a_run_started_from_the_page_says_so(manager_client):
    manager_client.post(reverse("analytics:run_start"))
    assert ScoringRun.objects.get().trigger == "page"
