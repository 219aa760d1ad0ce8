"""The scoring runs: the list with a "Run scoring now" button, and a run's page with its progress while it runs
and, once done, what it found (segments, movement, model fits and checks)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from analytics.models import ChurnSource, RfmSegment, RunTrigger, ScoringRun
from analytics.models.runs import UNFINISHED_RUN
from analytics.services.scoring import scoring_run_start
from crm.lib.htmx import is_fragment_request
from crm.queue import tell_if_waiting

RUNS_PER_PAGE = 20


@require_GET
@permission_required("analytics.view_scoringrun", raise_exception=True)
def run_list_view(request: HttpRequest) -> HttpResponse:
    page = Paginator(ScoringRun.objects.select_related("created_by").defer("fitted"), RUNS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    running = ScoringRun.objects.filter(status__in=UNFINISHED_RUN).defer("fitted").first()
    return render(request, "analytics/run_list.html", {"page": page, "running": running})


@require_POST
@permission_required("analytics.add_scoringrun", raise_exception=True)
def run_start_view(request: HttpRequest) -> HttpResponse:
    try:
        run = scoring_run_start(actor=request.user, trigger=RunTrigger.PAGE)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("analytics:run_list")
    if not tell_if_waiting(request):
        messages.success(request, _("Scoring started. This page shows its progress."))
    return redirect("analytics:run_detail", run_id=run.pk)


def _segment_rows(metrics: dict) -> list[dict]:
    counts = metrics.get("segments", {})
    total = sum(counts.values()) or 1
    return [
        {"segment": label, "members": counts.get(value, 0), "share": 100 * counts.get(value, 0) / total}
        for value, label in RfmSegment.choices
    ]


def _moves(metrics: dict) -> list[dict]:
    labels = dict(RfmSegment.choices)
    moves = metrics.get("movement", {}).get("moves", [])
    return [
        {"from": labels.get(m["from"], m["from"]), "to": labels.get(m["to"], m["to"]), "members": m["members"]}
        for m in moves
    ]


@require_GET
@permission_required("analytics.view_scoringrun", raise_exception=True)
def run_detail_view(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(ScoringRun.objects.select_related("created_by").defer("fitted"), pk=run_id)
    context = {"run": run, "unfinished": run.status in UNFINISHED_RUN}
    if is_fragment_request(request):
        if not context["unfinished"]:  # finished since the page was loaded: load it whole, with the results
            return HttpResponse(headers={"HX-Refresh": "true"})
        return render(request, "analytics/run_detail.html#progress", context)
    metrics = run.metrics
    context |= {
        "segments": _segment_rows(metrics),
        "moves": _moves(metrics)[:30],
        "rfm": metrics.get("rfm", {}),
        "clv": metrics.get("clv", {}),
        "churn": metrics.get("churn", {}),
        "baselines": [
            (dict(ChurnSource.choices).get(name, name), auc)
            for name, auc in metrics.get("churn", {}).get("baselines", {}).items()
        ],
        "best_baseline": dict(ChurnSource.choices).get(metrics.get("churn", {}).get("best_baseline", ""), ""),
        "recommendations": metrics.get("recommendations", {}),
        "chunks": run.chunks.order_by("number")[:200],
    }
    return render(request, "analytics/run_detail.html", context)
