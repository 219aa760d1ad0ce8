import pytest
from django.test import override_settings
from django.urls import reverse

from crm.roles import Role
from crm.web.api.models import Scope
from customers.tests.factories import CustomerFactory, UserFactory
from interactions.models import (
    Interaction,
    InteractionChannel,
    InteractionSource,
    Reminder,
    ReminderSource,
    UnmatchedMention,
)

pytestmark = pytest.mark.django_db

URL = "api:social_mention"


@pytest.fixture
def owner():
    return UserFactory(username="owner", role=Role.SALES)


@pytest.fixture
def listener(integration):
    return integration(Scope.MENTIONS_WRITE, name="Social listening")


def mention(**fields):
    return {"platform": "weibo", "text": "等了四十分钟还没上菜", "external_id": "post-1", **fields}


def test_a_mention_from_a_known_phone_goes_on_the_timeline_with_a_reminder_for_the_owner(listener, owner):
    customer = CustomerFactory(mobile="+8613811112222", owner=owner)
    response = listener.post(reverse(URL), mention(phone="138 1111 2222", handle="@Foodie_Li"))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["matched"] and body["member"] == str(customer.crm_number)
    interaction = Interaction.objects.get(pk=body["interaction_id"])
    assert (interaction.customer, interaction.channel, interaction.source) == (
        customer,
        InteractionChannel.SOCIAL,
        InteractionSource.SOCIAL,
    )
    assert interaction.external_handle == "foodie_li"
    reminder = Reminder.objects.get(pk=body["reminder_id"])
    assert (reminder.assignee, reminder.source, reminder.interaction) == (owner, ReminderSource.SOCIAL, interaction)
    assert not UnmatchedMention.objects.exists()


def test_a_mention_matches_by_e_mail(listener, owner):
    customer = CustomerFactory(email="li@example.com", owner=owner)
    response = listener.post(reverse(URL), mention(email="LI@example.com"))
    assert response.json()["member"] == str(customer.crm_number)


def test_a_handle_seen_before_matches_its_customer(listener, owner):
    customer = CustomerFactory(owner=owner)
    listener.post(reverse(URL), mention(email=customer.email, handle="foodie_li"))
    response = listener.post(reverse(URL), mention(external_id="post-2", handle="@FOODIE_LI"))
    assert response.status_code == 201
    assert response.json()["member"] == str(customer.crm_number)


def test_an_unmatched_mention_is_queued_for_staff(listener):
    response = listener.post(reverse(URL), mention(handle="stranger", author_name="路人"))
    assert response.status_code == 202
    body = response.json()
    assert not body["matched"] and body["interaction_id"] is None
    queued = UnmatchedMention.objects.get(pk=body["queued_id"])
    assert (queued.handle, queued.received_from) == ("stranger", listener.api_client)
    assert not Interaction.objects.exists()


def test_a_repeated_delivery_changes_nothing(listener, owner):
    CustomerFactory(mobile="+8613811112222", owner=owner)
    first = listener.post(reverse(URL), mention(phone="13811112222"))
    again = listener.post(reverse(URL), mention(phone="13811112222"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["interaction_id"] == first.json()["interaction_id"]
    assert (Interaction.objects.count(), Reminder.objects.count()) == (1, 1)

    listener.post(reverse(URL), mention(external_id="post-9"))
    assert listener.post(reverse(URL), mention(external_id="post-9")).status_code == 200
    assert UnmatchedMention.objects.count() == 1


def test_a_customer_without_owner_gets_the_configured_assignee_or_no_reminder(listener, make_user):
    CustomerFactory(mobile="+8613811112222")
    response = listener.post(reverse(URL), mention(phone="13811112222"))
    assert response.status_code == 201 and response.json()["reminder_id"] is None
    desk = make_user(Role.SERVICE, username="desk")
    with override_settings(CRM_MENTION_ASSIGNEE="desk"):
        response = listener.post(reverse(URL), mention(phone="13811112222", external_id="post-2"))
    assert Reminder.objects.get(pk=response.json()["reminder_id"]).assignee == desk


def test_bad_mentions_get_reasons_per_field(listener):
    response = listener.post(reverse(URL), {"platform": "Weibo!", "phone": "12", "email": "nope", "url": "x"})
    assert response.status_code == 400
    assert {"platform", "text", "phone", "email", "url"} <= set(response.json()["errors"])
    response = listener.post(reverse(URL), raw="not json")
    assert response.status_code == 400


def test_a_token_without_the_scope_is_403_and_none_is_401(integration, anonymous_api):
    assert integration(Scope.INTERACTIONS_WRITE).post(reverse(URL), mention()).status_code == 403
    assert anonymous_api.post(reverse(URL), mention()).status_code == 401
    assert not UnmatchedMention.objects.exists()


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_wrong_methods_are_405(listener, method):
    assert getattr(listener, method)(reverse(URL)).status_code == 405


def test_a_delivery_that_loses_a_race_answers_with_the_winners_record(listener, owner, monkeypatch):
    from django.db import IntegrityError

    from interactions.services import mentions

    customer = CustomerFactory(mobile="+8613811112222", owner=owner)
    real, calls = mentions._mention_store, []

    def racing(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            real(**kwargs)  # the other delivery commits first...
            raise IntegrityError("duplicate key")  # ...and this one hits the unique index
        return real(**kwargs)

    monkeypatch.setattr(mentions, "_mention_store", racing)
    response = listener.post(reverse(URL), mention(phone="13811112222"))
    assert response.status_code == 200
    assert response.json()["member"] == str(customer.crm_number)
    assert Interaction.objects.count() == 1
