"""Members with nothing for RETENTION_INACTIVE_YEARS have their personal data erased by the nightly job."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from crm.models import AuditAction, AuditEvent
from customers.models import Customer
from customers.personal import ERASED_NAME
from customers.services.retention import members_retention_apply
from customers.tests.factories import CustomerFactory
from interactions.models import Outcome
from interactions.services import transaction_record
from interactions.tests.factories import InteractionFactory

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2030, 3, 1, 12, 0, tzinfo=datetime.UTC)
LONG_AGO = datetime.datetime(2024, 1, 10, 12, 0, tzinfo=datetime.UTC)
LAST_YEAR = datetime.datetime(2029, 5, 1, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def members():
    """Joined long ago: one who did nothing since, one who bought last year, one who called last year, one whose
    only contact since was a call nobody answered; and one who joined last year."""
    with time_machine.travel(LONG_AGO, tick=False):
        idle, buyer, caller, unanswered = (
            CustomerFactory(name=n, registered_on=LONG_AGO.date()) for n in ("闲", "买", "话", "未接")
        )
    with time_machine.travel(LAST_YEAR, tick=False):
        newcomer = CustomerFactory(name="新")
        transaction_record(customer=buyer, amount=Decimal("50"))
        InteractionFactory(customer=caller, occurred_at=LAST_YEAR)
        InteractionFactory(customer=unanswered, occurred_at=LAST_YEAR, outcome=Outcome.NO_ANSWER)
    return {"idle": idle, "buyer": buyer, "caller": caller, "unanswered": unanswered, "newcomer": newcomer}


def erased_names(members: dict) -> set[str]:
    return {key for key, m in members.items() if Customer.objects.get(pk=m.pk).erased_at is not None}


def test_the_inactive_are_erased_and_the_active_kept(settings, members):
    settings.RETENTION_INACTIVE_YEARS = 3
    with time_machine.travel(NOW, tick=False):
        assert members_retention_apply() == 2
    assert erased_names(members) == {"idle", "unanswered"}
    idle = Customer.objects.get(pk=members["idle"].pk)
    assert idle.name == ERASED_NAME and idle.mobile == ""
    entry = AuditEvent.objects.get(customer_id=idle.pk, action=AuditAction.ERASE)
    assert entry.actor is None and entry.changes["reason"] == "retention"


def test_a_run_again_erases_nobody_twice(settings, members):
    settings.RETENTION_INACTIVE_YEARS = 3
    with time_machine.travel(NOW, tick=False):
        seen = []
        assert members_retention_apply(chunk=1, progress=seen.append) == 2
        assert seen[-1].erased == 2 and len(seen) >= len(members)
        assert members_retention_apply(chunk=1) == 0
    assert AuditEvent.objects.filter(action=AuditAction.ERASE).count() == 2


def test_retention_is_off_by_default(members):
    with time_machine.travel(NOW, tick=False):
        assert members_retention_apply() == 0
    assert erased_names(members) == set()


def test_the_command_prints_progress(settings, members, capsys):
    settings.RETENTION_INACTIVE_YEARS = 3
    settings.RETENTION_AUDIT_YEARS = 0
    with time_machine.travel(NOW, tick=False):
        call_command("apply_retention", "--members-only")
    out = capsys.readouterr().out
    assert "inactive since 2027-03-01" in out and "2 erased" in out and "members up to id" in out
    assert erased_names(members) == {"idle", "unanswered"}


def test_a_buyer_whose_purchase_facts_are_missing_is_kept(settings, members):
    from interactions.models import PurchaseStats

    PurchaseStats.objects.filter(customer=members["buyer"]).delete()  # until the nightly reconcile puts it back
    settings.RETENTION_INACTIVE_YEARS = 3
    with time_machine.travel(NOW, tick=False):
        members_retention_apply()
    assert "buyer" not in erased_names(members)
