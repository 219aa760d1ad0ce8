"""The messages a member was sent, on their page's timeline."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import ConsentChannel
from customers.sections import TimelineWindow
from customers.tests.factories import CustomerFactory, UserFactory
from marketing.models import MessageStatus
from marketing.sections import message_timeline
from marketing.tests.tracking_helpers import make_campaign, make_message

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 11, 1, 10, 0, tzinfo=datetime.UTC)


def timeline(client, customer, **params) -> list:
    response = client.get(customer.get_absolute_url(), {"tab": "timeline", **params})
    assert response.status_code == 200
    return response.context["tab"].data["timeline"]


def test_sent_messages_show_with_campaign_channel_and_outcome(service_client):
    member = CustomerFactory()
    make_message(customer=member, campaign=make_campaign(name="Spring sale"), status=MessageStatus.CLICKED)
    make_message(customer=member, campaign=make_campaign(name="Birthday", channel=ConsentChannel.SMS), sent_at=T0)
    items = [item for item in timeline(service_client, member) if item.kind == "messages"]
    assert [(item.title, item.detail) for item in items] == [
        ("E-mail: Spring sale", f"Clicked · to {member.email[0]}***@example.com"),
        ("SMS: Birthday", f"Sent · to +86139****{member.mobile[-4:]}"),
    ]
    body = service_client.get(member.get_absolute_url(), {"tab": "timeline"}).content.decode()
    assert "E-mail: Spring sale" in body and "SMS: Birthday" in body


def test_messages_never_sent_are_not_on_the_timeline(service_client):
    member = CustomerFactory()
    for status in (MessageStatus.HELD_OUT, MessageStatus.SKIPPED, MessageStatus.QUEUED):
        make_message(customer=member, status=status)
    assert [item for item in timeline(service_client, member) if item.kind == "messages"] == []


def test_the_timeline_can_show_messages_alone_and_page_through_them(service_client):
    member = CustomerFactory()
    campaign = make_campaign()
    for n in range(25):
        make_message(customer=member, campaign=campaign, occasion=f"birthday:{2000 + n}",
                     sent_at=T0 + datetime.timedelta(days=n))  # fmt: skip
    first = timeline(service_client, member, timeline="messages")
    assert len(first) == 20 and first.items[0].at == T0 + datetime.timedelta(days=24)
    second = timeline(service_client, member, timeline="messages", timeline_page=first.older)
    assert len(second) == 5 and second.items[-1].at == T0


def test_someone_without_the_permission_sees_none():
    member = CustomerFactory()
    make_message(customer=member)
    assert message_timeline(UserFactory(username="nobody"), member, TimelineWindow(kind="messages", limit=20)) == []


def test_query_count_is_the_same_for_a_short_and_a_long_history(service_client):
    short, long = CustomerFactory(), CustomerFactory()
    make_message(customer=short)
    for n in range(30):
        make_message(customer=long, campaign=make_campaign(), sent_at=T0 + datetime.timedelta(hours=n))
    timeline(service_client, short)
    with CaptureQueriesContext(connection) as short_queries:
        timeline(service_client, short)
    with CaptureQueriesContext(connection) as long_queries:
        timeline(service_client, long)
    assert len(long_queries) == len(short_queries)
