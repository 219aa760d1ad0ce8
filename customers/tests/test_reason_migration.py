"""The data migrations that turned stored reason texts (English or Chinese) into codes with parameters."""

import importlib

import pytest
from django.apps import apps as current_apps
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import translation

from customers.models import PointsEntry, PointsReason, Tier, TierChange
from customers.tests.factories import CategoryFactory, CustomerFactory, TierFactory
from interactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db

customers_0011 = importlib.import_module("customers.migrations.0011_reason_codes_from_text")
interactions_0008 = importlib.import_module("interactions.migrations.0008_flag_reason_codes_from_text")


def _old_apps(app: str, migration: str, model: str, field: str):
    """The models as they were before `migration`, with the old text column put back for this test
    (the test's transaction takes it away again)."""
    state = MigrationLoader(connection).project_state((app, migration), at_end=False)
    old = state.apps.get_model(app, model)
    with connection.schema_editor(atomic=False) as editor:
        editor.add_field(old, old._meta.get_field(field))
    with connection.cursor() as cursor:  # rows the current models write leave it out
        cursor.execute(f"ALTER TABLE {old._meta.db_table} ALTER COLUMN {field} SET DEFAULT ''")
    return state.apps


@pytest.mark.parametrize(
    ("text", "code", "params"),
    [
        ("Purchase #17958", "purchase", {"id": 17958}),
        ("消费 #27", "purchase", {"id": 27}),
        ("Points of purchase #31 expired", "purchase_expired", {"id": 31}),
        ("消费 #27 的积分已过期", "purchase_expired", {"id": 27}),
        ("Points earned before 2025-04-30 expired", "expired", {"date": "2025-04-30"}),
        ("2025-04-30 之前获得的积分已过期", "expired", {"date": "2025-04-30"}),
        ("Refund of 1,500.00 on purchase #9", "refund", {"amount": "1500.00", "id": 9}),
        ("消费 #9 退款 1,500.00: 尺码不合适", "refund", {"amount": "1500.00", "id": 9, "note": "尺码不合适"}),
        ("Merged with 1000-0017 (+120 points)", "merged", {"number": 10000017, "points": 120}),
        ("与 1000-0017 合并（+120 积分）", "merged", {"number": 10000017, "points": 120}),
        (
            "Refund of 80.00 on purchase #4 (reversed 30 of 80 points; the rest were already used)",
            "refund",
            {"amount": "80.00", "id": 4, "done": 30, "asked": 80},
        ),
        ("退货（应扣回 80 积分，实扣 30；其余积分已使用）", "manual", {"text": "退货", "done": 30, "asked": 80}),
        ("开卡礼", "manual", {"text": "开卡礼"}),
        ("Purchase #12 and a bit", "manual", {"text": "Purchase #12 and a bit"}),
        ("", "manual", {}),
    ],
)
def test_old_points_reasons_in_either_language_become_codes(text, code, params):
    assert customers_0011.points_reason_from_text(text) == (code, params)


@pytest.mark.parametrize(
    ("text", "code", "params"),
    [
        ("Spend 2,100.00 in the last 365 days", "spend", {"spend": "2100.00", "days": 365}),
        ("近 365 天消费 2,100.00", "spend", {"spend": "2100.00", "days": 365}),
        ("Merged with 1000-0017", "merged", {"number": 10000017}),
        ("与 1000-0017 合并", "merged", {"number": 10000017}),
        ("升级赠送", "manual", {"text": "升级赠送"}),
    ],
)
def test_old_tier_change_reasons_in_either_language_become_codes(text, code, params):
    assert customers_0011.tier_reason_from_text(text) == (code, params)


def test_the_migration_converts_stored_rows_and_they_read_in_either_language():
    old = _old_apps("customers", "0011_reason_codes_from_text", "PointsEntry", "reason")
    TierChange_ = old.get_model("customers", "TierChange")
    with connection.schema_editor(atomic=False) as editor:
        editor.add_field(TierChange_, TierChange_._meta.get_field("reason"))
    PointsEntry_ = old.get_model("customers", "PointsEntry")
    customer = CustomerFactory()
    entry = {"customer_id": customer.pk, "kind": "earned", "points": 1, "balance_after": 1}
    rows = {
        text: PointsEntry_.objects.create(**entry, reason=text)
        for text in (
            "Purchase #17958",
            "消费 #27 的积分已过期",
            "Refund of 50.00 on purchase #3: Damaged",
            "开卡礼",
            "Points earned before 2025-01-31 expired",
            "2025-02-28 之前获得的积分已过期",
        )
    }
    change = TierChange_.objects.create(customer_id=customer.pk, kind="upgrade", reason="近 365 天消费 2,100.00")

    customers_0011.reasons_to_codes(old, _Editor())

    read = {text: PointsEntry.objects.get(pk=row.pk) for text, row in rows.items()}
    assert read["Purchase #17958"].reason_code == PointsReason.PURCHASE
    expired = [read["Points earned before 2025-01-31 expired"], read["2025-02-28 之前获得的积分已过期"]]
    assert [(e.reason_code, e.reason_params) for e in expired] == [
        (PointsReason.EXPIRED, {"date": "2025-01-31"}),
        (PointsReason.EXPIRED, {"date": "2025-02-28"}),
    ]
    with translation.override("en"):
        assert read["消费 #27 的积分已过期"].reason_text == "Points of purchase #27 expired"
        assert read["Refund of 50.00 on purchase #3: Damaged"].reason_text == "Refund of 50.00 on purchase #3: Damaged"
        assert read["开卡礼"].reason_text == "开卡礼"
        assert TierChange.objects.get(pk=change.pk).reason_text == "Spend 2,100.00 in the last 365 days"
    with translation.override("zh-hans"):
        assert read["Purchase #17958"].reason_text != "Purchase #17958"


class _Editor:
    connection = connection


def test_old_flag_reasons_become_codes_and_unknown_text_is_kept():
    old = _old_apps("interactions", "0008_flag_reason_codes_from_text", "Transaction", "flag_reason")
    both = TransactionFactory(flagged=True)
    unknown = TransactionFactory(flagged=True)
    Transaction_ = old.get_model("interactions", "Transaction")
    Transaction_.objects.filter(pk=both.pk).update(
        flag_reason="金额超过该客户平均客单价 1,300.00 的 5 倍; 6 purchases within 10 minutes"
    )
    Transaction_.objects.filter(pk=unknown.pk).update(flag_reason="金额远高于该客户平时的消费")

    interactions_0008.text_to_codes(old, _Editor())

    both.refresh_from_db()
    unknown.refresh_from_db()
    assert [r["code"] for r in both.flag_reasons] == ["large_amount", "burst"]
    with translation.override("en"):
        assert both.flag_reason_text == (
            "Amount is over 5× the customer's average order of 1,300.00; 6 purchases within 10 minutes"
        )
        assert unknown.flag_reason_text == "金额远高于该客户平时的消费"


def test_existing_names_go_to_the_language_they_are_written_in_and_stay_the_fallback():
    gold, plain = TierFactory(name="金卡"), TierFactory(name="Silver")
    shoes = CategoryFactory(name="Shoes")
    customers_0011.names_to_languages(current_apps, _Editor())
    gold.refresh_from_db()
    plain.refresh_from_db()
    shoes.refresh_from_db()
    assert (gold.name_zh_hans, gold.name_en, gold.name) == ("金卡", "", "金卡")
    assert (plain.name_zh_hans, plain.name_en) == ("", "Silver")
    assert shoes.name_en == "Shoes"
    with translation.override("en"):
        assert str(Tier.objects.get(pk=gold.pk)) == "金卡"  # no English name yet: the one there is
