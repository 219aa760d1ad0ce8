"""The links in a message, as the member (and their mail provider, and a mail scanner) follow them."""

from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from customers.models import ConsentChannel, ConsentEvent, Customer
from marketing import links
from marketing.models import MessageStatus
from marketing.tests.tracking_helpers import make_campaign, make_message, snapshot
from marketing.views.tracking import PIXEL
from tests.hostile import hostile_text, rolled_back

pytestmark = pytest.mark.django_db


def path(url: str) -> str:
    return url.removeprefix("http://localhost:8000")


@pytest.fixture
def message():
    return make_message()


@pytest.fixture
def member():
    """An anonymous visitor whose every POST is checked for a CSRF token, as a real browser's would be."""
    return Client(enforce_csrf_checks=True)


def test_the_unsubscribe_link_asks_first_and_changes_nothing(message, member):
    before = snapshot()
    response = member.get(path(links.unsubscribe_url(message.pk)))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="unsubscribe-confirm"' in page and "Stop receiving marketing e-mails from us." in page
    assert response["X-Robots-Tag"] == "noindex"
    assert snapshot() == before


def test_the_page_is_in_the_members_language(member):
    message = make_message(language="zh-hans")
    response = member.get(path(links.unsubscribe_url(message.pk)))
    assert '<html lang="zh-hans">' in response.content.decode()
    english = make_message(language="en")
    assert '<html lang="en">' in member.get(path(links.unsubscribe_url(english.pk))).content.decode()


def test_the_button_unsubscribes_without_a_csrf_token(message, member):
    response = member.post(path(links.unsubscribe_url(message.pk)))
    assert response.status_code == 200 and 'id="unsubscribe-done"' in response.content.decode()
    message.customer.refresh_from_db()
    message.refresh_from_db()
    assert not message.customer.email_opt_in and message.status == MessageStatus.UNSUBSCRIBED
    # the very next campaign's consent check no longer finds them
    assert not Customer.objects.filter(pk=message.customer.pk, email_opt_in=True).exists()
    # and the page says so when the link is followed again, still without changing anything
    again = member.get(path(links.unsubscribe_url(message.pk)))
    assert 'id="unsubscribe-done"' in again.content.decode()
    assert ConsentEvent.objects.filter(customer=message.customer).count() == 1


def test_rfc_8058_one_click_unsubscribes(message, member):
    response = member.post(
        path(links.unsubscribe_url(message.pk)),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    message.customer.refresh_from_db()
    assert not message.customer.email_opt_in
    assert member.post(path(links.unsubscribe_url(message.pk)), "List-Unsubscribe=One-Click",
                       content_type="application/x-www-form-urlencoded").status_code == 200  # fmt: skip
    assert ConsentEvent.objects.filter(customer=message.customer).count() == 1


def test_an_sms_unsubscribe_page_speaks_of_text_messages(member):
    message = make_message(channel=ConsentChannel.SMS)
    assert "text messages" in member.get(path(links.unsubscribe_url(message.pk))).content.decode()
    member.post(path(links.unsubscribe_url(message.pk)))
    message.customer.refresh_from_db()
    assert not message.customer.sms_opt_in and message.customer.email_opt_in


def test_the_unsubscribe_page_refuses_other_methods(message, member):
    assert member.put(path(links.unsubscribe_url(message.pk))).status_code == 405


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        links._token(links.OPEN, 1),  # a token for another purpose
        links._token(links.UNSUBSCRIBE, "1"),
        links._token(links.UNSUBSCRIBE, 10**30),
        links._token(links.UNSUBSCRIBE, True),
    ],
    # Named, not shown: a signed token holds the time it was made, and pytest-xdist's workers, collecting a
    # moment apart, must name every test alike.
    ids=["nonsense", "open-token", "string-id", "huge-id", "boolean-id"],
)
def test_a_forged_or_foreign_token_is_404_and_writes_nothing(message, member, token):
    before = snapshot()
    url = reverse("marketing:unsubscribe", args=[token])
    assert member.get(url).status_code == 404
    assert member.post(url).status_code == 404
    assert snapshot() == before


def test_the_open_pixel_is_a_gif_and_records_the_open(message, member):
    response = member.get(path(links.open_url(message.pk)))
    assert response.status_code == 200 and response["Content-Type"] == "image/gif" and response.content == PIXEL
    assert "no-store" in response["Cache-Control"]
    message.refresh_from_db()
    assert message.status == MessageStatus.OPENED and message.opened_at is not None


def test_a_head_request_on_the_pixel_records_nothing(message, member):
    before = snapshot()
    assert member.head(path(links.open_url(message.pk))).status_code == 200
    assert snapshot() == before
    assert Client().post(path(links.open_url(message.pk))).status_code == 405


def test_a_click_goes_to_the_signed_url_and_is_recorded(message, member):
    response = member.get(path(links.click_url(message.pk, "https://shop.example.com/spring?utm=crm")))
    assert response.status_code == 302 and response["Location"] == "https://shop.example.com/spring?utm=crm"
    message.refresh_from_db()
    assert message.status == MessageStatus.CLICKED and message.clicked_at and message.opened_at


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,hi", "//evil.example.com", "/relative", "https://", "ftp://x.y/"]
)
def test_a_click_never_goes_anywhere_but_http(message, member, url):
    before = snapshot()
    assert member.get(path(links.click_url(message.pk, url))).status_code == 404
    assert snapshot() == before


def test_a_click_token_cannot_be_pointed_elsewhere(message, member):
    token = path(links.click_url(message.pk, "https://shop.example.com/")).split("/")[-2]
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    before = snapshot()
    assert member.get(reverse("marketing:clicked", args=[tampered])).status_code == 404
    assert snapshot() == before


TRACKING_URLS = ["marketing:unsubscribe", "marketing:opened", "marketing:clicked"]


@given(token=hostile_text, name=st.sampled_from(TRACKING_URLS), method=st.sampled_from(["get", "post", "head"]))
def test_arbitrary_tokens_never_fail_or_write(token, name, method):
    with rolled_back():
        make_message()
        before = snapshot()
        url = reverse(name, args=["x"]).replace("/x/", "/" + quote(token, safe="") + "/")
        response = getattr(Client(), method)(url)
        assert response.status_code in (400, 404, 405)
        assert snapshot() == before


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | hostile_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@given(value=json_values, salt=st.sampled_from([links.UNSUBSCRIBE, links.OPEN, links.CLICK]))
def test_tokens_we_signed_over_odd_values_never_fail(value, salt):
    with rolled_back():
        before = snapshot()
        name = {links.UNSUBSCRIBE: "marketing:unsubscribe", links.OPEN: "marketing:opened"}.get(
            salt, "marketing:clicked"
        )
        response = Client().get(reverse(name, args=[links._token(salt, value)]))
        assert response.status_code in (302, 404)
        if response.status_code == 302:
            assert response["Location"] == value[1] and value[1].startswith(("http://", "https://"))
        assert snapshot() == before


def test_the_consent_note_is_in_the_sites_language_whatever_the_members(member):
    message = make_message(language="zh-hans", campaign=make_campaign(name="Spring sale"))
    member.post(path(links.unsubscribe_url(message.pk)), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert ConsentEvent.objects.get(customer=message.customer).note == "Unsubscribed from “Spring sale”"
