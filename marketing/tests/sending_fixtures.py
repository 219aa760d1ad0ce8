"""Shared by the sending tests: a real SMTP server on loopback (aiosmtpd), campaigns to a list of members,
and running a campaign's batches to the end as workers would."""

import asyncio
import email
import email.policy
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller

from marketing import channels
from marketing.channels import Outgoing
from marketing.models import (
    Campaign,
    CampaignVariant,
    Message,
    MessageStatus,
    MessageTemplate,
    Segment,
    SegmentKind,
    SegmentMember,
)
from marketing.services.sending import ChannelUnavailable, messages_send_batch

BODY = "Hello {{ name }}, your code is {{ coupon_code }}."
HTML = '<html><body><p>Hello {{ name }}</p><a href="https://shop.example.com/sale?x=1&amp;y=2">Sale</a></body></html>'
FINAL = {
    MessageStatus.HELD_OUT,
    MessageStatus.SKIPPED,
    MessageStatus.SENT,
    MessageStatus.FAILED,
    MessageStatus.UNKNOWN,
}


@dataclass
class Mailbox:
    """What the SMTP server received, and how it should misbehave."""

    received: list = field(default_factory=list)  # (recipients, parsed message)
    refuse: set = field(default_factory=set)  # recipients answered 550
    drop_after: set = field(default_factory=set)  # recipients whose message is kept, then the line is cut
    delay: float = 0.0
    on_delivery: object = None  # called with the number of deliveries so far, from the server's thread
    lock: threading.Lock = field(default_factory=threading.Lock)

    def deliveries(self) -> Counter:
        with self.lock:
            return Counter(address for recipients, _message in self.received for address in recipients)

    def to(self, address: str) -> email.message.EmailMessage:
        with self.lock:
            return next(message for recipients, message in self.received if address in recipients)


class _Handler:
    def __init__(self, box: Mailbox):
        self.box = box

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201
        if address in self.box.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201
        if self.box.delay:
            await asyncio.sleep(self.box.delay)
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.box.lock:
            self.box.received.append((list(envelope.rcpt_tos), message))
            count = len(self.box.received)
        if self.box.on_delivery:
            await asyncio.to_thread(self.box.on_delivery, count)
        if set(envelope.rcpt_tos) & self.box.drop_after:
            server.transport.close()  # delivered, but the sender never hears so: the crash window
            return "250 OK"
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound but never listening, and held, so that no server (the
    other pytest-xdist worker's SMTP server) can start listening there while the test counts on nothing doing so."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def start_smtp_server(handler: _Handler, *, attempts: int = 5) -> Controller:
    """aiosmtpd on a free loopback port. A port free when asked for can be taken before the server binds it (by
    the other pytest-xdist worker's servers, any outgoing connection): the server then fails to start, so another."""
    for attempt in range(1, attempts + 1):
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        try:
            controller.start()
            return controller
        except OSError:
            if attempt == attempts:
                raise


@pytest.fixture
def smtp(settings):
    box = Mailbox()
    controller = start_smtp_server(_Handler(box))
    port = controller.port
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    box.port = port
    yield box
    controller.stop()


@pytest.fixture
def fast_sending(settings):
    settings.CRM_SEND_RATE = 0
    settings.CRM_SEND_BATCH = 5
    settings.CRM_SEND_LANES = 2
    settings.CRM_FREQUENCY_CAP = 3
    settings.CRM_AUTOPAUSE_WINDOW = 100
    settings.CRM_AUTOPAUSE_FAILURES = 50


class SmsTestChannel:
    """A test-only SMS channel (the real one is the tracking work's): records what it was handed."""

    key = "sms"
    consent_field = "sms_opt_in"
    address_field = "mobile"

    def __init__(self):
        self.sent: list[Outgoing] = []

    def send(self, batch):  # noqa: ANN001, ANN201
        for out in batch:
            self.sent.append(out)
            yield out, f"sms-{out.message_id}"


@pytest.fixture
def sms_channel():
    before = channels.registered().get("sms")
    channel = SmsTestChannel()
    channels.register(channel)
    yield channel
    if before is not None:
        channels.register(before)
    else:
        channels._channels.pop("sms", None)


def make_campaign(members, *, variants: int = 1, **fields) -> Campaign:
    number = Campaign.objects.count() + 1
    segment = Segment.objects.create(name=f"list {number}", kind=SegmentKind.STATIC)
    SegmentMember.objects.bulk_create([SegmentMember(segment=segment, customer=member) for member in members])
    campaign = Campaign.objects.create(
        segment=segment, **({"name": f"campaign {number}", "control_percent": 0} | fields)
    )
    for label in "ABCD"[:variants]:
        variant = CampaignVariant.objects.create(campaign=campaign, label=label)
        MessageTemplate.objects.create(
            variant=variant, language="en", subject=f"{label}: news for {{{{ name }}}}", body=BODY, html=HTML
        )
    return campaign


def send_all(campaign: Campaign, *, limit: int | None = None) -> int:
    """Run the campaign's batches as a worker would until none is left; how many batches ran."""
    batches = 0
    while True:
        result = messages_send_batch(campaign_id=campaign.pk, limit=limit)
        if result is None:
            return batches
        batches += 1
        if not result.more:
            return batches


def send_all_through_errors(campaign: Campaign) -> int:
    """As send_all, a channel error being retried (as the task's policy does)."""
    errors = 0
    while True:
        try:
            send_all(campaign)
            return errors
        except ChannelUnavailable:
            errors += 1
            assert errors < 20


def rows(campaign: Campaign) -> dict[int, Message]:
    return {row.customer_id: row for row in Message.objects.filter(campaign=campaign)}
