"""The top bar's notifications: badge with the unread count, the latest in a dropdown, mark all read."""

import pytest
from django.test import Client
from django.urls import reverse

from crm.notifications import notification_create

pytestmark = pytest.mark.django_db

FRAGMENT = reverse("notifications")


def test_every_page_loads_the_badge_after_itself(service_client):
    body = service_client.get(reverse("customers:list")).content.decode()
    assert f'hx-get="{FRAGMENT}"' in body


def test_the_badge_counts_unread_notifications_and_the_list_shows_the_latest(service_client, service_user, sales_user):
    notification_create(user=service_user, text="Due: call back — 陈静", link="/customers/1/")
    notification_create(user=service_user, text="Due: send catalogue — 王芳")
    notification_create(user=sales_user, text="Not yours")
    body = service_client.get(FRAGMENT).content.decode()
    assert 'id="notifications-badge">2<' in body
    assert "call back — 陈静" in body and 'href="/customers/1/"' in body and "Not yours" not in body


def test_mark_all_read_clears_the_badge(service_client, service_user):
    notification_create(user=service_user, text="Due: call back")
    body = service_client.post(reverse("notifications_read")).content.decode()
    assert "notifications-badge" not in body and "Due: call back" in body
    assert service_user.notifications.filter(read_at__isnull=True).count() == 0


def test_any_logged_in_user_has_notifications_but_anonymous_visitors_are_sent_to_login(outsider, login_as):
    assert login_as(outsider).get(FRAGMENT).status_code == 200
    response = Client().get(FRAGMENT)
    assert response.status_code == 302 and "login" in response.url


def test_wrong_methods_are_405(service_client):
    assert service_client.post(FRAGMENT).status_code == 405
    assert service_client.get(reverse("notifications_read")).status_code == 405


def test_the_fragment_query_count_is_fixed(service_client, service_user, django_assert_max_num_queries):
    for i in range(30):
        notification_create(user=service_user, text=f"Due: {i}")
    # session, user, its roles (does it need a second factor: crm.two_factor), its permissions (two), the unread
    # count and the list
    with django_assert_max_num_queries(7):
        service_client.get(FRAGMENT)
