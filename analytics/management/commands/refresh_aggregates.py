"""Refresh the dashboards' tables now, in this process, printing a line per block: after an import, for the demo
(make demo), or on a machine without workers. The daily beat job runs the same refresh."""

from django.core.management.base import BaseCommand

from analytics.models import AggregateState
from analytics.services.aggregates import aggregates_refresh


class Command(BaseCommand):
    help = "Refresh the dashboards' pre-aggregated tables (what changed since the last refresh, or --full)."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="recompute from all history")

    def handle(self, *args, full: bool, **options):
        def progress(done: int, total: int) -> None:
            step = AggregateState.objects.filter(pk=1).values_list("step", flat=True).first() or ""
            self.stdout.write(f"{step} {done}/{total}".strip())

        result = aggregates_refresh(full=full, progress=progress)
        if result.get("skipped"):
            self.stdout.write(self.style.WARNING("skipped: another refresh is under way"))
            return
        months = result["months"]
        self.stdout.write(
            self.style.SUCCESS(
                f"{'full' if result['full'] else 'incremental'} refresh: {result['days']} days in "
                f"{result['blocks']} blocks, {months} months, {result['rows']} rows, {result['seconds']} s"
            )
        )
