"""Logging an interaction from the customer's page, and the timeline it shows on."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.sections import TimelineCursor
from customers.tests.factories import CustomerFactory
from interactions.models import Interaction, InteractionChannel, Outcome, Reminder, ReminderSource
from interactions.tests.factories import InteractionFactory, ReminderFactory, TransactionFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 2, 15, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


def _log_url(customer):
    return reverse("interactions:interaction_log", args=[customer.crm_number])


def test_the_customer_page_offers_the_log_form_and_shows_the_latest_interactions(service_client):
    customer = CustomerFactory()
    InteractionFactory(customer=customer, subject="Asked about opening hours", satisfaction=5)
    body = service_client.get(customer.get_absolute_url()).content.decode()
    assert f'hx-get="{_log_url(customer)}"' in body and 'name="subject"' not in body  # the form comes on demand
    tab = service_client.get(customer.get_absolute_url(), {"tab": "interactions"}).content.decode()
    assert "Asked about opening hours" in tab and "★★★★★" in tab


def test_the_log_form_comes_alone_for_htmx_and_posts_back_into_its_panel(service_client):
    customer = CustomerFactory()
    response = service_client.get(_log_url(customer), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and 'id="quick-action-panel"' in body
    assert 'id="log-interaction-form"' in body and f'hx-post="{_log_url(customer)}"' in body
    assert "HX-Request" in response["Vary"]


def test_a_refused_log_from_the_panel_comes_back_with_what_was_typed(service_client):
    customer = CustomerFactory()
    data = {"channel": "chat", "direction": "in", "outcome": "resolved", "subject": "", "notes": "想要蓝色款"}
    response = service_client.post(_log_url(customer), data, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 400 and "<html" not in body
    assert "This field is required." in body and "想要蓝色款" in body and 'value="chat" selected' in body
    assert not Interaction.objects.exists()


def test_a_log_from_the_panel_loads_the_customer_page(service_client):
    customer = CustomerFactory()
    data = {"channel": "phone", "direction": "in", "outcome": "resolved", "subject": "回访"}
    response = service_client.post(_log_url(customer), data, headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == customer.get_absolute_url() + "?tab=interactions"
    assert Interaction.objects.get().subject == "回访"


@time_machine.travel(NOW, tick=False)
def test_log_a_call_with_a_follow_up_from_the_customer_page(service_client, service_user):
    customer = CustomerFactory()
    response = service_client.post(
        _log_url(customer),
        {
            "channel": InteractionChannel.PHONE,
            "direction": "in",
            "outcome": Outcome.FOLLOW_UP,
            "subject": "Wants a bigger size",
            "notes": "Call when the XL arrives",
            "satisfaction": "3",
            "follow_up_on": "2026-03-04",
        },
    )
    assert response.status_code == 302 and response.url == customer.get_absolute_url() + "?tab=interactions"
    interaction = Interaction.objects.get()
    assert (interaction.customer, interaction.staff, interaction.satisfaction) == (customer, service_user, 3)
    reminder = Reminder.objects.get()
    assert (reminder.assignee, reminder.source, reminder.interaction) == (
        service_user,
        ReminderSource.FOLLOW_UP,
        interaction,
    )
    page = service_client.get(response.url).content.decode()
    assert "Wants a bigger size" in page and 'id="customer-reminders"' in page


def test_a_missing_subject_or_a_past_follow_up_shows_the_form_again_with_400(service_client):
    customer = CustomerFactory()
    response = service_client.post(
        _log_url(customer),
        {"channel": "phone", "direction": "in", "outcome": "resolved", "subject": "", "follow_up_on": "2020-01-01"},
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"subject", "follow_up_on"}
    assert not Interaction.objects.exists()


def test_the_stand_alone_page_shows_the_same_form(service_client):
    customer = CustomerFactory()
    response = service_client.get(_log_url(customer))
    assert response.status_code == 200 and "Log interaction" in response.content.decode()


def test_marketing_may_not_log_and_sales_only_for_their_own_customers(
    marketing_client, sales_client, sales_user, other_sales_user
):
    data = {"channel": "phone", "direction": "in", "outcome": "resolved", "subject": "Hello"}
    assert marketing_client.post(_log_url(CustomerFactory()), data).status_code == 403
    assert sales_client.post(_log_url(CustomerFactory(owner=other_sales_user)), data).status_code == 404
    assert sales_client.post(_log_url(CustomerFactory(owner=sales_user)), data).status_code == 302
    assert Interaction.objects.count() == 1


def test_marketing_sees_no_log_form_and_no_interactions_on_the_page(marketing_client):
    customer = CustomerFactory()
    InteractionFactory(customer=customer, subject="Private complaint")
    body = marketing_client.get(customer.get_absolute_url()).content.decode()
    assert "log-interaction-form" not in body and "Private complaint" not in body


def test_logging_with_a_wrong_method_is_405(service_client):
    assert service_client.delete(_log_url(CustomerFactory())).status_code == 405


# --- timeline ----------------------------------------------------------------------------------


def _customer_with_interactions(n: int):
    customer = CustomerFactory()
    Interaction.objects.bulk_create(
        [
            Interaction(
                customer=customer,
                channel=InteractionChannel.CHAT,
                subject=f"Chat {i}",
                occurred_at=NOW - datetime.timedelta(hours=i),
            )
            for i in range(n)
        ]
    )
    ReminderFactory(customer=customer, due_at=NOW)
    TransactionFactory(customer=customer, occurred_at=NOW - datetime.timedelta(minutes=30))
    return customer


@time_machine.travel(NOW, tick=False)
def test_the_timeline_mixes_interactions_with_purchases_newest_first(service_client):
    customer = _customer_with_interactions(2)
    timeline = _timeline(service_client, customer)
    assert [item.title for item in timeline][:3] == ["Online chat: Chat 0", "Purchase ¥100.00", "Online chat: Chat 1"]


@time_machine.travel(NOW, tick=False)
def test_the_timeline_filters_by_kind(service_client):
    customer = _customer_with_interactions(2)
    timeline = _timeline(service_client, customer, timeline="interactions")
    assert [item.title for item in timeline] == ["Online chat: Chat 0", "Online chat: Chat 1"]
    assert timeline.kind == "interactions"
    purchases = _timeline(service_client, customer, timeline="purchases")
    assert [item.title for item in purchases] == ["Purchase ¥100.00"]
    assert set(timeline.kinds) == {"purchases", "points", "interactions", "coupons", "behaviour", "messages"}


def _timeline(client, customer, **params):
    """The timeline tab's page; a timeline parameter alone opens the tab (as its links do)."""
    if not params:
        params = {"tab": "timeline"}
    return client.get(customer.get_absolute_url(), params).context["tab"].data["timeline"]


@time_machine.travel(NOW, tick=False)
def test_the_timeline_is_paged_by_cursor_older_and_back_newer(service_client):
    customer = _customer_with_interactions(45)
    first = _timeline(service_client, customer)
    assert len(first) == 20 and first.has_next and not first.has_previous
    second = _timeline(service_client, customer, timeline_page=first.older)
    assert len(second) == 20 and second.has_next and second.has_previous
    third = _timeline(service_client, customer, timeline_page=second.older)
    assert len(third) == 6 and not third.has_next  # 45 chats + 1 purchase
    assert [i.title for i in _timeline(service_client, customer, timeline_page=third.newer)] == [
        i.title for i in second
    ]
    back = _timeline(service_client, customer, timeline_page=second.newer)
    assert [i.title for i in back] == [i.title for i in first] and not back.has_previous
    body = service_client.get(customer.get_absolute_url(), {"timeline_page": first.older}).content.decode()
    assert f"timeline_page={second.older}" in body and f"timeline_page={second.newer}" in body
    assert "timeline_page=2" not in body


@time_machine.travel(NOW, tick=False)
def test_items_at_the_same_moment_are_neither_repeated_nor_skipped_across_pages(service_client):
    customer = CustomerFactory()
    Interaction.objects.bulk_create(
        Interaction(customer=customer, channel=InteractionChannel.CHAT, subject=f"Chat {i}", occurred_at=NOW)
        for i in range(30)
    )
    TransactionFactory.create_batch(15, customer=customer, occurred_at=NOW)
    seen, pages, timeline = [], [], _timeline(service_client, customer)
    while True:
        pages.append([(item.kind, item.pk) for item in timeline])
        seen += pages[-1]
        if not timeline.has_next:
            break
        timeline = _timeline(service_client, customer, timeline_page=timeline.older)
    assert len(seen) == len(set(seen)) == 30 + 15
    newer = _timeline(service_client, customer, timeline_page=timeline.newer)
    assert [(item.kind, item.pk) for item in newer] == pages[-2]


@time_machine.travel(NOW, tick=False)
def test_the_page_runs_the_same_queries_for_3_and_60_interactions(service_client):
    few, many = _customer_with_interactions(3), _customer_with_interactions(60)
    service_client.get(few.get_absolute_url())
    deep_few = _timeline(service_client, few, timeline="interactions")
    deep_many = _timeline(service_client, many, timeline="interactions")
    deep_many = _timeline(service_client, many, timeline="interactions", timeline_page=deep_many.older)
    for few_params, many_params in (
        ({"tab": "timeline"}, {"tab": "timeline"}),
        ({"tab": "interactions"}, {"tab": "interactions"}),
        (
            {"timeline": "interactions", "timeline_page": str(TimelineCursor.after(deep_few.items[-1], newer=False))},
            {"timeline": "interactions", "timeline_page": deep_many.older},
        ),
    ):
        with CaptureQueriesContext(connection) as few_queries:
            service_client.get(few.get_absolute_url(), few_params)
        with CaptureQueriesContext(connection) as many_queries:
            service_client.get(many.get_absolute_url(), many_params)
        assert len(many_queries) == len(few_queries) <= 20  # 2 of them for the scores card (analytics)


def test_the_timeline_ignores_an_unknown_kind_a_page_number_and_a_forged_cursor(service_client):
    customer = _customer_with_interactions(1)
    for page in ("x", "2", "o.1.nope.1", "o.99999999999999999999.interactions.1", "n.1.interactions.-1"):
        timeline = _timeline(service_client, customer, timeline="nope", timeline_page=page)
        assert timeline.kind == "" and not timeline.has_previous and len(timeline) == 2, page


def test_recent_interactions_on_the_card_link_to_the_rest(service_client):
    customer = _customer_with_interactions(7)
    body = service_client.get(customer.get_absolute_url(), {"tab": "interactions"}).content.decode()
    assert "All interactions on the timeline" in body
    assert body.count("Chat ") >= 5


def test_the_page_says_exactly_when_the_follow_up_reminder_comes(service_client):
    customer = CustomerFactory()
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    data = {"channel": "phone", "direction": "in", "outcome": "resolved", "subject": "回访", "follow_up_on": tomorrow}
    response = service_client.post(_log_url(customer), {**data, "follow_up_time": "15:45"}, follow=True)
    assert f"You will be reminded on {tomorrow:%Y-%m-%d} 15:45." in response.content.decode()
