import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics.models import ScoringRun
from analytics.services.scoring import scoring_chunk, scoring_fit, scoring_run_start
from interactions.models import Transaction, TransactionStatus

AS_OF = timezone.make_aware(datetime.datetime(2026, 6, 30, 12, 0))


def buy(customer, *, days_ago: float, amount: str = "100.00", refunded: str = "0", as_of=AS_OF) -> Transaction:
    """A purchase `days_ago` days before `as_of`, straight to the table (no points or facts: scoring reads
    purchases themselves)."""
    amount, refunded = Decimal(amount), Decimal(refunded)
    status = (
        TransactionStatus.REFUNDED
        if refunded == amount
        else TransactionStatus.PARTIALLY_REFUNDED
        if refunded
        else TransactionStatus.COMPLETED
    )
    return Transaction.objects.create(
        customer=customer,
        occurred_at=as_of - datetime.timedelta(days=days_ago),
        amount=amount,
        refunded_amount=refunded,
        status=status,
    )


def run_scoring(*, as_of=AS_OF, params: dict | None = None) -> ScoringRun:
    """A whole run in this process, as the workers would do it: the fit, then every chunk."""
    run = scoring_run_start(as_of=as_of, params=params)
    scoring_fit(run_id=run.pk)
    for pk in run.chunks.order_by("number").values_list("pk", flat=True):
        scoring_chunk(chunk_id=pk)
    run.refresh_from_db()
    return run


@pytest.fixture
def rfm_only():
    return {"parts": ["rfm"]}
