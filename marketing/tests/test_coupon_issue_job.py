"""Issuing an offer to a segment as a job cut into chunks that any worker takes (crm/jobs.py): the job's own
worker and its helpers share the chunks, a chunk whose worker died is taken up again, and nobody gets two."""

import datetime
import threading
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from crm.jobs import job_chunks_split, job_claim, job_rerun, jobs_sweep
from crm.models import ChunkStatus, Job, JobChunk, JobKind, JobStatus
from customers.tests.factories import CustomerFactory
from marketing.models import Coupon, CouponOffer, Segment
from marketing.services import coupons_issue_parts
from marketing.tasks import coupons_issue_part_task, coupons_issue_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue(settings, marketing_user):
    settings.CRM_COUPON_ISSUE_CHUNK = 2
    settings.CRM_JOB_LEASE_SECONDS = 600
    members = CustomerFactory.create_batch(7)
    offer = CouponOffer.objects.create(name="welcome", value=Decimal("5"))
    segment = Segment.objects.create(name="all")
    job = Job.objects.create(
        kind=JobKind.COUPON_ISSUE, params={"offer": offer.pk, "segment": segment.pk}, created_by=marketing_user
    )
    return job, offer, members


def issued(offer: CouponOffer) -> list[int]:
    return sorted(Coupon.objects.filter(offer=offer).values_list("customer_id", flat=True))


def test_the_job_is_cut_into_chunks_and_queues_a_helper_for_each_but_the_one_it_takes(
    issue, django_capture_on_commit_callbacks
):
    job, offer, members = issue
    with django_capture_on_commit_callbacks() as queued:
        coupons_issue_task(job.pk)
    assert len(queued) == 3  # 4 chunks of at most 2 members: the job's worker takes one, 3 helpers are queued
    job.refresh_from_db()
    assert (job.status, job.message, job.done, job.total) == (JobStatus.DONE, "7 coupons issued.", 7, 7)
    chunks = JobChunk.objects.filter(job=job)
    assert [(c.status, c.processed, c.result) for c in chunks] == [(ChunkStatus.DONE, 2, 2)] * 3 + [
        (ChunkStatus.DONE, 1, 1)
    ]
    assert issued(offer) == sorted(m.pk for m in members)
    coupons_issue_part_task(job.pk)  # a helper that comes late finds nothing left
    assert issued(offer) == sorted(m.pk for m in members) and CouponOffer.objects.get().issued_count == 7


def test_a_helper_takes_the_chunks_nobody_holds_and_the_last_one_done_finishes_the_job(issue):
    job, offer, members = issue
    job = job_claim(job.pk)

    job_chunks_split(job, ids=sorted(m.pk for m in members), size=2)
    first = JobChunk.objects.get(job=job, number=1)
    JobChunk.objects.filter(pk=first.pk).update(status=ChunkStatus.RUNNING, claimed_at=timezone.now())  # held
    assert coupons_issue_parts(job_id=job.pk) == 3
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.done == 5  # the held chunk is not done, so neither is the job
    assert issued(offer) == sorted(m.pk for m in members)[2:]


def test_a_chunk_whose_worker_died_is_issued_by_the_job_taken_up_again_and_nobody_gets_two(issue):
    job, offer, members = issue
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        job = job_claim(job.pk)

        job_chunks_split(job, ids=sorted(m.pk for m in members), size=2)
        # A worker issued chunk 1, then died holding chunk 2; the rest never ran (their helpers were lost).
        coupons_issue_parts(job_id=job.pk)
    Coupon.objects.filter(offer=offer, customer__in=members[2:]).delete()
    JobChunk.objects.filter(job=job, number__gt=1).update(status=ChunkStatus.PENDING, processed=0, result=0)
    JobChunk.objects.filter(job=job, number=2).update(status=ChunkStatus.RUNNING, claimed_at=start)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, done=2, message="", finished_at=None)
    later = start + datetime.timedelta(seconds=601)
    with time_machine.travel(later, tick=False):
        assert jobs_sweep()["requeued"] == 1
        coupons_issue_task(job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts, JobChunk.objects.filter(job=job).count()) == (JobStatus.DONE, 2, 4)
    assert issued(offer) == sorted(m.pk for m in members)  # one each: chunk 1 was not issued again
    assert job.message == "7 coupons issued."


def test_running_a_finished_job_again_cuts_the_segment_anew(issue, marketing_user):
    job, offer, members = issue
    coupons_issue_task(job.pk)
    newcomer = CustomerFactory()
    assert job_rerun(job=Job.objects.get(pk=job.pk), actor=marketing_user)
    coupons_issue_task(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.total == 8
    assert issued(offer) == sorted([m.pk for m in members] + [newcomer.pk])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("cap", [None, 5], ids=["no-cap", "cap"])
def test_workers_issuing_side_by_side_give_one_each_and_keep_to_the_cap(issue, cap):
    """Without a cap the chunks share the offer's lock (issuing at once); with one they take turns."""
    job, offer, members = issue
    CouponOffer.objects.filter(pk=offer.pk).update(max_issued=cap)
    job = job_claim(job.pk)
    job_chunks_split(job, ids=sorted(m.pk for m in members), size=2)
    start = threading.Barrier(3)
    done: list[int] = []

    def worker() -> None:
        try:
            start.wait(timeout=10)
            done.append(coupons_issue_parts(job_id=job.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    job.refresh_from_db()
    assert sum(done) == 4 and job.status == JobStatus.DONE
    expected = len(members) if cap is None else cap
    assert len(issued(offer)) == len(set(issued(offer))) == expected
    assert CouponOffer.objects.get(pk=offer.pk).issued_count == expected
    assert job.message == f"{expected} coupons issued."
