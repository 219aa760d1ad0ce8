"""Score every member now, in this process (the fit, then each chunk, a line of progress per chunk): for a first
look after an import, the demo, or a machine without workers. The nightly run and the page's button queue the same
run for the workers instead."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from analytics.models import RunStatus, RunTrigger, ScoringRun
from analytics.services import scoring


class Command(BaseCommand):
    help = "Score every member now (RFM, lifetime value, churn, recommendations), printing progress."

    def add_arguments(self, parser):
        parser.add_argument("--if-none", action="store_true", help="only if no run has finished yet (the demo)")
        parser.add_argument("--parts", default=",".join(scoring.PARTS), help="comma-separated: rfm,clv,churn,...")

    def handle(self, *args, if_none: bool, parts: str, **options):
        if if_none and ScoringRun.objects.filter(status=RunStatus.DONE).exists():
            return
        try:
            run = scoring.scoring_run_start(params={"parts": parts.split(",")}, queue=False, trigger=RunTrigger.COMMAND)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        scoring.scoring_fit(run_id=run.pk, queue=False)
        run.refresh_from_db()
        for number, pk in enumerate(run.chunks.order_by("number").values_list("pk", flat=True), 1):
            scoring.scoring_chunk(chunk_id=pk)
            self.stdout.write(f"scoring: {number}/{run.chunks_total} chunks")
        run.refresh_from_db()
        if run.status != RunStatus.DONE:
            raise CommandError(run.message or f"scoring run {run.pk} is {run.status}")
        self.stdout.write(self.style.SUCCESS(f"scored {run.members} members (run {run.pk})"))
