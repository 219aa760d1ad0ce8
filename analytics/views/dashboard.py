"""The manager's dashboard and the category report: pages that place charts (analytics/charts) and the key
figures' tiles; every number comes from the pre-aggregated tables."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from analytics.charts.kpis import tiles
from analytics.forms import GeographyForm, PeriodForm, default_range
from analytics.models import AggregateState
from analytics.services.aggregates import aggregates_refresh_queue, aggregates_refresh_running
from crm.db_router import replica_reads
from crm.queue import tell_if_waiting


def _period(request: HttpRequest) -> tuple[PeriodForm, list | None]:
    """The filter form bound to the query, with the default range filled in so its fields show it."""
    data = request.GET.copy()
    start, end = default_range()
    data.setdefault("start", start.isoformat())
    data.setdefault("end", end.isoformat())
    form = PeriodForm(data)
    return form, tiles(form.cleaned_data["start"], form.cleaned_data["end"]) if form.is_valid() else None


@require_GET
@permission_required("analytics.view_dashboard", raise_exception=True)
@replica_reads
def dashboard_view(request: HttpRequest) -> HttpResponse:
    form, figures = _period(request)
    context = {
        "form": form,
        "tiles": figures,
        "geo_form": GeographyForm(request.GET),
        **_refresh_state(),
    }
    return render(request, "analytics/dashboard.html", context, status=200 if figures is not None else 400)


def _refresh_state() -> dict:
    state = AggregateState.objects.filter(pk=1).first()
    return {"state": state, "running": bool(state and state.total) and aggregates_refresh_running()}


@require_GET
@permission_required("analytics.view_dashboard", raise_exception=True)
def dashboard_progress_view(request: HttpRequest) -> HttpResponse:
    """The refresh's progress bar, polled by the page while a refresh is under way."""
    return render(request, "analytics/includes/refresh_progress.html", _refresh_state())


@require_GET
@permission_required("analytics.view_dashboard", raise_exception=True)
@replica_reads
def dashboard_tiles_view(request: HttpRequest) -> HttpResponse:
    """The key figures for the period the filter form names (htmx swaps them in without a reload)."""
    form, figures = _period(request)
    return render(
        request,
        "analytics/includes/kpi_tiles.html",
        {"form": form, "tiles": figures},
        status=200 if figures is not None else 400,
    )


@require_POST
@permission_required("analytics.refresh_aggregates", raise_exception=True)
def dashboard_refresh_view(request: HttpRequest) -> HttpResponse:
    if aggregates_refresh_queue():
        if not tell_if_waiting(request):
            messages.success(request, _("The figures are being refreshed; reload the page in a minute."))
    else:
        messages.info(request, _("A refresh is already running."))
    return redirect("analytics:dashboard")


@require_GET
@permission_required("analytics.view_marketing_reports", raise_exception=True)
@replica_reads
def category_report_view(request: HttpRequest) -> HttpResponse:
    return render(request, "analytics/category_report.html", {"state": AggregateState.objects.filter(pk=1).first()})
