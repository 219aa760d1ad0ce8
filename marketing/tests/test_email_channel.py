"""The e-mail channel's message and links, built the faster way: each must be what Django would have built.

A campaign e-mail is built with a header registry that parses a repeated header value once, and its links
reverse their path once per name; both are checked against Django's own result for any text a member's
message can hold, and a header that Django refuses is still refused.
"""

import email.policy
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import clear_script_prefix, resolve, reverse, set_script_prefix
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from marketing import links
from marketing.channels.email import CampaignEmail

# What a member's name, a template's text and the signed links put in a message: any printable text, CJK
# included, long lines included (they change the transfer encoding), never a line break inside a header.
HEADER_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1)
BODY_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)))
ADDRESS = st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,20}@[a-z0-9-]{1,12}\.(com|cn|org)", fullmatch=True)
POLICIES = [email.policy.default, email.policy.SMTP]


def _pair(subject: str, body: str, html: str, to: str, unsubscribe: str) -> tuple[CampaignEmail, object]:
    headers = {
        "Date": "Mon, 30 Nov 2026 20:32:11 +0000",
        "Message-ID": "<crm-msg-7@crm.example.com>",
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    made = []
    for kind in (CampaignEmail, EmailMultiAlternatives):
        message = kind(subject=subject, body=body, to=[to], headers=headers)
        message.attach_alternative(html, "text/html")
        made.append(message)
    return made[0], made[1]


def _bytes(message: object, policy: email.policy.Policy) -> bytes:
    built = message.message(policy=policy)
    built.set_boundary("crm-test-boundary")  # Django draws a random one each time
    return built.as_bytes()


@examples(max_examples=60, deadline=None)
@given(
    subject=HEADER_TEXT,
    body=BODY_TEXT,
    html=BODY_TEXT,
    to=ADDRESS,
    unsubscribe=st.from_regex(r"https://crm\.example\.com/u/[A-Za-z0-9_:.-]{10,80}/", fullmatch=True),
    policy=st.sampled_from(POLICIES),
)
def test_a_campaign_email_is_byte_for_byte_the_message_django_builds(subject, body, html, to, unsubscribe, policy):
    ours, django = _pair(subject, body, html, to, unsubscribe)
    assert _bytes(ours, policy) == _bytes(django, policy)
    # Twice: the second message reuses the parsed headers of the first.
    ours, django = _pair(subject, body, html, to, unsubscribe)
    assert _bytes(ours, policy) == _bytes(django, policy)


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize(
    "header, value", [("Subject", "Sale\r\nBcc: everyone@example.com"), ("List-Unsubscribe", "<https://x/>\nX: y")]
)
def test_a_header_with_a_line_break_is_refused_even_after_a_good_one(policy, header, value):
    good, _django = _pair("Sale", "text", "<p>html</p>", "a@example.com", "https://crm.example.com/u/t/")
    good.message(policy=policy)
    bad = CampaignEmail(subject="Sale", body="text", to=["a@example.com"], headers={"List-Unsubscribe": "<https://x/>"})
    if header == "Subject":
        bad.subject = value
    else:
        bad.extra_headers[header] = value
    with pytest.raises(ValueError):
        bad.message(policy=policy)


def _token_of(url: str) -> tuple[str, str]:
    """The view a link leads to and the token in it."""
    match = resolve(urlsplit(url).path)
    return match.view_name, match.kwargs["token"]


@given(
    message_id=st.integers(1, 2**62), target=st.from_regex(r"https://shop\.example\.com/[ -~]{0,60}", fullmatch=True)
)
def test_each_link_leads_to_its_view_and_carries_the_message(message_id, target):
    for url, name, salt, value in (
        (links.unsubscribe_url(message_id), "marketing:unsubscribe", links.UNSUBSCRIBE, message_id),
        (links.open_url(message_id), "marketing:opened", links.OPEN, message_id),
        (links.click_url(message_id, target), "marketing:clicked", links.CLICK, [message_id, target]),
    ):
        view, token = _token_of(url)
        assert view == name
        assert links.read(token, salt=salt) == value
        assert url == settings.CRM_BASE_URL.rstrip("/") + reverse(name, args=[token])


def test_links_follow_the_base_url_and_the_script_prefix(settings):  # noqa: F811 -- pytest-django's fixture
    settings.CRM_BASE_URL = "https://members.example.cn/"
    assert links.open_url(5).startswith("https://members.example.cn/marketing/o/")
    set_script_prefix("/crm/")
    try:
        url = links.unsubscribe_url(5)
    finally:
        clear_script_prefix()
    assert url.startswith("https://members.example.cn/crm/marketing/u/")
    assert links.unsubscribe_url(5).startswith("https://members.example.cn/marketing/u/")
