"""Scoring runs on hand-made histories with known answers: RFM scores and segments, ties, one-purchase members,
refunds, members with no purchase, members merged after a run; the chunks, their claims, and movement between
runs."""

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from analytics.models import (
    ChunkStatus,
    MemberScore,
    RfmGridCell,
    RfmSegment,
    RunStatus,
    ScoreHistory,
    ScoringChunk,
    ScoringRun,
)
from analytics.services import scoring
from analytics.tasks import scoring_member_task
from analytics.tests.conftest import AS_OF, buy, run_scoring
from customers.services.merge import customer_merge
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def ladder() -> list:
    """Ten members: member k bought k times (k × 10.00 each), the last time k days ago. So recency, frequency and
    spend all rank them 1..10, the quintile edges are the 2nd, 4th, 6th and 8th values, and:
    k = 1, 2: R5 F1 M1 (New); 3, 4: R4 F2 M2 (Potential Loyalist); 5, 6: R3 F3 M3 (Need Attention);
    7, 8: R2 F4 M4 (At Risk); 9, 10: R1 F5 M5 (Can't Lose)."""
    members = []
    for k in range(1, 11):
        member = CustomerFactory(name=f"Ladder {k}")
        buy(member, days_ago=k, amount=f"{10 * k}.00")
        for extra in range(k - 1):
            buy(member, days_ago=100 + extra, amount=f"{10 * k}.00")
        members.append(member)
    return members


def scores(members) -> list[tuple]:
    by_pk = {s.customer_id: s for s in MemberScore.objects.filter(customer__in=members)}
    return [(by_pk[m.pk].r, by_pk[m.pk].f, by_pk[m.pk].m, by_pk[m.pk].segment) for m in members]


def test_rfm_scores_and_segments_on_a_known_ladder(rfm_only):
    members = ladder()
    run = run_scoring(params=rfm_only)
    assert run.status == RunStatus.DONE
    S = RfmSegment
    assert scores(members) == [
        (5, 1, 1, S.NEW),
        (5, 1, 1, S.NEW),
        (4, 2, 2, S.POTENTIAL_LOYALIST),
        (4, 2, 2, S.POTENTIAL_LOYALIST),
        (3, 3, 3, S.NEED_ATTENTION),
        (3, 3, 3, S.NEED_ATTENTION),
        (2, 4, 4, S.AT_RISK),
        (2, 4, 4, S.AT_RISK),
        (1, 5, 5, S.CANT_LOSE),
        (1, 5, 5, S.CANT_LOSE),
    ]
    tenth = MemberScore.objects.get(customer=members[9])
    assert (tenth.recency_days, tenth.frequency, tenth.monetary) == (10, 10, Decimal("1000.00"))
    assert run.metrics["rfm"]["edges"]["recency"] == [2, 4, 6, 8]
    assert run.metrics["segments"][S.CANT_LOSE] == 2
    assert ScoreHistory.objects.filter(run=run).count() == 10


def test_members_with_the_same_history_get_the_same_scores(rfm_only):
    members = ladder()
    twin = CustomerFactory(name="Twin of 5")
    buy(twin, days_ago=5, amount="50.00")
    for extra in range(4):
        buy(twin, days_ago=100 + extra, amount="50.00")
    run_scoring(params=rfm_only)
    assert scores([twin]) == scores([members[4]])


def test_one_purchase_members_and_members_with_no_purchase(rfm_only):
    once = CustomerFactory()
    buy(once, days_ago=3, amount="20.00")
    never = CustomerFactory()
    only_refunded = CustomerFactory()
    buy(only_refunded, days_ago=2, amount="80.00", refunded="80.00")
    run = run_scoring(params=rfm_only)

    assert MemberScore.objects.get(customer=once).frequency == 1
    for member in (never, only_refunded):
        score = MemberScore.objects.get(customer=member)
        assert (score.segment, score.r, score.f, score.m, score.recency_days) == (
            RfmSegment.NO_PURCHASE,
            None,
            None,
            None,
            None,
        )
    assert run.metrics["segments"][RfmSegment.NO_PURCHASE] == 2
    assert run.metrics["rfm"]["buyers"] == 1


def test_refunds_are_deducted_and_a_fully_refunded_order_is_not_an_order(rfm_only):
    member = CustomerFactory()
    buy(member, days_ago=10, amount="100.00")
    buy(member, days_ago=20, amount="50.00", refunded="20.00")
    buy(member, days_ago=30, amount="80.00", refunded="80.00")
    buy(member, days_ago=400, amount="999.00")  # outside the 365-day window
    run_scoring(params=rfm_only)
    score = MemberScore.objects.get(customer=member)
    assert (score.frequency, score.monetary, score.recency_days) == (2, Decimal("130.00"), 10)


def test_the_window_is_a_setting_of_the_run(rfm_only):
    member = CustomerFactory()
    buy(member, days_ago=10, amount="100.00")
    buy(member, days_ago=60, amount="50.00")
    run = run_scoring(params=rfm_only | {"window_days": 30})
    score = MemberScore.objects.get(customer=member)
    assert (score.frequency, score.monetary) == (1, Decimal("100.00"))
    assert run.params["window_days"] == 30


def test_an_admins_change_to_the_grid_is_used_by_the_next_run(rfm_only):
    members = ladder()
    RfmGridCell.objects.filter(r=5, fm=1).update(segment=RfmSegment.PROMISING)
    run_scoring(params=rfm_only)
    assert scores(members[:1]) == [(5, 1, 1, RfmSegment.PROMISING)]


def test_movement_between_runs_is_counted_and_kept_per_member(rfm_only):
    members = ladder()
    first = run_scoring(params=rfm_only)
    later = AS_OF + datetime.timedelta(days=30)
    # a month on, the two Can't Lose members have still not bought; one New member bought 9 more times
    for _ in range(9):
        buy(members[0], days_ago=1, amount="100.00", as_of=later)
    second = run_scoring(as_of=later, params=rfm_only)
    moves = {(m["from"], m["to"]): m["members"] for m in second.metrics["movement"]["moves"]}
    assert second.metrics["movement"]["previous_run"] == first.pk
    assert moves[(RfmSegment.NEW, RfmSegment.CHAMPIONS)] == 1
    history = list(
        ScoreHistory.objects.filter(customer=members[0]).order_by("run__as_of").values_list("segment", flat=True)
    )
    assert history == [RfmSegment.NEW, RfmSegment.CHAMPIONS]


def test_a_member_merged_after_a_run_is_scored_anew_with_both_histories(
    rfm_only, manager_user, django_capture_on_commit_callbacks
):
    members = ladder()
    run = run_scoring(params=rfm_only)
    survivor, other = members[0], members[9]  # 1 purchase 1 day ago; 10 purchases
    with django_capture_on_commit_callbacks() as queued:
        customer_merge(survivor=survivor, other=other, actor=manager_user)
    assert len(queued) == 1  # the survivor's scoring, for a worker
    scoring_member_task(survivor.pk)

    score = MemberScore.objects.get(customer=survivor)
    assert (score.frequency, score.recency_days) == (11, 1)
    assert (score.r, score.f) == (5, 5)  # against the run's edges
    assert score.segment == RfmSegment.CHAMPIONS
    assert not MemberScore.objects.filter(customer_id=other.pk).exists()
    # the run's snapshot stays as the run saw it, and only the survivor's row remains
    assert list(ScoreHistory.objects.filter(customer=survivor).values_list("run", "segment")) == [
        (run.pk, RfmSegment.NEW)
    ]
    assert ScoreHistory.objects.filter(run=run).count() == 9


def test_members_are_split_into_chunks_and_each_is_scored_once(rfm_only, settings):
    settings.CRM_SCORING_CHUNK = 3
    members = ladder()
    run = run_scoring(params=rfm_only)
    assert run.chunks_total == 4 == run.chunks_done
    assert run.members == 10
    assert sorted(ScoreHistory.objects.filter(run=run).values_list("customer_id", flat=True)) == sorted(
        m.pk for m in members
    )
    assert scores(members)[9] == (1, 5, 5, RfmSegment.CANT_LOSE)  # edges from everyone, not from the chunk


def test_a_killed_chunk_is_taken_up_after_its_lease_and_nobody_is_scored_twice(rfm_only, settings):
    settings.CRM_SCORING_CHUNK = 3
    members = ladder()
    run = scoring.scoring_run_start(as_of=AS_OF, params=rfm_only)
    scoring.scoring_fit(run_id=run.pk)
    first, *others = run.chunks.order_by("number")
    now = timezone.now()
    # a worker claimed the first chunk and died
    ScoringChunk.objects.filter(pk=first.pk).update(status=ChunkStatus.RUNNING, claimed_at=now, attempts=1)
    for chunk in others:
        scoring.scoring_chunk(chunk_id=chunk.pk)
    scoring.scoring_chunk(chunk_id=first.pk)  # a second delivery within the lease does nothing
    run.refresh_from_db()
    assert run.status == RunStatus.SCORING and run.chunks_done == 3

    with time_machine.travel(now + datetime.timedelta(seconds=settings.CRM_SCORING_LEASE_SECONDS + 1), tick=False):
        assert scoring.scoring_sweep()["chunks"] == 1
        scoring.scoring_chunk(chunk_id=first.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.members == 10
    assert ScoreHistory.objects.filter(run=run).count() == 10
    assert MemberScore.objects.filter(customer__in=members).count() == 10


def test_a_worker_that_lost_its_chunk_does_not_write_it(rfm_only, settings, monkeypatch):
    settings.CRM_SCORING_CHUNK = 100
    ladder()
    run = scoring.scoring_run_start(as_of=AS_OF, params=rfm_only)
    scoring.scoring_fit(run_id=run.pk)
    chunk = run.chunks.get()
    real = scoring.score_members
    later = timezone.now() + datetime.timedelta(seconds=settings.CRM_SCORING_LEASE_SECONDS + 1)
    taken_over = []

    def slow_worker(fitted, **kwargs):
        scored = real(fitted, **kwargs)
        if not taken_over:  # while the first worker scores, its lease lapses and another takes the chunk
            taken_over.append(True)
            with time_machine.travel(later, tick=False):
                scoring.scoring_chunk(chunk_id=chunk.pk)
            scored.scores[0]["frequency"] = 999  # what the first worker would write, were it allowed
        return scored

    monkeypatch.setattr(scoring, "score_members", slow_worker)
    scoring.scoring_chunk(chunk_id=chunk.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.chunks_done == 1 and run.members == 10
    assert not MemberScore.objects.filter(frequency=999).exists()
    assert ScoreHistory.objects.filter(run=run).count() == 10


def test_a_second_run_is_refused_while_one_is_under_way_and_nothing_is_written(rfm_only):
    scoring.scoring_run_start(as_of=AS_OF, params=rfm_only)
    with pytest.raises(ValidationError, match="already under way"):
        scoring.scoring_run_start(as_of=AS_OF, params=rfm_only)
    assert ScoringRun.objects.count() == 1


@pytest.mark.parametrize(
    "params",
    [{"window_days": 0}, {"window_days": "365"}, {"discount_rate": 1.5}, {"parts": ["astrology"]}, {"colour": 1}],
)
def test_bad_settings_are_refused_with_a_reason_and_nothing_is_written(params):
    with pytest.raises(ValidationError):
        scoring.scoring_run_start(params=params)
    assert not ScoringRun.objects.exists()


def test_a_stale_fit_is_queued_again_and_failed_after_three_attempts(rfm_only, settings):
    run = scoring.scoring_run_start(as_of=AS_OF, params=rfm_only)
    now = timezone.now()
    ScoringRun.objects.filter(pk=run.pk).update(status=RunStatus.FITTING, started_at=now, heartbeat_at=now, attempts=1)
    later = now + datetime.timedelta(seconds=settings.CRM_SCORING_LEASE_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        assert scoring.scoring_sweep()["fits"] == 1
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED
    ScoringRun.objects.filter(pk=run.pk).update(status=RunStatus.FITTING, heartbeat_at=now, attempts=3)
    with time_machine.travel(later, tick=False):
        assert scoring.scoring_sweep()["failed"] == 1
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "3 times" in run.message


def test_the_command_scores_everyone_in_this_process_with_a_line_per_chunk(settings):
    settings.CRM_SCORING_CHUNK = 4
    members = ladder()
    out = io.StringIO()
    call_command("run_scoring", "--parts", "rfm", stdout=out)
    assert "scoring: 3/3 chunks" in out.getvalue() and "scored 10 members" in out.getvalue()
    assert MemberScore.objects.filter(customer__in=members).count() == 10
    call_command("run_scoring", "--if-none", stdout=out)  # the demo's call: a run is done, nothing more
    assert ScoringRun.objects.count() == 1


def test_the_command_is_refused_while_a_run_is_under_way_and_writes_nothing(rfm_only):
    scoring.scoring_run_start(as_of=AS_OF, params=rfm_only)
    with pytest.raises(CommandError, match="already under way"):
        call_command("run_scoring", stdout=io.StringIO())
    assert ScoringRun.objects.count() == 1 and not MemberScore.objects.exists()


def test_rfm_alone_reads_a_lighter_query_that_counts_exactly_as_the_full_one():
    members = ladder()
    member = CustomerFactory()
    buy(member, days_ago=10, amount="100.00")
    buy(member, days_ago=20, amount="50.00", refunded="20.00")
    buy(member, days_ago=30, amount="80.00", refunded="80.00")
    buy(member, days_ago=363.54, amount="7.00")  # 23:00 on the window's first day (364 days before AS_OF)
    buy(member, days_ago=364.54, amount="9.00")  # 23:00 the day before it
    fields = ("recency_days", "frequency", "monetary", "r", "f", "m", "segment")

    def scored(parts):
        run = run_scoring(params={"parts": parts})
        ScoringRun.objects.filter(pk=run.pk).update(as_of=AS_OF - datetime.timedelta(days=1))  # the next is later
        return list(MemberScore.objects.filter(customer__in=[*members, member]).order_by("pk").values_list(*fields))

    light, full = scored(["rfm"]), scored(["rfm", "clv"])
    assert light == full
    assert MemberScore.objects.get(customer=member).frequency == 3


def test_the_command_records_itself_as_the_trigger():
    call_command("run_scoring", "--parts", "rfm", stdout=io.StringIO())
    assert ScoringRun.objects.get().trigger == "command"
