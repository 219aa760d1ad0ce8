"""Demo data for `make run`: roles' logins, tiers, tags, a few thousand customers, their purchases and interactions.

Safe to run again: users and reference data are matched by name, and customers
are only added when there are fewer than asked for.
"""

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone
from faker import Faker

from crm.roles import Role
from customers import services
from customers.models import Category, ConsentMethod, Customer, Gender, Source, Tag, Tier

BATCH = 500
DEMO_PASSWORD = "demo-crm-2026"  # noqa: S105 -- printed for demo logins only
DEMO_USERS = [
    ("service", Role.SERVICE),
    ("sales", Role.SALES),
    ("sales2", Role.SALES),
    ("marketing", Role.MARKETING),
    ("manager", Role.MANAGER),
    ("admin", Role.ADMIN),
]
TIERS = [("普通", 0, 0, "1.00"), ("银卡", 1, 2000, "1.20"), ("金卡", 2, 8000, "1.50"), ("钻石", 3, 30000, "2.00")]
TAGS = ["VIP", "新客", "老客户", "高价值", "母婴", "美妆", "企业客户", "沉睡客户", "Newsletter"]
CATEGORIES = ["服装", "鞋包", "美妆护肤", "食品饮料", "母婴", "数码", "家居", "运动户外"]


class Command(BaseCommand):
    help = "Load demo users (one per role), tiers, tags and customers."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=3000)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, customers: int, seed: int, **options):
        existing = Customer.objects.count()
        # A re-run continues with fresh random numbers instead of repeating the first run's.
        rng = random.Random(f"{seed}-{existing}")
        users = self.create_users()
        tiers = [
            Tier.objects.update_or_create(name=n, defaults={"rank": r, "min_spend": s, "points_multiplier": m})[0]
            for n, r, s, m in TIERS
        ]
        tags = [Tag.objects.get_or_create(name=n)[0] for n in TAGS]
        categories = [Category.objects.get_or_create(name=n)[0] for n in CATEGORIES]
        owners = [u for u in users if u.groups.filter(name__in=[Role.SALES, Role.SERVICE]).exists()]

        missing = customers - existing
        zh, en = Faker("zh_CN"), Faker("en_US")
        zh.seed_instance(seed + existing)
        en.seed_instance(seed + existing + 1)
        today = timezone.localdate()
        batch, batch_tags = [], {}
        for i in range(max(missing, 0)):
            fake = zh if rng.random() < 0.75 else en
            chinese = fake is zh
            email = (
                "" if rng.random() < 0.2 else f"{fake.user_name()}.{existing + i}@example.{'cn' if chinese else 'com'}"
            )
            customer = Customer(
                name=fake.name(),
                gender=rng.choice([Gender.FEMALE, Gender.FEMALE, Gender.MALE, Gender.UNKNOWN]),
                birthday=fake.date_of_birth(minimum_age=18, maximum_age=75) if rng.random() < 0.85 else None,
                mobile=self.mobile(rng, chinese),
                email=email,
                occupation=fake.job()[:100],
                company=fake.company()[:150] if rng.random() < 0.4 else "",
                province=zh.province() if chinese else en.state(),
                city=zh.city_name() if chinese else en.city(),
                address=fake.street_address()[:255],
                source=rng.choice(list(Source)),
                registered_on=today - timedelta(days=rng.randint(0, 5 * 365)),
                owner=rng.choice(owners),
                tier=rng.choices(tiers, weights=[60, 25, 12, 3])[0],
                email_opt_in=bool(email) and rng.random() < 0.6,
                sms_opt_in=rng.random() < 0.7,
            )
            customer.clean_fields(exclude={"crm_number"})
            if errors := customer.normalize():
                raise ValidationError(errors)
            batch_tags[len(batch)] = rng.sample(tags, rng.choice([0, 0, 1, 1, 2, 3]))
            batch.append(customer)
            if len(batch) == BATCH or i + 1 == missing:
                services.customers_bulk_create(
                    customers=batch, actor=None, consent_method=ConsentMethod.PAPER, tags=batch_tags
                )
                through = Customer.preferred_categories.through
                through.objects.bulk_create(
                    through(customer_id=c.pk, category_id=cat.pk)
                    for c in batch
                    for cat in rng.sample(categories, rng.choice([0, 1, 2]))
                )
                batch, batch_tags = [], {}
                self.stdout.write(f"customers: {i + 1}/{missing}")

        # By name, so customers does not import interactions (the dependency points the other way).
        call_command("load_demo_purchases", seed=seed, stdout=self.stdout)
        call_command("load_demo_interactions", seed=seed, stdout=self.stdout)

        self.stdout.write(self.style.SUCCESS(f"Demo logins (password {DEMO_PASSWORD}):"))
        for username, role in DEMO_USERS:
            self.stdout.write(f"  {username:<10} {role}")

    def create_users(self):
        User = get_user_model()
        users = []
        for username, role in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
            if created:
                user.set_password(DEMO_PASSWORD)
            user.is_staff = user.is_superuser = role == Role.ADMIN
            user.save()
            user.groups.set([Group.objects.get(name=role)])
            users.append(user)
        return users

    @staticmethod
    def mobile(rng: random.Random, chinese: bool) -> str:
        # Unique in practice: 10^8 subscriber numbers per prefix.
        if chinese:
            return f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}"
        return f"+1{rng.randint(201, 989)}{rng.randint(0, 9_999_999):07d}"
