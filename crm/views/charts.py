"""Every registered chart's numbers (crm/charts.py), as JSON for the chart and its table, and as CSV.

Both answer behind the chart's own permission, which is its page's; bad query parameters answer 400 with the
reasons (the same form the page's filters use), an unknown chart 404.
"""

import csv
import io

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from crm import charts
from crm.db_router import reading_from_replica
from crm.lib.tabular import inert


def _chart_data(request: HttpRequest, key: str) -> tuple[charts.Chart, charts.ChartData | None, dict]:
    chart = charts.get(key)
    if chart is None:
        raise Http404
    if not request.user.has_perm(chart.permission):
        raise PermissionDenied
    params: dict = {}
    if chart.form is not None:
        form = chart.form(request.GET)
        if not form.is_valid():
            return chart, None, {field: [str(e) for e in errors] for field, errors in form.errors.items()}
        params = form.cleaned_data
    with reading_from_replica():  # dashboards' and reports' numbers: the replica's, if there is one
        return chart, chart.build(params), {}


@require_GET
def chart_json_view(request: HttpRequest, key: str) -> HttpResponse:
    chart, data, errors = _chart_data(request, key)
    if data is None:
        return JsonResponse({"errors": errors}, status=400)
    return JsonResponse({"key": chart.key, "title": str(chart.title), **data.as_json()})


@require_GET
def chart_csv_view(request: HttpRequest, key: str) -> HttpResponse:
    chart, data, errors = _chart_data(request, key)
    if data is None:
        lines = [f"{field}: {'; '.join(messages)}" for field, messages in errors.items()]
        return HttpResponse("\n".join(lines), status=400, content_type="text/plain; charset=utf-8")
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([inert(str(column.label)) for column in data.columns])
    for row in data.as_json()["rows"]:
        writer.writerow([inert(value) for value in row])
    # UTF-8 with BOM: Excel then opens Chinese text correctly.
    response = HttpResponse("\ufeff" + text.getvalue(), content_type="text/csv; charset=utf-8")
    filename = f"{chart.key}-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
