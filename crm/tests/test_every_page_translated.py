"""Every page in English and in Chinese: a message id looked up while a page renders in Chinese must have a
translation in the zh_Hans catalog (or Django's own), or the page shows English to a Chinese shop.

The pages come from tests/test_access.py's walk of the URL conf (and its admin list), so a new page is
covered the moment it is listed there. English needs no catalog entry (the source is English).
"""

import datetime
import io
from collections import defaultdict
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.apps import apps
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import trans_real

from crm.models import Job
from crm.notifications import notification_create
from crm.roles import Role
from crm.tasks import import_task
from customers.models import ConsentChannel, ConsentMethod
from customers.services import consent_set
from customers.services.membership import points_adjust, points_earn, points_expire_due, points_redeem
from customers.services.merge import customer_merge
from customers.tests.factories import (
    GOOD_AND_BAD,
    CategoryFactory,
    CustomerFactory,
    TagFactory,
    TierFactory,
    UserFactory,
)
from interactions.models import Channel, InteractionChannel, Outcome, ReminderStatus, UnmatchedMention
from interactions.services import interaction_log, transaction_record, transaction_refund
from interactions.services.purchases import LineInput
from interactions.tests.factories import ProductFactory, ReminderFactory, ReminderRuleFactory
from marketing.models import Automation, AutomationKind
from tests.logins import force_login
from tests.test_access import MATRIX, MG, ROLES, admin_pages, expected, page_urls

pytestmark = pytest.mark.django_db
CHINESE = "zh-hans"
REFUSED = ("403", "404", "405", "login")
# Not message ids: {% get_available_languages %} passes each language's own name through gettext.
NOT_MESSAGE_IDS = {name for _code, name in settings.LANGUAGES}


@contextmanager
def chinese_misses():
    """Record each message id looked up in Chinese that neither catalog translates (context shown as 'ctx|id')."""
    chinese = trans_real.translation(CHINESE)
    gettext, ngettext = chinese.gettext, chinese.ngettext
    misses: set[str] = set()

    def recording_gettext(message):
        if message not in NOT_MESSAGE_IDS and message not in chinese._catalog and (message, 0) not in chinese._catalog:
            misses.add(message.replace(trans_real.CONTEXT_SEPARATOR, "|"))
        return gettext(message)

    def recording_ngettext(singular, plural, number):
        if (singular, 0) not in chinese._catalog:
            misses.add(singular.replace(trans_real.CONTEXT_SEPARATOR, "|"))
        return ngettext(singular, plural, number)

    chinese.gettext, chinese.ngettext = recording_gettext, recording_ngettext
    try:
        yield misses
    finally:
        del chinese.gettext, chinese.ngettext


@pytest.fixture
def world(settings, tmp_path, django_capture_on_commit_callbacks):
    """A small shop as the demo shows it: tiers, a member with purchases, a refund, points of every kind,
    contacts, follow-ups due today and overdue, consent history, a merge, duplicates, a mention, an import job."""
    settings.MEDIA_ROOT = tmp_path
    manager = UserFactory(username="manager", role=Role.MANAGER)
    seller = UserFactory(username="seller", role=Role.SALES)
    TierFactory(name="普通", rank=0, min_spend=0)
    silver = TierFactory(name="银卡", rank=1, min_spend=Decimal("2000"))
    TierFactory(name="金卡", rank=2, min_spend=Decimal("8000"))
    category = CategoryFactory(name="美妆护肤")
    product = ProductFactory(sku="SKU-LIP", name="口红", category=category, price=Decimal("299.00"))
    member = CustomerFactory(
        name="林晓雨",
        owner=seller,
        tier=silver,
        legacy_number="OLD-9",
        tags=[TagFactory(name="VIP")],
        notes="偏好晚上联系",
    )
    member.preferred_categories.set([category])
    consent_set(customer=member, channel=ConsentChannel.SMS, granted=True, method=ConsentMethod.PAPER, actor=manager)
    consent_set(customer=member, channel=ConsentChannel.EMAIL, granted=True, method=ConsentMethod.FORM, actor=manager)
    consent_set(customer=member, channel=ConsentChannel.EMAIL, granted=False, method=ConsentMethod.UNSUBSCRIBE)
    long_ago = timezone.localdate() - datetime.timedelta(days=800)
    points_earn(customer=member, points=50, reason="开卡礼", earned_on=long_ago)
    points_expire_due()
    purchases = [
        transaction_record(
            customer=member,
            amount=Decimal(amount),
            channel=Channel.STORE,
            store="西湖店",
            lines=[LineInput(product=product, quantity=quantity)],
            actor=seller,
        )
        for amount, quantity in [("598.00", 2), ("299.00", 1), ("8970.00", 30)]  # the last is flagged
    ]
    transaction_refund(transaction=purchases[1], amount=Decimal("100.00"), reason="尺码不合", actor=manager)
    points_redeem(customer=member, points=20, reason="兑换保温杯", actor=manager)
    points_adjust(customer=member, points=-10, reason="补录错误", actor=manager)
    interaction_log(
        customer=member,
        channel=InteractionChannel.PHONE,
        subject="询问新品到货",
        outcome=Outcome.FOLLOW_UP,
        satisfaction=2,
        staff=manager,
        follow_up_on=timezone.localdate() + datetime.timedelta(days=3),
    )
    interaction_log(customer=member, channel=InteractionChannel.VISIT, subject="到店试色", staff=seller)
    ReminderFactory(customer=member, assignee=manager, text="回访口红色号", due_at=timezone.now())
    overdue = timezone.now() - datetime.timedelta(days=2)
    ReminderFactory(customer=member, assignee=manager, text="确认生日礼", due_at=overdue)
    ReminderFactory(customer=member, assignee=manager, text="已延后的回访", status=ReminderStatus.SNOOZED)
    ReminderRuleFactory(name="90 天未联系")
    notification_create(user=manager, text="回访 林晓雨：今天 10:00", link=member.get_absolute_url())
    twin = CustomerFactory(name="王小明", birthday=datetime.date(1990, 5, 1), owner=seller)
    double = CustomerFactory(name="王小明", birthday=datetime.date(1990, 5, 1), city="南京市")
    customer_merge(survivor=member, other=CustomerFactory(name="林晓雨", mobile=""), actor=manager)
    mention = UnmatchedMention.objects.create(platform="weibo", handle="xiaoyu", author_name="晓雨", text="等了好久")
    job = _import_job(manager, django_capture_on_commit_callbacks)
    from marketing.models import CouponOffer
    from marketing.services.coupons import coupon_issue
    from marketing.services.segments import segment_save

    rules = {
        "op": "and",
        "rules": [
            {"field": "points_balance", "operator": "gt", "value": 10},
            {"op": "or", "rules": [{"field": "top_spenders", "operator": "eq", "value": True}]},
        ],
    }
    segment = segment_save(name="高积分会员", rules=rules, actor=manager)
    offer = CouponOffer.objects.create(name="满 199 减 20", value=20, min_spend=199, valid_days=30)
    coupon_issue(offer=offer, customer=member, actor=manager)
    from marketing.models import Campaign, CampaignStatus, Message, MessageStatus

    started = timezone.now() - datetime.timedelta(days=1)
    everyone = segment_save(name="全部会员", rules={"op": "and", "rules": []}, actor=manager)  # not the deleted one
    campaign = Campaign.objects.create(
        name="春季上新", segment=everyone, status=CampaignStatus.SENT, started_at=started
    )
    Message.objects.create(campaign=campaign, customer=member, status=MessageStatus.SENT, sent_at=timezone.now())
    Message.objects.create(campaign=campaign, customer=twin, status=MessageStatus.HELD_OUT)
    from analytics.services import scoring

    run = scoring.scoring_run_start(actor=manager, queue=False)  # scored in this process: the run page and cards
    scoring.scoring_fit(run_id=run.pk, queue=False)
    for chunk in run.chunks.all():
        scoring.scoring_chunk(chunk_id=chunk.pk)
    return {
        "users": {MG: manager},
        "objects": {
            "number": member.crm_number,
            "transaction_id": purchases[0].pk,
            "reminder_id": member.reminders.filter(assignee=manager).first().pk,
            "mention_id": mention.pk,
            "job_id": job.pk,
            "segment_id": segment.pk,
            "offer_id": offer.pk,
            "campaign_id": campaign.pk,
            "table": "lift",
            "automation_id": Automation.objects.get(kind=AutomationKind.BIRTHDAY).pk,
            "kind": "customers",
            "run_id": run.pk,
            "key": "kpi_sales",
        },
        "query": {
            "customers:merge": {"a": twin.crm_number, "b": double.crm_number},
            "customers:lookup": {"q": "王小明"},
            "customers:list": {"sort": "-points_balance", "tier": silver.pk},
        },
    }


def _import_job(user, capture) -> Job:
    from django.test import Client

    client = force_login(Client(), user)
    upload = io.BytesIO(GOOD_AND_BAD.encode())
    upload.name = "members.csv"
    mapping = client.post(reverse("import"), {"file": upload, "importer": "customers"}).url
    columns = ["name", "mobile", "email", "birthday", "tier", "legacy_number", "sms_opt_in"]
    with capture():
        client.post(mapping, {f"col_{i}": field for i, field in enumerate(columns)})
    job = Job.objects.get(created_by=user)
    with translation.override(CHINESE):
        import_task(job.pk)
    return job


def _pages(world, client_for) -> list[tuple[str, str, object, str, dict]]:
    """(name, method, client, url, data) for every walked page, as a Manager or else the role that sees it.
    An upload waiting for its mapping is made first, since its URL holds a token from the session."""
    objects = dict(world["objects"])
    manager = client_for(MG)
    upload = io.BytesIO(GOOD_AND_BAD.encode())
    upload.name = "members.csv"
    objects["token"] = manager.post(reverse("import"), {"file": upload, "importer": "customers"}).url.split("/")[-2]
    pages = []
    walked = sorted(((name, method) for name in page_urls() for method in MATRIX[name]), key=lambda p: p[1] == "post")
    for name, method in walked:
        statuses = expected(name, method)
        role = next((r for r in (MG, *ROLES[:5]) if statuses[r] not in REFUSED), None)
        if role is None:
            continue
        missing = set(page_urls()[name]) - objects.keys()
        assert not missing, f"{name}: give world() an object for {missing}"
        url = reverse(name, kwargs={param: objects[param] for param in page_urls()[name]})
        pages.append((name, method, client_for(role), url, world["query"].get(name, {})))
    return pages


@pytest.fixture
def client_for(world):
    from django.test import Client

    clients = {}

    def make(role):
        if role not in clients:
            user = world["users"].get(role) or UserFactory(username=f"t-{role}".lower(), role=role)
            clients[role] = force_login(Client(), user)
        return clients[role]

    return make


def _render(client, method, url, data, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = getattr(client, method)(url, data, follow=True)
    if response.streaming:
        b"".join(response.streaming_content)
    return response


def _listed(found: dict[str, set[str]]) -> list[str]:
    """Each missing msgid with the first pages it was seen on."""
    lines = []
    for msgid, pages in sorted(found.items()):
        more = f" and {len(pages) - 3} more" if len(pages) > 3 else ""
        lines.append(f"{msgid!r} on {', '.join(sorted(pages)[:3])}{more}")
    return lines


def test_every_page_renders_in_english_and_every_chinese_message_has_a_translation(world, client_for):
    found = defaultdict(set)
    with chinese_misses() as misses:
        for name, method, client, url, data in _pages(world, client_for):
            for language in ("en", CHINESE):
                misses.clear()
                response = _render(client, method, url, data, language)
                assert response.status_code < 500, f"{name} {method} in {language}: {response.status_code}"
                for msgid in misses if language == CHINESE else ():
                    found[msgid].add(f"{name} ({method})")
    assert _listed(found) == [], "No zh_Hans translation for:\n" + "\n".join(_listed(found))


def test_every_admin_list_and_add_page_has_its_chinese_labels(world, login_as):
    admin = login_as(UserFactory(username="the-admin", role=Role.ADMIN, is_staff=True, is_superuser=True))
    ours = tuple(f"{app.label}." for app in apps.get_app_configs() if "site-packages" not in app.path)
    found = defaultdict(set)
    with chinese_misses() as misses:
        for label, name, _model_admin in admin_pages():
            if not label.startswith(ours):
                continue  # a third-party app's own catalog is its maintainers' (django_celery_beat lacks a few)
            misses.clear()
            response = _render(admin, "get", reverse(name), {}, CHINESE)
            assert response.status_code in (200, 403), f"{name}: {response.status_code}"
            for msgid in misses:
                found[msgid].add(label)
    assert _listed(found) == [], "No zh_Hans translation for:\n" + "\n".join(_listed(found))
