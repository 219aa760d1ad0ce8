# Issue 9: turn the flag reasons stored as text (English or Chinese, joined by "; ") into codes with
# parameters; a part that matches no known message is kept as text (code "other").
#
# The message texts are copied here as they were when this migration was written (English source and the
# zh_Hans translation), so later catalog edits do not change what this migration recognises.

import re

from django.db import migrations

FLAG_MESSAGES = {
    "large_amount": [
        "Amount is over %(factor)s× the customer's average order of %(average)s",
        "金额超过该客户平均客单价 %(average)s 的 %(factor)s 倍",
    ],
    "burst": ["%(count)s purchases within %(minutes)s minutes", "%(minutes)s 分钟内消费 %(count)s 笔"],
}
_PATTERNS = {"factor": r"\d+", "average": r"-?[\d,]+(?:\.\d+)?", "count": r"\d+", "minutes": r"\d+"}


def _regex(template):
    parts = re.split(r"%\((\w+)\)s", template)
    return re.compile("".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>{_PATTERNS[p]})" for i, p in enumerate(parts)))


_FLAGS = [(code, _regex(t)) for code, ts in FLAG_MESSAGES.items() for t in ts]


def _param(key, value):
    return value.replace(",", "") if key == "average" else int(value)


def flag_reasons_from_text(text):
    """[{"code", "params"}, ...] for a purchase's old flag_reason text."""
    reasons = []
    for part in filter(None, (p.strip() for p in re.split(r"; |；", text or ""))):
        for code, pattern in _FLAGS:
            if m := pattern.fullmatch(part):
                reasons.append({"code": code, "params": {k: _param(k, v) for k, v in m.groupdict().items()}})
                break
        else:
            reasons.append({"code": "other", "params": {"text": part}})
    return reasons


def text_to_codes(apps, schema_editor):
    Transaction = apps.get_model("interactions", "Transaction")
    batch = []
    for tx in Transaction.objects.exclude(flag_reason="").only("pk", "flag_reason").iterator(chunk_size=2000):
        tx.flag_reasons = flag_reasons_from_text(tx.flag_reason)
        batch.append(tx)
        if len(batch) == 2000:
            Transaction.objects.bulk_update(batch, ["flag_reasons"])
            batch = []
    Transaction.objects.bulk_update(batch, ["flag_reasons"])


def codes_to_text(apps, schema_editor):
    """Going back: the text in English, as the old code would have written it with the UI in English."""
    Transaction = apps.get_model("interactions", "Transaction")
    batch = []
    for tx in Transaction.objects.exclude(flag_reasons=[]).only("pk", "flag_reasons").iterator(chunk_size=2000):
        texts = [
            FLAG_MESSAGES[r["code"]][0] % r["params"] if r["code"] in FLAG_MESSAGES else r["params"].get("text", "")
            for r in tx.flag_reasons
        ]
        tx.flag_reason = "; ".join(texts)[:255]
        batch.append(tx)
        if len(batch) == 2000:
            Transaction.objects.bulk_update(batch, ["flag_reason"])
            batch = []
    Transaction.objects.bulk_update(batch, ["flag_reason"])


class Migration(migrations.Migration):
    dependencies = [
        ("interactions", "0007_flag_reason_codes"),
    ]

    operations = [
        migrations.RunPython(text_to_codes, codes_to_text),
    ]
