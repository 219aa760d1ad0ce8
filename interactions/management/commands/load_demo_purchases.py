"""Demo products and two years of purchases for the demo customers (load_demo calls this).

Each customer's spend in the last year is drawn to fit the tier load_demo gave
them, so tiers, points and the customer page tell one story. Safe to run
again: only customers without any purchase get some.
"""

import datetime
import random
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.utils import timezone

from customers.models import Category, Customer, Tier
from interactions import services
from interactions.models import Channel, Product, Transaction, TransactionLine, TransactionSource

# (SKU, name, category, price)
PRODUCTS = [
    ("APP-001", "纯棉T恤", "服装", "89.00"),
    ("APP-002", "羊毛大衣", "服装", "1299.00"),
    ("APP-003", "牛仔裤", "服装", "259.00"),
    ("SHO-001", "真皮手提包", "鞋包", "1880.00"),
    ("SHO-002", "跑步鞋", "鞋包", "599.00"),
    ("BEA-001", "保湿面霜", "美妆护肤", "368.00"),
    ("BEA-002", "口红", "美妆护肤", "199.00"),
    ("BEA-003", "精华液", "美妆护肤", "760.00"),
    ("FOO-001", "龙井茶礼盒", "食品饮料", "288.00"),
    ("FOO-002", "进口咖啡豆", "食品饮料", "98.00"),
    ("BAB-001", "婴儿奶粉", "母婴", "328.00"),
    ("BAB-002", "纸尿裤", "母婴", "139.00"),
    ("DIG-001", "无线耳机", "数码", "999.00"),
    ("DIG-002", "智能手表", "数码", "2399.00"),
    ("HOM-001", "真丝枕套", "家居", "199.00"),
    ("HOM-002", "香薰蜡烛", "家居", "69.00"),
    ("SPO-001", "瑜伽垫", "运动户外", "159.00"),
    ("SPO-002", "登山背包", "运动户外", "499.00"),
]
STORES = {
    Channel.STORE: ["杭州西湖店", "上海南京路店", "北京三里屯店", "深圳万象城店"],
    Channel.ONLINE: ["天猫旗舰店", "京东自营店"],
    Channel.APP: ["会员App"],
    Channel.PHONE: ["客服热线"],
}
BATCH = 500


class Command(BaseCommand):
    help = "Load demo products and purchases for customers that have none."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, seed: int, **options):
        categories = {name: c for c in Category.objects.all() for name in c.names()}
        products = [
            services.product_save(sku=sku, name=name, category=categories.get(cat), price=Decimal(price))
            for sku, name, cat, price in PRODUCTS
        ]
        tiers = list(Tier.objects.order_by("rank"))
        customers = Customer.objects.filter(transactions__isnull=True).select_related("tier").order_by("pk")
        total = customers.count()
        done = 0
        batch: list[Customer] = []
        for customer in customers.iterator(chunk_size=BATCH):
            batch.append(customer)
            if len(batch) == BATCH:
                done += self.load(batch, seed, products, tiers)
                batch = []
        if batch:
            done += self.load(batch, seed, products, tiers)
        self.stdout.write(f"purchases: {done} for {total} customers")

    def load(self, customers: list[Customer], seed: int, products: list[Product], tiers: list[Tier]) -> int:
        now = timezone.now()
        transactions: list[Transaction] = []
        lines: list[list[TransactionLine]] = []
        for customer in customers:
            # Seeded per customer: a re-run makes the same choice, so one who never bought still has not.
            rng = random.Random(f"{seed}-{customer.pk}")
            for occurred_at, tx_lines in self.history(customer, rng, products, tiers, now):
                channel = rng.choices(list(STORES), weights=[55, 30, 10, 5])[0]
                transactions.append(
                    Transaction(
                        customer=customer,
                        occurred_at=occurred_at,
                        channel=channel,
                        store=rng.choice(STORES[channel]),
                        amount=sum((line.line_total for line in tx_lines), Decimal(0)),
                        source=TransactionSource.DEMO,
                    )
                )
                lines.append(tx_lines)
        return services.transactions_bulk_load(transactions=transactions, lines=lines)

    @staticmethod
    def history(customer, rng, products, tiers, now):
        """Purchases whose spend in the last year reaches the customer's tier but not the next; a few older ones."""
        rank = customer.tier.rank if customer.tier else -1
        floor = customer.tier.min_spend if customer.tier else Decimal(0)
        above = [t.min_spend for t in tiers if t.rank > rank]
        ceiling = above[0] if above else floor * 2 or Decimal(3000)
        target = Decimal(rng.uniform(float(floor), float(ceiling) * 0.9)) if ceiling > floor else floor
        if rank <= 0 and rng.random() < 0.15:
            return  # some members never bought anything
        spent = Decimal(0)
        favourites = rng.sample(products, 4)
        older = rng.choice([0, 0, 1, 2, 3])
        while spent < max(target, Decimal(1)) or older > 0:
            in_window = spent < max(target, Decimal(1))
            days_ago = rng.uniform(0, 360) if in_window else rng.uniform(370, 730)
            tx_lines = []
            for product in rng.sample(favourites + rng.sample(products, 2), rng.choice([1, 1, 2, 3])):
                quantity = rng.choice([1, 1, 1, 2])
                tx_lines.append(
                    TransactionLine(
                        product=product,
                        description=product.name,
                        quantity=quantity,
                        unit_price=product.price,
                        line_total=product.price * quantity,
                    )
                )
            amount = sum((line.line_total for line in tx_lines), Decimal(0))
            if in_window:
                if above and spent + amount >= ceiling:
                    if spent >= floor:
                        target = spent  # enough for the tier; one more would reach the next
                    continue
                spent += amount
            else:
                older -= 1
            yield now - datetime.timedelta(days=days_ago), tx_lines
