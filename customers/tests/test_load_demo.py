"""The demo data, as a user looking around the demo would check it."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from crm.lib.phone import display_phone
from customers.management.commands.load_demo import DOUBLES, REGIONS
from customers.models import Customer
from customers.services.merge import duplicate_groups
from tests.logins import force_login

pytestmark = pytest.mark.django_db


def _client_for(username: str) -> Client:
    return force_login(Client(), get_user_model().objects.get(username=username))


def test_demo_customers_live_in_real_cities_of_their_province_with_phones_shown_one_way():
    call_command("load_demo", customers=60, stdout=None)
    customers = list(Customer.objects.all())
    assert len({c.province for c in customers}) > 3
    for customer in customers:
        assert customer.city in REGIONS[customer.province], (customer.province, customer.city)
        assert customer.mobile.startswith("+86") and len(customer.mobile) == 14
        assert display_phone(customer.mobile).count(" ") == 2  # "138 1234 5678" for every one


def test_the_demo_has_likely_duplicates_to_merge_and_a_rerun_adds_none():
    call_command("load_demo", customers=30, stdout=None)
    assert duplicate_groups(queryset=Customer.objects.all()).count() == DOUBLES
    body = _client_for("manager").get(reverse("customers:duplicates")).content.decode()
    group = duplicate_groups(queryset=Customer.objects.all()).first()
    name = Customer.objects.filter(name__iexact=group["lname"]).first().name
    assert body.count(name) >= 2

    count = Customer.objects.count()
    call_command("load_demo", customers=30, stdout=None)
    assert Customer.objects.count() == count


def test_demo_members_have_shop_browsing_on_their_timeline_and_a_rerun_adds_none():
    from interactions.models import BehaviourEvent  # the demo spans the apps; this test reads what it made

    call_command("load_demo", customers=30, stdout=None)
    events = BehaviourEvent.objects.count()
    assert events > 0
    member = Customer.objects.filter(pk=BehaviourEvent.objects.values("member_id")[:1]).get()
    client = _client_for("manager")
    page = reverse("customers:detail", args=[member.crm_number])
    body = client.get(page, {"tab": "timeline", "timeline": "behaviour"}).content.decode()
    assert " in the shop</" in body, "a day's summary: its count of events in the shop"
    call_command("load_demo", customers=30, stdout=None)
    assert BehaviourEvent.objects.count() == events
