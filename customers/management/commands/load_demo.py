"""Demo data for `make run`: roles' logins, tiers, tags, a few thousand customers, their purchases and interactions.

Every customer has a real province and one of its cities, and a mainland mobile (shown the same
way for everyone); a few customers registered twice (same name and birthday, another phone), so the
duplicates page has something to merge.

Safe to run again: users and reference data are matched by name, customers are only added when
there are fewer than asked for, and the doubles only when no likely duplicates are left.
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
from customers.services.merge import duplicate_groups

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
# (name, English name, rank, minimum spend, points multiplier); the name is also the Chinese one.
TIERS = [
    ("普通", "Standard", 0, 0, "1.00"),
    ("银卡", "Silver", 1, 2000, "1.20"),
    ("金卡", "Gold", 2, 8000, "1.50"),
    ("钻石", "Diamond", 3, 30000, "2.00"),
]
TAGS = ["VIP", "新客", "老客户", "高价值", "母婴", "美妆", "企业客户", "沉睡客户", "Newsletter"]
# name (also the Chinese one) -> English name
CATEGORIES = {
    "服装": "Clothing",
    "鞋包": "Shoes and bags",
    "美妆护肤": "Beauty and skincare",
    "食品饮料": "Food and drink",
    "母婴": "Mother and baby",
    "数码": "Electronics",
    "家居": "Home",
    "运动户外": "Sports and outdoors",
}
# Province -> a few of its cities (Faker draws the two independently: "江西省 北京").
REGIONS = {
    "北京市": ["北京市"],
    "上海市": ["上海市"],
    "天津市": ["天津市"],
    "重庆市": ["重庆市"],
    "广东省": ["广州市", "深圳市", "佛山市", "东莞市", "珠海市"],
    "浙江省": ["杭州市", "宁波市", "温州市", "绍兴市", "嘉兴市"],
    "江苏省": ["南京市", "苏州市", "无锡市", "常州市", "南通市"],
    "山东省": ["济南市", "青岛市", "烟台市", "潍坊市"],
    "福建省": ["福州市", "厦门市", "泉州市"],
    "四川省": ["成都市", "绵阳市", "宜宾市"],
    "湖北省": ["武汉市", "宜昌市", "襄阳市"],
    "湖南省": ["长沙市", "株洲市", "岳阳市"],
    "河南省": ["郑州市", "洛阳市", "开封市"],
    "江西省": ["南昌市", "九江市", "赣州市"],
    "陕西省": ["西安市", "咸阳市", "宝鸡市"],
    "辽宁省": ["沈阳市", "大连市", "鞍山市"],
}
# Customers who registered a second time (another shop, a new phone): the duplicates page's examples.
DOUBLES = 4


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
            Tier.objects.update_or_create(
                name=n,
                defaults={"name_zh_hans": n, "name_en": en, "rank": r, "min_spend": s, "points_multiplier": m},
            )[0]
            for n, en, r, s, m in TIERS
        ]
        tags = [Tag.objects.get_or_create(name=n)[0] for n in TAGS]
        categories = [
            Category.objects.update_or_create(name=n, defaults={"name_zh_hans": n, "name_en": en})[0]
            for n, en in CATEGORIES.items()
        ]
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
                mobile=self.mobile(rng),
                email=email,
                occupation=fake.job()[:100],
                company=fake.company()[:150] if rng.random() < 0.4 else "",
                **self.region(rng),
                address=zh.street_address()[:255],
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

        if not duplicate_groups(queryset=Customer.objects.all()).exists():
            self.create_doubles(rng, base_tier=tiers[0])

        # By name, so customers does not import interactions (the dependency points the other way).
        call_command("load_demo_purchases", seed=seed, stdout=self.stdout)
        call_command("load_demo_interactions", seed=seed, stdout=self.stdout)
        call_command("load_demo_segments", stdout=self.stdout)
        call_command("run_scoring", "--if-none", stdout=self.stdout)  # scores on the member pages from the start

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

    def create_doubles(self, rng: random.Random, *, base_tier: Tier) -> None:
        """Register a few customers again under the same name and birthday, with another phone."""
        candidates = list(Customer.objects.exclude(birthday=None).order_by("pk")[:1000])
        originals = rng.sample(candidates, min(DOUBLES, len(candidates)))
        doubles = []
        for original in originals:
            double = Customer(
                name=original.name,
                gender=original.gender,
                birthday=original.birthday,
                mobile=self.mobile(rng),
                province=original.province,
                city=original.city,
                source=Source.WECHAT if original.source != Source.WECHAT else Source.STORE,
                registered_on=timezone.localdate() - timedelta(days=rng.randint(0, 90)),
                owner=original.owner,
                tier=base_tier,
                sms_opt_in=True,
            )
            double.clean_fields(exclude={"crm_number"})
            if errors := double.normalize():
                raise ValidationError(errors)
            doubles.append(double)
        services.customers_bulk_create(customers=doubles, actor=None, consent_method=ConsentMethod.PAPER)
        self.stdout.write(f"likely duplicates: {len(doubles)}")

    @staticmethod
    def region(rng: random.Random) -> dict[str, str]:
        province = rng.choice(list(REGIONS))
        return {"province": province, "city": rng.choice(REGIONS[province])}

    @staticmethod
    def mobile(rng: random.Random) -> str:
        # A mainland mobile for everyone, foreign names too (members of shops in China), so every
        # number is stored and shown one way. Unique in practice: 10^9 subscriber numbers per prefix.
        return f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}"
