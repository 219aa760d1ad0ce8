"""Fake purchases as COPY text: two years of them in time order, skewed like a real shop's.

How many a customer makes follows their tier (most members buy a few times, top-tier ones
dozens) and how long they have been a member; amounts are log-normal around the tier's usual
basket; 30% of purchases carry one product line. One customer gets exactly HEAVY_COUNT, the
customer page's worst case. Ids are issued in time order, as a live system would, so one
customer's purchases lie scattered over the table, not side by side.
"""

import math
import random
from array import array
from collections.abc import Iterator
from datetime import date, timedelta

from bench import names
from bench.people import NULL, Pool

DAYS = 730
HEAVY_COUNT = 1000
ORDERS = (4, 12, 26, 55)  # by tier rank: mean purchases in two years, before scaling to the total asked for
BASKET = (120, 330, 650, 1300)  # by tier rank: median amount in yuan
MULTIPLIER = (100, 120, 150, 200)  # by tier rank: points per yuan, in hundredths (as the fill's tiers)
NEVER_BOUGHT = 0.15  # share of the lowest tier with no purchase at all
LINE_SHARE = 0.3
CHANNELS = Pool(["store", "online", "app", "phone"], [55, 30, 10, 5])
MALLS = ("万达广场店", "万象城店", "步行街店")
STORES = {
    "store": [f"{cities[0]}{mall}" for _, cities in names.PROVINCES.values() for mall in MALLS],
    "online": ["天猫旗舰店", "京东自营店", "抖音小店", "拼多多店"],
    "app": ["会员App", "微信小程序"],
    "phone": ["客服热线"],
}
REF_PREFIX = {"store": "POS", "online": "EC", "app": "APP"}  # order numbers from the till, shop and app
CATEGORIES = {
    "服装": [("纯棉T恤", 89), ("羊毛大衣", 1299), ("牛仔裤", 259), ("衬衫", 199), ("连衣裙", 459), ("羽绒服", 899)],
    "鞋包": [("真皮手提包", 1880), ("跑步鞋", 599), ("帆布鞋", 229), ("双肩包", 359), ("钱包", 299), ("皮靴", 799)],
    "美妆护肤": [("保湿面霜", 368), ("口红", 199), ("精华液", 760), ("面膜", 129), ("防晒霜", 159), ("香水", 680)],
    "食品饮料": [("龙井茶", 288), ("咖啡豆", 98), ("坚果礼盒", 168), ("红酒", 398), ("月饼礼盒", 258), ("蜂蜜", 88)],
    "母婴": [("婴儿奶粉", 328), ("纸尿裤", 139), ("婴儿推车", 1599), ("儿童绘本", 79), ("奶瓶", 119), ("爬行垫", 199)],
    "数码": [("无线耳机", 999), ("智能手表", 2399), ("充电宝", 149), ("蓝牙音箱", 399), ("平板套", 99), ("键盘", 349)],
    "家居": [("真丝枕套", 199), ("香薰蜡烛", 69), ("四件套", 599), ("保温杯", 129), ("收纳箱", 89), ("台灯", 259)],
    "运动户外": [("瑜伽垫", 159), ("登山背包", 499), ("运动水壶", 59), ("速干衣", 189), ("帐篷", 899), ("跳绳", 39)],
}
VARIANTS = [("经典款", 1.0), ("升级款", 1.3), ("礼盒装", 1.6), ("限定款", 2.1)]


def catalogue() -> list[tuple[str, str, str, int]]:
    """(SKU, name, category, price in cents) for 192 products."""
    return [
        (f"B{c:02d}{n:02d}{v}", f"{item}（{variant}）", category, int(price * factor) * 100 - 100 + 90)
        for c, (category, items) in enumerate(CATEGORIES.items())
        for n, (item, price) in enumerate(items)
        for v, (variant, factor) in enumerate(VARIANTS)
    ]


def purchase_days(customers: list[tuple[int, int, int]], *, total: int, heavy: int, seed: int) -> list[array]:
    """For each day of the window, the indexes into `customers` (id, first day, tier rank) of
    everyone who buys that day, once per purchase; exactly `total` purchases in all."""
    rng = random.Random(f"{seed}-counts")
    means = []
    for cid, first, rank in customers:
        active = cid != heavy and not (rank == 0 and rng.random() < NEVER_BOUGHT)
        means.append(ORDERS[rank] * (DAYS - first) / DAYS if active else 0.0)
    scale = (total - HEAVY_COUNT) / sum(means)
    counts = array("I", (int(rng.gammavariate(1.5, m * scale / 1.5) + 0.5) if m else 0 for m in means))
    buyers = [j for j, m in enumerate(means) if m]
    short = total - HEAVY_COUNT - sum(counts)
    while short:  # the draw lands a little off the total: nudge random buyers up or down
        j = rng.choice(buyers)
        step = 1 if short > 0 else -min(1, counts[j])
        counts[j] += step
        short -= step
    days = [array("I") for _ in range(DAYS)]
    for j, (cid, first, _rank) in enumerate(customers):
        n = HEAVY_COUNT if cid == heavy else counts[j]
        start = 0 if cid == heavy else first
        for _ in range(n):
            days[start + int(rng.random() * (DAYS - start))].append(j)
    return days


def purchase_rows(
    days: list[array], customers, *, first_day: date, products: list[tuple[int, str, int]], staff: list[int], seed: int
) -> Iterator[tuple[str, str]]:
    """(transactions, lines) as COPY text, one day at a time; ids from 1 in time order."""
    tx_id = 0
    for d, buyers in enumerate(days):
        rng = random.Random(f"{seed}-day-{d}")
        day = first_day + timedelta(days=d)
        refundable = d < DAYS - 7
        txs, lines = [], []
        for second, j in sorted((rng.randrange(8 * 3600, 23 * 3600), j) for j in buyers):
            tx_id += 1
            cid, _first, rank = customers[j]
            at = f"{day} {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}+08"
            channel = CHANNELS.one(rng)
            if rng.random() < LINE_SHARE:
                pid, pname, price = rng.choice(products)
                quantity = rng.choice((1, 1, 1, 2, 2, 3))
                cents = price * quantity
                lines.append(f"{tx_id}\t{pid}\t{pname}\t{quantity}\t{_money(price)}\t{_money(cents)}\n")
            else:
                yuan = min(99_999, max(5, round(BASKET[rank] * math.exp(rng.gauss(0, 0.75)))))
                cents = yuan * 100 - (10 if rng.random() < 0.3 else 0)
            refunded, status = 0, "completed"
            if refundable and (r := rng.random()) < 0.05:
                partial = cents * rng.randint(1, 5) // 10
                refunded, status = (cents, "refunded") if r < 0.02 else (partial, "partially_refunded")
            staff_entered = channel == "phone" or rng.random() < 0.1
            source = "staff" if staff_entered else ("import" if channel == "store" else "api")
            ref = "" if staff_entered else f"{REF_PREFIX[channel]}{tx_id:010d}"
            coupon = f"CP{rng.randrange(10**6):06d}" if rng.random() < 0.06 else ""
            flagged = rng.random() < 0.001
            values = (
                tx_id, customers[j][0], at, channel, rng.choice(STORES[channel]), _money(cents), "CNY", status,
                _money(refunded), source, ref, cents * MULTIPLIER[rank] // 10_000,
                refunded * MULTIPLIER[rank] // 10_000, coupon, "t" if flagged else "f",
                FLAG_REASONS if flagged else "[]", rng.choice(staff) if staff_entered else NULL, at, "0.00",
            )  # fmt: skip
            txs.append("\t".join(map(str, values)) + "\n")
        yield "".join(txs), "".join(lines)


FLAG_REASONS = '[{"code": "large_amount", "params": {"factor": 5, "average": "300.00"}}]'
TRANSACTION_COLUMNS = (
    "id", "customer_id", "occurred_at", "channel", "store", "amount", "currency", "status", "refunded_amount",
    "source", "external_ref", "points_earned", "points_reversed", "coupon_code", "flagged", "flag_reasons",
    "recorded_by_id", "created_at", "discount",
)  # fmt: skip
LINE_COLUMNS = ("transaction_id", "product_id", "description", "quantity", "unit_price", "line_total")


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"
