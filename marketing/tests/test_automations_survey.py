"""The satisfaction survey's score links: signed, the page records only on the member's press, and a low score
reaches the reminder rule like a score staff typed."""

from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.tests.factories import CustomerFactory, UserFactory
from interactions.models import (
    Interaction,
    InteractionSource,
    Reminder,
    ReminderRuleKind,
)
from interactions.services.followups import reminder_rules_apply
from interactions.tests.factories import InteractionFactory, ReminderRuleFactory, TransactionFactory
from marketing import links, surveys
from marketing.models import Automation, AutomationKind, Message, MessageStatus, SkipReason
from tests.hostile import hostile_text, rolled_back, table_counts

pytestmark = pytest.mark.django_db


def _sent(customer, occasion: str, status: MessageStatus = MessageStatus.SENT) -> Message:
    automation = Automation.objects.get(kind=AutomationKind.SURVEY)
    reason = SkipReason.NO_CONSENT if status == MessageStatus.SKIPPED else ""
    return Message.objects.create(
        campaign=automation.campaign, customer=customer, occasion=occasion, status=status, skip_reason=reason
    )


def _url(customer, occasion: str, score: int) -> str:
    return reverse("marketing:survey", args=[surveys.token(customer_id=customer.pk, occasion=occasion, score=score)])


@given(
    customer_id=st.integers(min_value=1, max_value=2**62),
    subject=st.sampled_from([surveys.Subject.PURCHASE, surveys.Subject.CONTACT]),
    object_id=st.integers(min_value=1, max_value=2**62),
    score=st.integers(min_value=1, max_value=5),
)
def test_a_token_reads_back_what_it_was_made_with(customer_id, subject, object_id, score):
    occasion = surveys.occasion_key(subject, object_id)
    read = surveys.read(surveys.token(customer_id=customer_id, occasion=occasion, score=score))
    assert read == surveys.Score(customer_id=customer_id, subject=subject, object_id=object_id, score=score)
    assert read.occasion == occasion


@given(
    customer_id=st.integers(min_value=1, max_value=2**40),
    object_id=st.integers(min_value=1, max_value=2**40),
    score=st.integers(min_value=1, max_value=5),
    position=st.integers(min_value=0, max_value=200),
    char=st.characters(codec="ascii", categories=["L", "N"]),
)
def test_a_changed_token_is_refused(customer_id, object_id, score, position, char):
    token = surveys.token(customer_id=customer_id, occasion=f"survey:purchase:{object_id}", score=score)
    at = position % len(token)
    changed = token[:at] + char + token[at + 1 :]
    if changed != token:
        assert surveys.read(changed) is None


def test_tokens_of_other_purposes_and_scores_out_of_range_are_refused():
    assert surveys.read(links._token(links.UNSUBSCRIBE, [1, "survey:purchase:1", 3])) is None
    assert surveys.read(links._token(surveys.SALT, [1, "survey:purchase:1", 6])) is None
    assert surveys.read(links._token(surveys.SALT, [1, "birthday:2027", 3])) is None
    assert surveys.read(links._token(surveys.SALT, 17)) is None


def test_opening_a_link_records_nothing_and_pressing_the_score_records_it_on_the_contact():
    member = CustomerFactory()
    call = InteractionFactory(customer=member)
    occasion = surveys.occasion_key(surveys.Subject.CONTACT, call.pk)
    _sent(member, occasion)
    page = Client().get(_url(member, occasion, 4))
    assert page.status_code == 200 and "How did we do?" in page.content.decode()
    call.refresh_from_db()
    assert call.satisfaction is None
    answer = Client().post(_url(member, occasion, 4))
    assert answer.status_code == 200 and "Your score of 4 out of 5 is recorded." in answer.content.decode()
    call.refresh_from_db()
    assert call.satisfaction == 4


def test_a_purchase_score_is_one_contact_record_and_a_second_answer_replaces_the_first():
    member = CustomerFactory()
    purchase = TransactionFactory(customer=member)
    occasion = surveys.occasion_key(surveys.Subject.PURCHASE, purchase.pk)
    _sent(member, occasion)
    Client().post(_url(member, occasion, 2))
    Client().post(_url(member, occasion, 5))
    record = Interaction.objects.get(customer=member)
    assert record.source == InteractionSource.SURVEY and record.satisfaction == 5 and record.channel == "email"
    assert f"#{purchase.pk}" in record.subject


def test_the_page_speaks_the_members_language():
    member = CustomerFactory(language="zh-hans")
    call = InteractionFactory(customer=member)
    occasion = surveys.occasion_key(surveys.Subject.CONTACT, call.pk)
    _sent(member, occasion)
    response = Client().get(_url(member, occasion, 3))
    assert response.status_code == 200 and 'lang="zh-hans"' in response.content.decode()


def test_a_low_score_feeds_the_unhappy_customer_reminder_rule():
    owner = UserFactory(username="owner", role="Service")
    member = CustomerFactory(owner=owner)
    purchase = TransactionFactory(customer=member)
    occasion = surveys.occasion_key(surveys.Subject.PURCHASE, purchase.pk)
    _sent(member, occasion)
    rule = ReminderRuleFactory(kind=ReminderRuleKind.LOW_SATISFACTION, max_score=2, days=7)
    Client().post(_url(member, occasion, 1))
    reminder_rules_apply()
    reminder = Reminder.objects.get(rule=rule)
    assert reminder.customer == member and reminder.assignee == owner


@pytest.mark.parametrize("status", [None, MessageStatus.HELD_OUT, MessageStatus.SKIPPED])
def test_a_link_for_a_survey_never_sent_records_nothing(status):
    member = CustomerFactory()
    call = InteractionFactory(customer=member)
    occasion = surveys.occasion_key(surveys.Subject.CONTACT, call.pk)
    if status is not None:
        _sent(member, occasion, status=status)
    assert Client().get(_url(member, occasion, 1)).status_code == 404
    assert Client().post(_url(member, occasion, 1)).status_code == 404
    call.refresh_from_db()
    assert call.satisfaction is None


def test_a_signed_link_naming_another_members_purchase_records_nothing():
    member, other = CustomerFactory(), CustomerFactory()
    purchase = TransactionFactory(customer=other)
    occasion = surveys.occasion_key(surveys.Subject.PURCHASE, purchase.pk)
    _sent(member, occasion)
    before = table_counts()
    assert Client().post(_url(member, occasion, 1)).status_code == 404
    assert table_counts() == before


def test_wrong_method_is_405():
    member = CustomerFactory()
    call = InteractionFactory(customer=member)
    occasion = surveys.occasion_key(surveys.Subject.CONTACT, call.pk)
    _sent(member, occasion)
    assert Client().put(_url(member, occasion, 1)).status_code == 405


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=hostile_text, method=st.sampled_from(["get", "post"]))
def test_any_token_is_a_page_or_a_404_never_a_500_and_nothing_changes(client, token, method):
    with rolled_back():
        before = table_counts()
        response = getattr(client, method)(f"/marketing/s/{quote(token, safe='')}/")
        assert response.status_code in (400, 404)
        assert table_counts() == before
