from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from crm.models import Job


def get_job_for_user(user, job_id: int) -> Job:
    """A job is seen by whoever started it, and by superusers."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or (job.created_by_id != user.pk and not user.is_superuser):
        raise Http404
    return job


@require_GET
def job_detail_view(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_job_for_user(request.user, job_id)
    template = "crm/job_detail.html#progress" if request.headers.get("HX-Request") else "crm/job_detail.html"
    return render(request, template, {"job": job})


@require_GET
def job_download_view(request: HttpRequest, job_id: int) -> FileResponse:
    job = get_job_for_user(request.user, job_id)
    if not job.result:
        raise Http404
    return FileResponse(job.result.open("rb"), as_attachment=True, filename=job.result.name.rsplit("/", 1)[-1])


@login_not_required
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
