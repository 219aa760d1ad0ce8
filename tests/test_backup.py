"""Backups (`manage.py backup` / `restore`): what a backup holds comes back whole in a fresh database, and a restore
never lands on a database that holds data unless told to.

The restored database is read through a second connection of its own (psycopg2), not through Django."""

import io
import subprocess
from decimal import Decimal

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg2 import sql

from crm.audit import audit_record
from crm.backup import BackupError, Target, tool_for
from crm.models import AuditAction
from customers.models import Customer
from customers.services.membership import points_earn, points_redeem
from customers.tests.factories import CustomerFactory, UserFactory
from interactions.services import transaction_record
from marketing.models import (
    Campaign,
    CampaignStatus,
    CouponOffer,
    DiscountKind,
    Message,
    MessageStatus,
    Segment,
    SkipReason,
)
from marketing.services import coupon_issue

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump reads only what is committed

# What must come back, read the same way on both sides. Ids are compared too: they are what rows point by.
CHECKS = {
    "customers": "SELECT id, crm_number, name, mobile, email, birthday, points_balance FROM customers_customer",
    "ledger": "SELECT id, customer_id, kind, points, balance_after, reference FROM customers_pointsentry",
    "balances": """SELECT c.crm_number, c.points_balance, coalesce(sum(p.points), 0) FROM customers_customer c
                   LEFT JOIN customers_pointsentry p ON p.customer_id = c.id GROUP BY c.id""",
    "purchases": "SELECT id, customer_id, amount, discount, coupon_code, points_earned FROM interactions_transaction",
    "coupons": "SELECT id, code, offer_id, customer_id, status, transaction_id FROM marketing_coupon",
    "messages": "SELECT id, campaign_id, customer_id, status, address, sent_at FROM marketing_message",
    "audit": "SELECT id, actor_id, actor_name, ip, customer_id, action, changes::text, at FROM crm_auditevent",
    "next CRM number": "SELECT last_value FROM customer_crm_number_seq",
}


def read(cursor) -> dict[str, list[tuple]]:  # noqa: ANN001
    found = {}
    for name, query in CHECKS.items():
        cursor.execute(query)
        found[name] = sorted(cursor.fetchall(), key=repr)
    return found


@pytest.fixture
def shop():
    """A small shop with something in every table a restore must bring back."""
    staff = UserFactory(username="service1", role="Service")
    wang, li, zhao = CustomerFactory(name="王小明"), CustomerFactory(name="李华"), CustomerFactory(name="Zoe Zhao")
    points_earn(customer=wang, points=500, reason="welcome", actor=staff)
    points_redeem(customer=wang, points=120, reason="gift", actor=staff)
    points_earn(customer=li, points=80, actor=staff)
    offer = CouponOffer.objects.create(name="立减20", kind=DiscountKind.AMOUNT, value=Decimal("20"))
    used = coupon_issue(offer=offer, customer=wang, actor=staff)
    coupon_issue(offer=offer, customer=li, actor=staff)
    transaction_record(customer=wang, amount=Decimal("150"), coupon_code=used.code)
    campaign = Campaign.objects.create(
        name="双十一", segment=Segment.objects.create(name="everyone"), status=CampaignStatus.SENT
    )
    for member, status in ((wang, MessageStatus.SENT), (li, MessageStatus.HELD_OUT)):
        Message.objects.create(campaign=campaign, customer=member, status=status, address=member.email)
    Message.objects.create(
        campaign=campaign, customer=zhao, status=MessageStatus.SKIPPED, skip_reason=SkipReason.NO_CONSENT
    )
    audit_record(actor=staff, customer_id=wang.pk, action=AuditAction.VIEW, changes={"fields": ["mobile"]})
    audit_record(actor=staff, customer_id=li.pk, action=AuditAction.UPDATE, changes={"name": ["李", "李华"]})
    return wang


@pytest.fixture
def fresh_database():
    """An empty database on the test server, dropped afterwards; its URL."""
    here = Target.from_alias()
    name = f"{connection.settings_dict['NAME']}_restored"
    admin = psycopg2.connect(dbname="postgres", host=here.host, port=here.port, user=here.user, password=here.password)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    password = f":{here.password}" if here.password else ""
    yield f"postgres://{here.user}{password}@{here.host}:{here.port or 5432}/{name}", name
    with admin.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    admin.close()


def run(command: str, *args, **options) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, **options)
    return out.getvalue()


def li_id(rows: dict) -> int:
    return next(row[4] for row in rows["audit"] if row[5] == "update" and "李华" in row[6])


def test_a_backup_restored_into_a_fresh_database_holds_the_same_customers_points_coupons_messages_and_audit(
    shop, fresh_database, tmp_path
):
    url, name = fresh_database
    archive = tmp_path / "crm.dump"
    assert "Backup written" in run("backup", str(archive))
    assert archive.stat().st_mode & 0o077 == 0  # personal data: readable by its owner only

    progress = run("restore", str(archive), database_url=url)

    assert "table" in progress and f"Restored into {name}" in progress
    with connection.cursor() as cur:
        before = read(cur)
    here = Target.from_alias()
    restored = psycopg2.connect(dbname=name, host=here.host, port=here.port, user=here.user, password=here.password)
    try:
        with restored.cursor() as cur:
            after = read(cur)
    finally:
        restored.close()
    assert after == before
    # ...and the data compared is the shop's, not two empty sides.
    wang = next(row for row in after["balances"] if row[0] == shop.crm_number)
    assert wang[1] == wang[2] == Customer.objects.get(pk=shop.pk).points_balance > 380  # 500 - 120 + the purchase's
    assert [len(after[k]) for k in ("customers", "coupons", "messages")] == [3, 2, 3]
    assert {("view", shop.pk), ("update", li_id(after))} <= {(row[5], row[4]) for row in after["audit"]}
    assert any(row[4] == "redeemed" for row in after["coupons"])


def test_a_restore_onto_a_database_holding_data_is_refused_and_with_force_replaces_it(shop, tmp_path):
    archive = tmp_path / "crm.dump"
    run("backup", str(archive))
    Customer.objects.filter(pk=shop.pk).update(name="changed after the backup")

    with pytest.raises(CommandError, match="is not empty: it holds .* add --force"):
        run("restore", str(archive))
    assert Customer.objects.get(pk=shop.pk).name == "changed after the backup"  # nothing was written

    run("restore", str(archive), force=True)
    connection.close()  # the tables were replaced under this connection
    assert Customer.objects.get(pk=shop.pk).name == "王小明"
    assert Customer.objects.count() == 3


def test_a_backup_never_overwrites_an_earlier_one_unless_forced(shop, tmp_path):
    archive = tmp_path / "crm.dump"
    archive.write_bytes(b"yesterday's backup")

    with pytest.raises(CommandError, match="exists already"):
        run("backup", str(archive))
    assert archive.read_bytes() == b"yesterday's backup"

    run("backup", str(archive), force=True)
    assert archive.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format


def test_a_backup_into_a_missing_directory_is_refused_with_the_reason(shop, tmp_path):
    with pytest.raises(CommandError, match="Cannot write .*No such file or directory"):
        run("backup", str(tmp_path / "no such directory" / "crm.dump"))
    assert list(tmp_path.iterdir()) == []


def test_without_the_tools_of_the_servers_version_the_backup_is_refused_and_writes_nothing(shop, tmp_path, monkeypatch):
    monkeypatch.setattr(Target, "server_major", lambda self: 99)  # a server newer than any installed pg_dump
    archive = tmp_path / "crm.dump"

    with pytest.raises(CommandError, match="No pg_dump of PostgreSQL 99 found.*postgresql-client-99"):
        run("backup", str(archive))
    assert list(tmp_path.iterdir()) == []


def test_the_tools_are_picked_by_the_servers_major_version(tmp_path):
    with connection.cursor():
        major = connection.pg_version // 10000

    found = tool_for("pg_restore", major)

    version = subprocess.run([found, "--version"], capture_output=True, text=True, check=True).stdout
    assert f"(PostgreSQL) {major}." in version
    with pytest.raises(BackupError, match=f"No pg_restore of PostgreSQL {major} found"):
        tool_for("pg_restore", major, dirs=lambda _major: iter([tmp_path]))
