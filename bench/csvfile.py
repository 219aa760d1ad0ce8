"""A member export from an "old system" as CSV, for the import benchmark: the fill's fake people
with Chinese headers, 11-digit phones and a card number each, and one bad row in BAD_EVERY.
"""

import csv
import random
from pathlib import Path

from bench.fill import TIERS
from bench.people import draw

HEADERS = {
    "legacy_number": "会员编号", "name": "姓名", "gender": "性别", "birthday": "生日", "mobile": "手机号",
    "email": "邮箱", "province": "省份", "city": "城市", "address": "详细地址", "occupation": "职业",
    "company": "公司", "registered_on": "注册日期", "tier_id": "会员等级", "email_opt_in": "接收邮件",
    "sms_opt_in": "接收短信", "notes": "备注",
}  # fmt: skip
GENDERS = {"female": "女", "male": "男", "unknown": ""}
YES_NO = {"t": "是", "f": "否"}
BAD_EVERY = 200  # 0.5% of rows
# What goes wrong in a bad row, in turn: a phone one digit short, a day that does not exist, no @.
BAD = [("mobile", "1380013800"), ("birthday", "1990-02-30"), ("email", "li.na#qq.com")]


def write(path: Path, *, rows: int, seed: int = 2027) -> int:
    """Write the file; return how many rows are bad (each should come back as an error)."""
    tiers = [name for name, *_ in TIERS]
    bad = 0
    with path.open("w", newline="", encoding="utf-8-sig") as f:
        writer = csv.writer(f)
        writer.writerow(HEADERS.values())
        for start in range(0, rows, 100_000):
            rng = random.Random(f"{seed}-{start}")
            for i in range(start, min(rows, start + 100_000)):
                row = draw(rng, i, [None], tiers)
                row["legacy_number"] = f"HY{10_000_000 + i}"
                row["gender"] = GENDERS[row["gender"]]
                row["mobile"] = row["mobile"].removeprefix("+86")
                row["email_opt_in"], row["sms_opt_in"] = YES_NO[row["email_opt_in"]], YES_NO[row["sms_opt_in"]]
                if i % BAD_EVERY == BAD_EVERY - 1:
                    field, value = BAD[i // BAD_EVERY % len(BAD)]
                    row[field] = value
                    bad += 1
                writer.writerow("" if row[k] is None else row[k] for k in HEADERS)
    return bad
