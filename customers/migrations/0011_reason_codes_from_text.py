# Issue 9: turn the reasons stored as text (in English or Chinese, whichever language the writer's UI spoke)
# into a code and its parameters; text that matches no known message stays as typed (code "manual").
# Tier and category names go to the language they are written in; `name` stays as the fallback.
#
# The message texts are copied here as they were when this migration was written (English source and the
# zh_Hans translation), so later catalog edits do not change what this migration recognises.

import re

from django.db import migrations

POINTS_MESSAGES = {
    "purchase": ["Purchase #%(id)s", "消费 #%(id)s"],
    "purchase_expired": ["Points of purchase #%(id)s expired", "消费 #%(id)s 的积分已过期"],
    "expired": ["Points earned before %(date)s expired", "%(date)s 之前获得的积分已过期"],
    "refund": ["Refund of %(amount)s on purchase #%(id)s", "消费 #%(id)s 退款 %(amount)s"],
    "merged": ["Merged with %(number)s (+%(points)s points)", "与 %(number)s 合并（+%(points)s 积分）"],
}
PARTLY_REVERSED = [
    "%(reason)s (reversed %(done)s of %(asked)s points; the rest were already used)",
    "%(reason)s（应扣回 %(asked)s 积分，实扣 %(done)s；其余积分已使用）",
]
TIER_MESSAGES = {
    "spend": ["Spend %(spend)s in the last %(days)s days", "近 %(days)s 天消费 %(spend)s"],
    "merged": ["Merged with %(number)s", "与 %(number)s 合并"],
}

_PATTERNS = {
    "id": r"\d+",
    "date": r"\d{4}-\d{2}-\d{2}",
    "amount": r"-?[\d,]+(?:\.\d+)?",
    "spend": r"-?[\d,]+(?:\.\d+)?",
    "number": r"[\d\- ]+",
    "points": r"-?[\d,]+",
    "done": r"-?[\d,]+",
    "asked": r"-?[\d,]+",
    "days": r"\d+",
    "reason": r".*",
}


def _regex(template, suffix=""):
    parts = re.split(r"%\((\w+)\)s", template)
    pattern = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>{_PATTERNS[part]})" for i, part in enumerate(parts)
    )
    return re.compile(f"{pattern}{suffix}", re.DOTALL)


# A refund's points reversal carried what staff typed after ": ".
_NOTE = r"(?:: (?P<note>.*))?"
_POINTS = [(code, _regex(t, _NOTE if code == "refund" else "")) for code, ts in POINTS_MESSAGES.items() for t in ts]
_PARTLY = [_regex(t) for t in PARTLY_REVERSED]
_TIER = [(code, _regex(t)) for code, ts in TIER_MESSAGES.items() for t in ts]


def _param(key, value):
    if key in ("id", "points", "done", "asked", "days"):
        return int(value.replace(",", ""))
    if key in ("amount", "spend"):
        return value.replace(",", "")
    if key == "number":
        return int(re.sub(r"\D", "", value))
    return value


def _match(patterns, text):
    for code, pattern in patterns:
        if m := pattern.fullmatch(text):
            return code, {k: _param(k, v) for k, v in m.groupdict().items() if v is not None}
    return None


def _typed(text):
    return ("manual", {"text": text} if text else {})


def points_reason_from_text(text):
    """(code, params) for a ledger entry's old reason text."""
    text = (text or "").strip()
    partly = {}
    for pattern in _PARTLY:
        if m := pattern.fullmatch(text):
            text = m["reason"]
            partly = {"done": _param("done", m["done"]), "asked": _param("asked", m["asked"])}
            break
    code, params = _match(_POINTS, text) or _typed(text)
    return code, {**params, **partly}


def tier_reason_from_text(text):
    """(code, params) for a tier change's old reason text."""
    text = (text or "").strip()
    return _match(_TIER, text) or _typed(text)


def _has_han(text):
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


def names_to_languages(apps, schema_editor):
    for model in ("Tier", "Category"):
        for row in apps.get_model("customers", model).objects.all():
            if _has_han(row.name):
                row.name_zh_hans = row.name_zh_hans or row.name
            else:
                row.name_en = row.name_en or row.name
            row.save(update_fields=["name_en", "name_zh_hans"])


def reasons_to_codes(apps, schema_editor):
    PointsEntry = apps.get_model("customers", "PointsEntry")
    TierChange = apps.get_model("customers", "TierChange")
    # Purchases' own lines and the daily expiry are nearly the whole ledger on a busy system: one statement
    # each, not a Python loop (which took over an hour for the 4.5 million expiry lines of the bench ledger).
    with schema_editor.connection.cursor() as cursor:
        for code, pattern in [
            ("purchase", r"^(?:Purchase|消费) #(\d+)$"),
            ("purchase_expired", r"^(?:Points of purchase #(\d+) expired|消费 #(\d+) 的积分已过期)$"),
        ]:
            cursor.execute(
                r"""UPDATE customers_pointsentry
                    SET reason_code = %s,
                        reason_params = jsonb_build_object(
                            'id', (regexp_replace(reason, '\D', '', 'g'))::bigint)
                    WHERE reason ~ %s""",
                [code, pattern],
            )
        cursor.execute(
            r"""UPDATE customers_pointsentry
                SET reason_code = 'expired',
                    reason_params = jsonb_build_object('date', substring(reason from '\d{4}-\d{2}-\d{2}'))
                WHERE reason ~ %s""",
            [r"^(?:Points earned before \d{4}-\d{2}-\d{2} expired|\d{4}-\d{2}-\d{2} 之前获得的积分已过期)$"],
        )
    for model, convert in ((PointsEntry, points_reason_from_text), (TierChange, tier_reason_from_text)):
        rows = model.objects.filter(reason_code="manual").exclude(reason="").only("pk", "reason")
        batch = []
        for row in rows.iterator(chunk_size=2000):
            row.reason_code, row.reason_params = convert(row.reason)
            batch.append(row)
            if len(batch) == 2000:
                model.objects.bulk_update(batch, ["reason_code", "reason_params"])
                batch = []
        model.objects.bulk_update(batch, ["reason_code", "reason_params"])


def codes_to_reasons(apps, schema_editor):
    """Going back: the text in English, as the old code would have written it with the UI in English."""
    PointsEntry = apps.get_model("customers", "PointsEntry")
    TierChange = apps.get_model("customers", "TierChange")
    for model, messages in ((PointsEntry, POINTS_MESSAGES), (TierChange, TIER_MESSAGES)):
        batch = []
        for row in model.objects.only("pk", "reason_code", "reason_params").iterator(chunk_size=2000):
            params = row.reason_params or {}
            text = messages[row.reason_code][0] % params if row.reason_code in messages else params.get("text", "")
            if params.get("note"):
                text = f"{text}: {params['note']}"
            if "done" in params:
                text = PARTLY_REVERSED[0] % {"reason": text, "done": params["done"], "asked": params["asked"]}
            row.reason = text[:255]
            batch.append(row)
            if len(batch) == 2000:
                model.objects.bulk_update(batch, ["reason"])
                batch = []
        model.objects.bulk_update(batch, ["reason"])


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0010_names_and_reason_codes"),
    ]

    operations = [
        migrations.RunPython(names_to_languages, migrations.RunPython.noop),
        migrations.RunPython(reasons_to_codes, codes_to_reasons),
    ]
