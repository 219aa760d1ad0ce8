"""Analytics' tasks, retried on transient errors by the one policy in crm/celery.py; each claims its work first
(analytics/services/scoring.py), so a retried or redelivered task does nothing twice."""

from celery import shared_task

from analytics.services import aggregates, scoring


@shared_task(ignore_result=True)
def scoring_nightly_task() -> None:
    """Beat's nightly run; skipped (with a log line) while another run is under way."""
    from django.core.exceptions import ValidationError

    try:
        scoring.scoring_run_start()
    except ValidationError:
        scoring.logger.info("nightly scoring skipped: a run is already under way")


@shared_task(ignore_result=True)
def scoring_fit_task(run_id: int) -> None:
    scoring.scoring_fit(run_id=run_id)


@shared_task(ignore_result=True)
def scoring_chunk_task(chunk_id: int) -> None:
    scoring.scoring_chunk(chunk_id=chunk_id)


@shared_task(ignore_result=True)
def scoring_sweep_task() -> None:
    scoring.scoring_sweep()


@shared_task(ignore_result=True)
def scoring_member_task(customer_id: int) -> None:
    """Score one member again (after a merge); nothing if they are gone."""
    from customers.models import Customer

    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is not None:
        scoring.member_rescore(customer=customer)


@shared_task(ignore_result=True)
def aggregates_refresh_task(full: bool = False) -> None:
    """Beat's daily refresh of the dashboards' tables; skipped (logged) while another one holds the lock."""
    aggregates.aggregates_refresh(full=full)
