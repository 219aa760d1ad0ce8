"""Import customers: upload a file, check the column mapping on a preview, run it as a job."""

import uuid
from pathlib import PurePath

from django.contrib.auth.decorators import permission_required
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm.jobs import job_create
from customers.forms import ImportMappingForm, ImportUploadForm
from customers.imports import ImportFileError, guess_mapping, read_table
from customers.tasks import customer_import_task

PREVIEW_ROWS = 5
MAX_UPLOAD = 200 * 1024 * 1024


def _may_import(view):
    view = permission_required("customers.add_customer", raise_exception=True)(view)
    return permission_required("customers.view_all_customers", raise_exception=True)(view)


@require_http_methods(["GET", "POST"])
@_may_import
def customer_import_upload_view(request: HttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        suffix = PurePath(upload.name).suffix.lower()
        if suffix not in (".csv", ".txt", ".xlsx", ".xlsm") or upload.size > MAX_UPLOAD:
            form.add_error("file", _("Upload a .csv or .xlsx file of at most 200 MB."))
        else:
            content = upload.read()
            try:
                read_table(content, upload.name)
            except ImportFileError as e:
                form.add_error("file", str(e))
            else:
                token = uuid.uuid4().hex
                default_storage.save(f"imports/{token}{suffix}", ContentFile(content))
                request.session[f"import-{token}"] = {"path": f"imports/{token}{suffix}", "filename": upload.name}
                return redirect("customers:import_mapping", token=token)
    return render(request, "customers/import_upload.html", {"form": form})


@require_http_methods(["GET", "POST"])
@_may_import
def customer_import_mapping_view(request: HttpRequest, token: str) -> HttpResponse:
    upload = request.session.get(f"import-{token}")
    if upload is None:
        raise Http404
    with default_storage.open(upload["path"], "rb") as f:
        headers, rows = read_table(f.read(), upload["filename"])
    rows = list(rows)
    form = ImportMappingForm(request.POST or None, headers=headers, initial_mapping=guess_mapping(headers))
    if request.method == "POST" and form.is_valid():
        del request.session[f"import-{token}"]
        job = job_create(
            kind="customer_import",
            params={**upload, "mapping": form.mapping(), "rows": len(rows)},
            created_by=request.user,
            queue=customer_import_task.delay,
        )
        return redirect(job)
    context = {
        "form": form,
        "headers": headers,
        "preview": [cells for _, cells in rows[:PREVIEW_ROWS]],
        "rows": len(rows),
        "filename": upload["filename"],
    }
    return render(request, "customers/import_mapping.html", context)
