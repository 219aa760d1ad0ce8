from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm.jobs import job_is_stale, job_may_rerun, job_rerun, job_waits_for_queue
from crm.models import Job
from crm.views.imports import import_result


def job_visible_to(user, job: Job) -> bool:
    """A job is seen by whoever started it, and by superusers."""
    return job.created_by_id == user.pk or user.is_superuser


def get_job_for_user(user, job_id: int) -> Job:
    job = Job.objects.filter(pk=job_id).first()
    if job is None or not job_visible_to(user, job):
        raise Http404
    return job


def get_job_to_rerun(user, job_id: int) -> Job:
    """The job, if this user may run it again (its starter, or a manager: crm.jobs.job_may_rerun)."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise Http404
    if not job_may_rerun(user, job):
        raise PermissionDenied
    return job


@require_GET
def job_detail_view(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_job_for_user(request.user, job_id)
    template = "crm/job_detail.html#progress" if request.headers.get("HX-Request") else "crm/job_detail.html"
    stale = not job.finished and job_is_stale(job)
    may_rerun = job_may_rerun(request.user, job) and (job.finished or stale)
    context = {
        "job": job,
        "may_rerun": may_rerun,
        "stale": stale,
        "waiting_for_queue": job_waits_for_queue(job),
        "import_result": import_result(job),
    }
    return render(request, template, context)


@require_POST
def job_rerun_view(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_job_to_rerun(request.user, job_id)
    if job_rerun(job=job, actor=request.user):
        messages.success(request, _("Job #%(id)d has been queued to run again.") % {"id": job.pk})
    else:
        messages.error(
            request, _("Job #%(id)d is still queued or running; run it again once it has finished.") % {"id": job.pk}
        )
    # A manager may run again a job whose page only its starter sees.
    return redirect(job) if job_visible_to(request.user, job) else redirect("home")


@require_GET
def job_download_view(request: HttpRequest, job_id: int) -> FileResponse:
    job = get_job_for_user(request.user, job_id)
    if not job.result:
        raise Http404
    return FileResponse(job.result.open("rb"), as_attachment=True, filename=job.result.name.rsplit("/", 1)[-1])


@login_not_required
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
