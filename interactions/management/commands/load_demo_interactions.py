"""Demo interactions, follow-up reminders and two reminder rules (load_demo calls this).

Most customers get a few calls, chats and visits over the last year, logged by their
owner or the service desk; recent ones with a follow-up leave open reminders, so
"My day" has something on it. Each member of staff also gets two reminders falling due
within the hour, so the bell lights up while the demo runs (manage.py run_schedule notifies
them), and a few social mentions no customer matches wait in the mention queue.

Safe to run again: only customers without any interaction get some, the rules are matched by
name, the mentions by their post id, and a reminder due soon is only added for staff with none
still waiting.
"""

import datetime
import random
from dataclasses import replace

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone

from crm.roles import Role
from customers.models import Customer, Tier
from interactions import services
from interactions.models import (
    ACTIVE_REMINDER,
    AssigneePolicy,
    BehaviourEvent,
    BehaviourKind,
    Direction,
    Interaction,
    InteractionChannel,
    InteractionSource,
    Outcome,
    Product,
    Reminder,
    ReminderRule,
    ReminderRuleKind,
)
from interactions.services.behaviour import MAX_BATCH, EventInput, behaviour_record
from interactions.services.behaviour import Status as BehaviourStatus
from interactions.services.mentions import MentionInput, mention_receive

# (channel, direction, subject, outcome) -- what a member's contacts with a shop look like
SCRIPTS = [
    (InteractionChannel.PHONE, Direction.INBOUND, "咨询会员积分", Outcome.INFO),
    (InteractionChannel.PHONE, Direction.OUTBOUND, "新品到店通知", Outcome.SALE),
    (InteractionChannel.PHONE, Direction.OUTBOUND, "回访购物体验", Outcome.RESOLVED),
    (InteractionChannel.PHONE, Direction.INBOUND, "尺码不合适，想换货", Outcome.FOLLOW_UP),
    (InteractionChannel.PHONE, Direction.OUTBOUND, "生日祝福", Outcome.NO_ANSWER),
    (InteractionChannel.CHAT, Direction.INBOUND, "查询快递进度", Outcome.RESOLVED),
    (InteractionChannel.CHAT, Direction.INBOUND, "商品质量投诉", Outcome.COMPLAINT),
    (InteractionChannel.EMAIL, Direction.OUTBOUND, "发送电子发票", Outcome.RESOLVED),
    (InteractionChannel.VISIT, Direction.INBOUND, "到店试穿", Outcome.SALE),
    (InteractionChannel.VISIT, Direction.INBOUND, "到店咨询护肤方案", Outcome.FOLLOW_UP),
    (InteractionChannel.EVENT, Direction.INBOUND, "参加会员沙龙", Outcome.INFO),
    (InteractionChannel.SMS, Direction.OUTBOUND, "积分即将过期提醒", Outcome.INFO),
    (InteractionChannel.SOCIAL, Direction.INBOUND, "微博晒单好评", Outcome.RESOLVED),
]
RULES = [
    ("金卡以上会员90天未联系", ReminderRuleKind.NO_CONTACT, {"days": 90}, "联系一下这位会员，了解近况", "金卡"),
    ("满意度低于等于2分", ReminderRuleKind.LOW_SATISFACTION, {"days": 7, "max_score": 2}, "回访不满意的客户", None),
]
# (minutes from now, what to do): reminders that fall due while the demo is being looked at.
SOON = [(10, "回电确认换货尺码"), (40, "发送新品试用邀请")]
# (platform, post id, handle, author, text): posts by people the CRM does not know yet.
MENTIONS = [
    ("微博", "demo-1", "小鹿爱逛街", "小鹿", "刚在杭州西湖店买的大衣，袖子有点长，可以改吗？"),
    ("小红书", "demo-2", "momo_daily", "Momo", "会员日的积分翻倍活动还有吗？"),
    ("抖音", "demo-3", "阿杰的日常", "阿杰", "客服回复太慢了，等了两天还没人理。"),
    ("微博", "demo-4", "sunny_chen", "Sunny", "跑步鞋很好穿，推荐给大家！"),
    ("小红书", "demo-5", "橙子不酸", "橙子", "想问一下母婴用品能不能开发票？"),
]
BATCH = 2000
# Browsing: product views most, then categories, favourites and cart additions. DEMO_CLIENT stands for the
# demo shop's API client (events keep the sender's id, not a key to the API's table).
BEHAVIOUR_KINDS = (
    [BehaviourKind.PRODUCT_VIEW] * 6
    + [BehaviourKind.CATEGORY_VIEW] * 2
    + [
        BehaviourKind.FAVOURITE,
        BehaviourKind.CART_ADD,
    ]
)
BEHAVIOUR_MEMBERS = 60
DEMO_CLIENT = 0


class Command(BaseCommand):
    help = "Load demo interactions, follow-up reminders and reminder rules for customers that have none."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, seed: int, **options):
        staff = list(get_user_model().objects.filter(groups__name__in=[Role.SERVICE, Role.SALES]).order_by("pk"))
        if not staff:
            self.stdout.write("interactions: no service or sales users to log them")
            return
        desk = [u for u in staff if u.groups.filter(name=Role.SERVICE).exists()] or staff
        self.load_rules(fallback=desk[0])
        now = timezone.now()
        customers = Customer.objects.filter(interactions__isnull=True).only("pk", "owner_id").order_by("pk")
        batch: list[Interaction] = []
        done = 0
        for customer in customers.iterator(chunk_size=BATCH):
            rng = random.Random(f"{seed}-interactions-{customer.pk}")
            for _ in range(rng.choice([0, 1, 1, 2, 3, 4])):
                channel, direction, subject, outcome = rng.choice(SCRIPTS)
                days_ago = rng.uniform(0, 365) if rng.random() < 0.9 else rng.uniform(0, 3)
                occurred_at = now - datetime.timedelta(days=days_ago)
                logged_by = customer.owner_id if customer.owner_id and rng.random() < 0.5 else rng.choice(desk).pk
                follow_up = None
                if outcome == Outcome.FOLLOW_UP:
                    follow_up = timezone.localdate(occurred_at) + datetime.timedelta(days=rng.randint(1, 5))
                batch.append(
                    Interaction(
                        customer_id=customer.pk,
                        channel=channel,
                        direction=direction,
                        subject=subject,
                        outcome=outcome,
                        staff_id=logged_by,
                        occurred_at=occurred_at,
                        satisfaction=rng.choice([None, None, 3, 4, 4, 5, 5, 2, 1]),
                        follow_up_on=follow_up,
                        source=InteractionSource.DEMO,
                    )
                )
            if len(batch) >= BATCH:
                done += services.interactions_bulk_load(interactions=batch, now=now)
                batch = []
        done += services.interactions_bulk_load(interactions=batch, now=now)
        self.stdout.write(f"interactions: {done}")
        self.load_soon_due(staff=staff, now=now)
        self.load_mentions(now=now)
        self.load_behaviour(seed=seed, now=now)

    def load_behaviour(self, *, seed: int, now: datetime.datetime) -> None:
        """A fortnight of shop browsing for the first members, so the timeline's daily summary and the behaviour
        segment fields have something to show; once (a second run adds none)."""
        products = list(Product.objects.filter(active=True).values_list("sku", "category_id"))
        if not products or BehaviourEvent.objects.filter(client_id=DEMO_CLIENT).exists():
            return
        events = []
        for customer in Customer.objects.order_by("pk").only("crm_number")[:BEHAVIOUR_MEMBERS]:
            rng = random.Random(f"{seed}-behaviour-{customer.pk}")
            for n in range(rng.randint(0, 25)):
                sku, category = rng.choice(products)
                kind = rng.choice(BEHAVIOUR_KINDS)
                event = EventInput(
                    event_id=f"demo-{customer.pk}-{n}",
                    kind=kind,
                    occurred_at=now - datetime.timedelta(days=rng.uniform(0, 14)),
                    number=str(customer.crm_number),
                )
                if kind == BehaviourKind.CATEGORY_VIEW:
                    event = replace(event, category=category) if category else None
                else:
                    event = replace(event, sku=sku)
                if event:
                    events.append(event)
        recorded = 0
        for start in range(0, len(events), MAX_BATCH):
            outcomes = behaviour_record(client_id=DEMO_CLIENT, events=events[start : start + MAX_BATCH])
            recorded += sum(o.status == BehaviourStatus.ACCEPTED for o in outcomes)
        self.stdout.write(f"shop behaviour events: {recorded}")

    def load_soon_due(self, *, staff, now: datetime.datetime) -> None:
        added = 0
        for user in staff:
            within_hour = (now, now + datetime.timedelta(hours=1))
            waiting = Reminder.objects.filter(
                ACTIVE_REMINDER, assignee=user, notified_at=None, due_at__range=within_hour
            )
            customer = Customer.objects.filter(owner=user).order_by("pk").first() or Customer.objects.first()
            if customer is None or waiting.exists():
                continue
            for minutes, text in SOON:
                services.reminder_create(
                    customer=customer, assignee=user, due_at=now + datetime.timedelta(minutes=minutes), text=text
                )
                added += 1
        self.stdout.write(f"reminders due within the hour: {added}")

    def load_mentions(self, *, now: datetime.datetime) -> None:
        for hours, (platform, post_id, handle, author, text) in enumerate(MENTIONS, start=1):
            mention_receive(
                mention=MentionInput(
                    platform=platform,
                    text=text,
                    handle=handle,
                    author_name=author,
                    external_id=post_id,
                    posted_at=now - datetime.timedelta(hours=3 * hours),
                )
            )

    def load_rules(self, *, fallback) -> None:
        for name, kind, params, text, tier_name in RULES:
            tier = Tier.objects.filter(name=tier_name).first() if tier_name else None
            ReminderRule.objects.get_or_create(
                name=name,
                defaults={
                    "kind": kind,
                    "text": text,
                    "min_tier": tier,
                    "assignee_policy": AssigneePolicy.OWNER,
                    "assignee": fallback,
                    **params,
                },
            )
