"""Marketing reports: every segment's latest figures with the campaign leaderboard, and one segment's report.

The pages read the nightly segment snapshots and the campaigns' results snapshots; the charts fetch their
numbers from crm's chart endpoints (marketing/charts.py). Taking a snapshot by hand is the one write here.
"""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm.db_router import reading_from_replica, replica_reads
from marketing.access import REPORTS, get_segment_for_report
from marketing.rules import RuleError
from marketing.selectors import segment_latest_snapshot, segments_report_rows
from marketing.services.reports import segment_snapshot_take

COMPARE_DAYS = 30


@require_GET
@permission_required(REPORTS, raise_exception=True)
@replica_reads
def reports_view(request: HttpRequest) -> HttpResponse:
    rows = segments_report_rows(today=timezone.localdate(), compare_days=COMPARE_DAYS)
    return render(request, "marketing/reports.html", {"rows": rows, "compare_days": COMPARE_DAYS})


@require_GET
def segment_report_view(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = get_segment_for_report(request.user, segment_id)  # on the primary: a segment saved a moment ago
    with reading_from_replica():
        latest = segment_latest_snapshot(segment)
    context = {"segment": segment, "latest": latest, "query": f"segment={segment.pk}"}
    return render(request, "marketing/segment_report.html", context)


@require_POST
def segment_snapshot_view(request: HttpRequest, segment_id: int) -> HttpResponse:
    """Count the segment now (today's point, replaced if there is one), so a new segment need not wait a night."""
    segment = get_segment_for_report(request.user, segment_id)
    # Counting writes the segment's own count too: for those who may change segments, not every report reader.
    if not request.user.has_perm("marketing.change_segment"):
        raise PermissionDenied
    try:
        snapshot = segment_snapshot_take(segment=segment)
    except RuleError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("marketing:segment_report", segment.pk)
    messages.success(
        request,
        _("%(name)s counted: %(count)s members.") % {"name": segment.name, "count": f"{snapshot.members:,}"},
    )
    return redirect("marketing:segment_report", segment.pk)
