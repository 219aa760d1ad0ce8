"""An automation's message page: channel, coupon, control group and text per language, checked before saving."""

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketing.models import Automation, AutomationKind, CouponOffer, MessageTemplate
from tests.hostile import hostile_number, hostile_text, rolled_back, table_counts

pytestmark = pytest.mark.django_db


def _url(kind: str = AutomationKind.BIRTHDAY) -> str:
    return reverse("marketing:automation_message", args=[Automation.objects.get(kind=kind).pk])


def _data(**changes) -> dict:
    data = {
        "channel": "email",
        "offer": "",
        "control_percent": "10",
        "attribution_days": "7",
        "subject_en": "Happy birthday, {{ name }}!",
        "body_en": "Happy birthday, {{ name }}! {{ coupon_code }}",
        "html_en": "",
        "subject_zh-hans": "{{ name }}，生日快乐！",
        "body_zh-hans": "{{ name }}，生日快乐！",
        "html_zh-hans": "",
    }
    return data | changes


def _templates(kind: str = AutomationKind.BIRTHDAY) -> dict[str, MessageTemplate]:
    campaign = Automation.objects.get(kind=kind).campaign
    return {t.language: t for t in MessageTemplate.objects.filter(variant__campaign=campaign)}


def test_a_marketer_sees_the_message_in_both_languages_and_the_variables(marketing_client):
    page = marketing_client.get(_url(AutomationKind.POINTS_EXPIRY)).content.decode()
    assert "{{ points_expiring }} of your points lapse soon" in page and "积分将于" in page
    assert "points_expiring_on" in page and "survey_links" in page


def test_a_marketer_sends_the_birthday_greeting_by_sms_with_a_coupon_and_new_words(marketing_client):
    offer = CouponOffer.objects.create(name="Birthday 30", value=30)
    data = _data(channel="sms", offer=str(offer.pk), control_percent="20", body_en="Hi {{ name }}: {{ coupon_code }}")
    response = marketing_client.post(_url(), data)
    assert response.status_code == 302 and response.url == reverse("marketing:automation_list")
    campaign = Automation.objects.get(kind=AutomationKind.BIRTHDAY).campaign
    assert (campaign.channel, campaign.offer, campaign.control_percent) == ("sms", offer, 20)
    assert _templates()["en"].body == "Hi {{ name }}: {{ coupon_code }}"


def test_a_template_error_is_shown_with_its_line_and_nothing_is_saved(marketing_client):
    before = {language: t.body for language, t in _templates().items()}
    response = marketing_client.post(_url(), _data(body_en="Hello\n{{ birthday_of_someone }}", channel="sms"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Line 2" in page and "birthday_of_someone" in page
    assert {language: t.body for language, t in _templates().items()} == before
    assert Automation.objects.get(kind=AutomationKind.BIRTHDAY).campaign.channel == "email"


def test_a_language_left_empty_is_removed_and_members_get_the_other(marketing_client):
    marketing_client.post(_url(), _data(**{"subject_zh-hans": "", "body_zh-hans": ""}))
    assert set(_templates()) == {"en"}


def test_a_message_with_no_text_at_all_is_refused(marketing_client):
    response = marketing_client.post(_url(), _data(body_en="", **{"body_zh-hans": ""}))
    assert response.status_code == 400 and "Write the message in one language at least." in response.content.decode()
    assert set(_templates()) == {"en", "zh-hans"}


def test_managers_and_others_cannot_edit(manager_client, service_client):
    for client in (manager_client, service_client):
        assert client.get(_url()).status_code == 403
        assert client.post(_url(), _data(body_en="changed")).status_code == 403
    assert _templates()["en"].body != "changed"


def test_the_automations_page_links_to_the_message(marketing_client):
    assert _url(AutomationKind.SURVEY) in marketing_client.get(reverse("marketing:automation_list")).content.decode()


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    channel=st.one_of(st.sampled_from(["email", "sms"]), hostile_text),
    offer=hostile_number,
    control=hostile_number,
    days=hostile_number,
    subject=hostile_text,
    body=hostile_text,
)
def test_any_input_is_saved_or_refused_never_a_500(marketing_client, channel, offer, control, days, subject, body):
    data = _data(channel=channel, offer=offer, control_percent=control, attribution_days=days)
    data |= {"subject_en": subject, "body_en": body}
    with rolled_back():
        before = table_counts()
        bodies = {language: t.body for language, t in _templates().items()}
        response = marketing_client.post(_url(), data)
        assert response.status_code in (302, 400)
        if response.status_code == 400:
            assert table_counts() == before
            assert {language: t.body for language, t in _templates().items()} == bodies
