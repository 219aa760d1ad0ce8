"""What a review of the engine found: a stalled worker's late writes, a template that fails only at render, a
provider's refusal through anymail, an SMS gateway that times out, and automations that are switched off."""

import datetime
import zoneinfo

import pytest
import time_machine
from anymail.exceptions import AnymailRecipientsRefused
from django.core.exceptions import ValidationError

from customers.tests.factories import CustomerFactory
from marketing import templating
from marketing.channels import Outgoing, SendFailed
from marketing.channels.email import EmailChannel
from marketing.models import Automation, AutomationKind, CampaignStatus, Message, MessageStatus, SkipReason
from marketing.services import automations
from marketing.services.automation_messages import Text, automation_message_update
from marketing.services.sending import batch, campaign_pause, campaign_start, records
from marketing.tests import sending_fixtures
from marketing.tests.sending_fixtures import make_campaign, send_all

fast_sending = sending_fixtures.fast_sending
smtp = sending_fixtures.smtp
pytestmark = pytest.mark.django_db
DAYTIME = datetime.datetime(2027, 3, 1, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))


def members(count: int) -> list:
    return [CustomerFactory(email_opt_in=True, sms_opt_in=True) for _ in range(count)]


def test_a_stalled_workers_late_writes_leave_the_next_workers_claim_alone(fast_sending):
    campaign = make_campaign(members(3))
    campaign_start(campaign=campaign, actor=None)
    stalled = batch._claim(campaign, 3)
    ids = [row.id for row in stalled]
    # Its lease passes: the sweep queues the rows again (none was handed over), and another worker claims them.
    Message.objects.filter(pk__in=ids).update(status=MessageStatus.QUEUED, lease_until=None)
    fresh = batch._claim(campaign, 3)
    assert sorted(row.id for row in fresh) == sorted(ids)

    # The stalled worker wakes up: every write it makes names its own claim, and matches nothing.
    assert records.mark_handed(ids, lease=stalled[0].lease) == set()
    records.record([records.Answer(pk, MessageStatus.SENT, provider_id="late") for pk in ids], lease=stalled[0].lease)
    assert records.release(ids, lease=stalled[0].lease) == 0
    records.skip(ids, SkipReason.FREQUENCY_CAP, lease=stalled[0].lease)
    late = [records.Answer(ids[0], MessageStatus.SENT, provider_id="late")]
    assert records.record_and_mark(late, ids[1:], lease=stalled[0].lease) == set()

    rows = Message.objects.filter(pk__in=ids)
    assert {(row.status, row.lease_until, row.provider_id) for row in rows} == {
        (MessageStatus.SENDING, fresh[0].lease, "")
    }


def test_a_groups_answers_and_the_next_groups_mark_are_written_together(fast_sending):
    campaign = make_campaign(members(4))
    campaign_start(campaign=campaign, actor=None)
    claim = batch._claim(campaign, 4)
    lease, ids = claim[0].lease, [row.id for row in claim]
    assert records.mark_handed(ids[:2], lease=lease) == set(ids[:2])
    answers = [
        records.Answer(ids[0], MessageStatus.SENT, provider_id="<a@x>", address="a@example.com"),
        records.Answer(ids[1], MessageStatus.FAILED, error="550 no such user"),
    ]
    assert records.record_and_mark(answers, ids[2:], lease=lease) == set(ids[2:])
    assert answers == []  # recorded
    rows = {row.pk: row for row in Message.objects.filter(pk__in=ids)}
    assert (rows[ids[0]].status, rows[ids[0]].provider_id) == (MessageStatus.SENT, "<a@x>")
    assert (rows[ids[1]].status, rows[ids[1]].error) == (MessageStatus.FAILED, "550 no such user")
    assert all(rows[pk].status == MessageStatus.SENDING and rows[pk].handed_at for pk in ids[2:])


def test_a_template_that_compiles_but_cannot_render_is_refused_when_saved():
    with pytest.raises(templating.TemplateError):
        templating.check("{% for p in points %}{{ p }}{% endfor %}")  # points is a number
    with pytest.raises(templating.TemplateError):
        templating.check("{{ points|first }}")


def test_a_members_values_that_break_a_template_fail_that_message_not_the_batch(fast_sending, smtp):
    campaign = make_campaign(members(3))
    campaign_start(campaign=campaign, actor=None)
    # Written past the editor's check (which now refuses it): a filter that fails on a member's value.
    campaign.variants.get().templates.update(body="{{ points|first }}")
    send_all(campaign)
    statuses = set(Message.objects.filter(campaign=campaign).values_list("status", flat=True))
    assert statuses == {MessageStatus.FAILED}  # recorded with the reason, not left queued for ever
    assert Message.objects.filter(campaign=campaign, error__contains="cannot be written").count() == 3


def test_a_provider_refusing_one_recipient_fails_that_message_and_the_batch_goes_on(monkeypatch):
    class Refusing:
        def open(self):
            pass

        def close(self):
            pass

        def send_messages(self, messages):
            if messages[0].to == ["blocked@example.com"]:
                raise AnymailRecipientsRefused("suppressed")
            return 1

    monkeypatch.setattr("marketing.channels.email.get_connection", lambda **kwargs: Refusing())
    batch_ = [
        Outgoing(message_id=n, key=f"<k{n}>", to=to, subject="s", body="b")
        for n, to in enumerate(["a@example.com", "blocked@example.com", "c@example.com"], start=1)
    ]
    answers = [answer for _out, answer in EmailChannel().send(batch_)]
    assert [isinstance(answer, SendFailed) for answer in answers] == [False, True, False]


def test_an_sms_gateway_that_times_out_makes_the_row_unknown_and_puts_the_rest_back(fast_sending, monkeypatch):
    from marketing.channels import sms

    class Slow:
        def send(self, outgoing):
            raise SendFailed("gateway unreachable: timed out", permanent=False)

    monkeypatch.setattr(sms, "backend", lambda: Slow())
    campaign = make_campaign(members(4), channel="sms")
    with time_machine.travel(DAYTIME, tick=False):  # outside SMS quiet hours
        campaign_start(campaign=campaign, actor=None)
        with pytest.raises(batch.ChannelUnavailable):
            batch.messages_send_batch(campaign_id=campaign.pk)
    counts = {
        status: Message.objects.filter(campaign=campaign, status=status).count()
        for status in (MessageStatus.UNKNOWN, MessageStatus.QUEUED, MessageStatus.FAILED)
    }
    assert counts == {MessageStatus.UNKNOWN: 1, MessageStatus.QUEUED: 3, MessageStatus.FAILED: 0}


def test_switching_an_automation_off_skips_what_it_had_queued():
    automation = Automation.objects.get(kind=AutomationKind.WELCOME)
    automations.automation_update(automation=automation, enabled=True)
    member = CustomerFactory()
    Message.objects.create(campaign=automation.campaign, customer=member, occasion="welcome")
    automations.automation_update(automation=automation, enabled=False)
    row = Message.objects.get(campaign=automation.campaign)
    assert (row.status, row.skip_reason) == (MessageStatus.SKIPPED, SkipReason.CANCELLED)


def test_an_automation_paused_by_failures_is_resumed_by_switching_it_on():
    automation = Automation.objects.get(kind=AutomationKind.WELCOME)
    automations.automation_update(automation=automation, enabled=True)
    campaign_pause(campaign=automation.campaign, actor=None, reason="3 of the last 10 messages failed")
    automation.campaign.refresh_from_db()
    assert automation.campaign.status == CampaignStatus.PAUSED
    automations.automation_update(automation=automation, enabled=True)
    automation.campaign.refresh_from_db()
    assert automation.campaign.status == CampaignStatus.SENDING and automation.campaign.status_reason == ""


def test_an_automations_channel_and_control_group_stay_once_messages_went_out():
    automation = Automation.objects.get(kind=AutomationKind.BIRTHDAY)
    campaign = automation.campaign
    Message.objects.create(campaign=campaign, customer=CustomerFactory(), occasion="birthday:2027")
    texts = [Text(language="zh-hans", subject="生日快乐", body="{{ name }}，生日快乐！", html="")]
    other = "sms" if campaign.channel == "email" else "email"
    with pytest.raises(ValidationError) as refused:
        automation_message_update(
            automation=automation,
            channel=other,
            offer=None,
            control_percent=campaign.control_percent,
            attribution_days=7,
            texts=texts,
        )
    assert "channel" in refused.value.message_dict
    campaign.refresh_from_db()
    assert campaign.channel != other


def test_a_birthday_greeting_at_most_364_days_ahead():
    automation = Automation.objects.get(kind=AutomationKind.BIRTHDAY)
    with pytest.raises(ValidationError):
        automations.automation_update(automation=automation, enabled=True, days=365)
    automation.refresh_from_db()
    assert automation.enabled is False
