import datetime
import threading
import time

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from customers import services
from customers.models import Customer, PointsEntry, PointsKind
from customers.services import membership
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 1, 10, 10, 0, tzinfo=datetime.UTC)


def _balance(customer) -> int:
    return Customer.objects.get(pk=customer.pk).points_balance


def test_earning_points_writes_a_ledger_row_with_an_expiry_date(service_user, settings):
    settings.CRM_POINTS_EXPIRY_DAYS = 30
    customer = CustomerFactory()
    with time_machine.travel(START, tick=False):
        entry = membership.points_earn(customer=customer, points=120, reason="Welcome", actor=service_user)
    assert (entry.kind, entry.points, entry.balance_after, entry.remaining) == (PointsKind.EARNED, 120, 120, 120)
    assert entry.expires_on == datetime.date(2026, 2, 9)
    assert entry.created_by == service_user
    assert _balance(customer) == customer.points_balance == 120


def test_redeem_more_points_than_balance_is_refused():
    customer = CustomerFactory()
    membership.points_earn(customer=customer, points=50)
    with pytest.raises(ValidationError) as exc:
        membership.points_redeem(customer=customer, points=51)
    assert "the balance is only 50" in exc.value.message_dict["points"][0]
    assert _balance(customer) == 50
    assert PointsEntry.objects.filter(customer=customer).count() == 1


@pytest.mark.parametrize("points", [0, -5])
def test_redeem_zero_or_negative_points_is_refused(points):
    customer = CustomerFactory()
    membership.points_earn(customer=customer, points=50)
    with pytest.raises(ValidationError):
        membership.points_redeem(customer=customer, points=points)
    assert _balance(customer) == 50
    assert PointsEntry.objects.filter(customer=customer).count() == 1


def test_redeeming_records_a_row_and_lowers_the_balance():
    customer = CustomerFactory()
    membership.points_earn(customer=customer, points=50)
    entry = membership.points_redeem(customer=customer, points=30, reason="Voucher")
    assert (entry.kind, entry.points, entry.balance_after) == (PointsKind.REDEEMED, -30, 20)
    assert _balance(customer) == 20


def test_points_adjustment_needs_a_reason_and_cannot_go_below_zero(manager_user):
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as exc:
        membership.points_adjust(customer=customer, points=10, reason="  ", actor=manager_user)
    assert "reason" in exc.value.message_dict
    with pytest.raises(ValidationError):
        membership.points_adjust(customer=customer, points=-1, reason="Typo", actor=manager_user)
    up = membership.points_adjust(customer=customer, points=10, reason="Goodwill", actor=manager_user)
    down = membership.points_adjust(customer=customer, points=-4, reason="Typo", actor=manager_user)
    assert (up.kind, up.balance_after, down.balance_after) == (PointsKind.ADJUSTED, 10, 6)
    assert up.created_by == manager_user


def test_points_expire_after_the_configured_period_and_expiry_runs_once(settings):
    settings.CRM_POINTS_EXPIRY_DAYS = 365
    customer = CustomerFactory()
    with time_machine.travel(START, tick=False):
        membership.points_earn(customer=customer, points=100)
    with time_machine.travel(START + datetime.timedelta(days=364), tick=False):
        assert membership.points_expire_due() == 0
    with time_machine.travel(START + datetime.timedelta(days=365), tick=False):
        assert membership.points_expire_due() == 1
        assert membership.points_expire_due() == 0
    expired = PointsEntry.objects.get(customer=customer, kind=PointsKind.EXPIRED)
    assert (expired.points, expired.balance_after) == (-100, 0)
    assert _balance(customer) == 0


def test_spending_uses_the_oldest_points_first_so_only_unspent_old_points_expire(settings):
    settings.CRM_POINTS_EXPIRY_DAYS = 365
    customer = CustomerFactory()
    with time_machine.travel(START, tick=False):
        membership.points_earn(customer=customer, points=100)
    with time_machine.travel(START + datetime.timedelta(days=100), tick=False):
        membership.points_earn(customer=customer, points=50)
        membership.points_redeem(customer=customer, points=120)
    with time_machine.travel(START + datetime.timedelta(days=365), tick=False):
        assert membership.points_expire_due() == 0  # the old lot was spent
    assert _balance(customer) == 30
    with time_machine.travel(START + datetime.timedelta(days=465), tick=False):
        assert membership.points_expire_due() == 1
    assert _balance(customer) == 0


def test_reversal_takes_back_only_what_is_left_and_says_so():
    customer = CustomerFactory()
    membership.points_earn(customer=customer, points=80, reference="transaction:1")
    membership.points_redeem(customer=customer, points=50)
    entry = membership.points_reverse(customer=customer, points=80, reason="Refund", reference="transaction:1")
    assert (entry.kind, entry.points, entry.balance_after) == (PointsKind.REVERSED, -30, 0)
    assert "reversed 30 of 80 points" in entry.reason_text
    assert _balance(customer) == 0


def test_saving_the_profile_does_not_write_back_a_stale_balance(service_user):
    customer = services.customer_create(actor=service_user, name="王芳")
    stale = Customer.objects.get(pk=customer.pk)
    membership.points_earn(customer=customer, points=40)
    services.customer_update(customer=stale, actor=service_user, name="王芳芳")
    assert _balance(customer) == 40


def _wait_until_another_session_is_blocked(timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("the second redemption never waited for the first")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_redemptions_of_the_whole_balance_only_one_succeeds():
    customer = CustomerFactory()
    membership.points_earn(customer=customer, points=100)
    first_has_redeemed = threading.Event()
    outcomes = {}

    def first():
        # Holds its transaction open until the second desk is queued behind it.
        try:
            with transaction.atomic():
                membership.points_redeem(customer=Customer.objects.get(pk=customer.pk), points=100)
                first_has_redeemed.set()
                _wait_until_another_session_is_blocked()
            outcomes["first"] = "ok"
        finally:
            first_has_redeemed.set()
            connection.close()

    def second():
        try:
            stale = Customer.objects.get(pk=customer.pk)  # loaded while the balance still reads 100
            first_has_redeemed.wait(timeout=5)
            membership.points_redeem(customer=stale, points=100)
            outcomes["second"] = "ok"
        except ValidationError:
            outcomes["second"] = "refused"
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert outcomes == {"first": "ok", "second": "refused"}
    assert _balance(customer) == 0
    assert PointsEntry.objects.filter(customer=customer, kind=PointsKind.REDEEMED).count() == 1


@pytest.mark.parametrize(
    ("take", "says"),
    [
        (lambda c: membership.points_redeem(customer=c, points=60), "Cannot redeem 60 points"),
        (lambda c: membership.points_adjust(customer=c, points=-60, reason="x", actor=None), "Cannot take 60 points"),
    ],
)
def test_taking_more_than_the_balance_is_refused_on_the_points_field_and_writes_nothing(take, says):
    customer = CustomerFactory()
    membership.points_earn(customer=customer, points=50)
    with pytest.raises(ValidationError) as exc:
        take(customer)
    assert exc.value.message_dict["points"] == [f"{says}: the balance is only 50."]
    assert _balance(customer) == 50
    assert PointsEntry.objects.filter(customer=customer).count() == 1
    assert PointsEntry.objects.get(customer=customer).remaining == 50


def test_every_kind_of_entry_leaves_the_balance_at_its_last_balance_after_and_in_the_lots(settings):
    settings.CRM_POINTS_EXPIRY_DAYS = 30
    customer = CustomerFactory()
    with time_machine.travel(START, tick=False):
        membership.points_earn(customer=customer, points=100, reference="transaction:1")
    with time_machine.travel(START + datetime.timedelta(days=10), tick=False):
        membership.points_earn(customer=customer, points=40)
        membership.points_redeem(customer=customer, points=30)
        membership.points_adjust(customer=customer, points=5, reason="Goodwill", actor=None)
        membership.points_reverse(customer=customer, points=20, reason="Refund", reference="transaction:1")
    with time_machine.travel(START + datetime.timedelta(days=30), tick=False):
        membership.points_expire_due()
    entries = PointsEntry.objects.filter(customer=customer).order_by("at", "id")
    running = 0
    for entry in entries:
        running += entry.points
        assert entry.balance_after == running
    lots = sum(entries.values_list("remaining", flat=True))
    assert _balance(customer) == running == lots == 45
