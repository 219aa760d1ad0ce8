"""The staff page where unmatched social mentions are assigned to customers."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from crm.roles import Role
from customers.tests.factories import CustomerFactory, UserFactory
from interactions.models import Interaction, InteractionChannel, Reminder, UnmatchedMention

pytestmark = pytest.mark.django_db


@pytest.fixture
def mention():
    return UnmatchedMention.objects.create(platform="weibo", handle="foodie_li", text="菜太咸了", external_id="p1")


def test_the_queue_lists_waiting_mentions(service_client, mention):
    response = service_client.get(reverse("interactions:mention_queue"))
    assert response.status_code == 200
    assert "菜太咸了" in response.content.decode()


def test_assigning_records_the_mention_and_a_reminder_for_the_owner(service_client, service_user, mention):
    owner = UserFactory(username="owner", role=Role.SALES)
    customer = CustomerFactory(owner=owner)
    response = service_client.post(
        reverse("interactions:mention_assign", args=[mention.pk]), {"customer": customer.crm_number_display}
    )
    assert response.status_code == 302
    interaction = Interaction.objects.get()
    assert (interaction.customer, interaction.channel, interaction.external_handle) == (
        customer,
        InteractionChannel.SOCIAL,
        "foodie_li",
    )
    reminder = Reminder.objects.get()
    assert (reminder.assignee, reminder.created_by) == (owner, service_user)
    mention.refresh_from_db()
    assert (mention.assigned_to, mention.assigned_by) == (customer, service_user)
    assert "菜太咸了" not in service_client.get(reverse("interactions:mention_queue")).content.decode()


def test_without_an_owner_the_reminder_goes_to_whoever_assigned_it(service_client, service_user, mention):
    customer = CustomerFactory()
    service_client.post(reverse("interactions:mention_assign", args=[mention.pk]), {"customer": customer.crm_number})
    assert Reminder.objects.get().assignee == service_user


def test_assigning_twice_is_refused(service_client, mention):
    customer = CustomerFactory()
    url = reverse("interactions:mention_assign", args=[mention.pk])
    service_client.post(url, {"customer": customer.crm_number})
    response = service_client.post(url, {"customer": customer.crm_number}, follow=True)
    assert "already been assigned" in response.content.decode()
    assert Interaction.objects.count() == 1


def test_a_wrong_check_digit_is_shown_on_the_form(service_client, mention):
    customer = CustomerFactory()
    digits = str(customer.crm_number)
    wrong = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    response = service_client.post(reverse("interactions:mention_assign", args=[mention.pk]), {"customer": wrong})
    assert response.status_code == 400
    assert "check digit" in response.content.decode()
    assert not Interaction.objects.exists()


def test_sales_and_marketing_may_not_work_the_queue(sales_client, marketing_client, mention):
    for client in (sales_client, marketing_client):
        assert client.get(reverse("interactions:mention_queue")).status_code == 403
        response = client.post(reverse("interactions:mention_assign", args=[mention.pk]), {"customer": "1"})
        assert response.status_code == 403
    assert not Interaction.objects.exists()


def test_wrong_methods_are_405(service_client, mention):
    assert service_client.post(reverse("interactions:mention_queue")).status_code == 405
    assert service_client.get(reverse("interactions:mention_assign", args=[mention.pk])).status_code == 405


def test_a_mentions_contacts_are_masked_for_a_user_without_contact_details(make_user, login_as, service_client):
    UnmatchedMention.objects.create(
        platform="weibo", handle="h", text="t", external_id="p2", phone="+8613812345678", email="li@example.com"
    )
    queue = reverse("interactions:mention_queue")
    user = make_user(None, username="queue-only")
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_unmatchedmention", "view_customer"]))
    page = login_as(user).get(queue).content.decode()
    assert "+86138****5678" in page and "l***@example.com" in page
    assert "5678" in page and "138 1234 5678" not in page and "li@example.com" not in page
    assert "138 1234 5678" in service_client.get(queue).content.decode()  # the desk, matching it to a member
