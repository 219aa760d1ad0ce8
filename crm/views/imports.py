"""Import a table: upload a file, check the column mapping on a preview, run it as a job."""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from crm.forms import ImportMappingForm, ImportUploadForm
from crm.importers import IMPORTERS, importers_for
from crm.jobs import job_create
from crm.lib import tabular
from crm.lib.tables import ImportFileError, table_preview
from crm.models import Job, JobKind

PREVIEW_ROWS = 5
# What the upload page reads to refuse a broken file at once: a web request reads no further, the job reads all.
CHECK_ROWS = 1000
CHECK_BYTES = 1024 * 1024
SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")


@require_GET
def import_template_view(request: HttpRequest, kind: str) -> FileResponse:
    """A CSV to fill in: the header row an importer recognises, in the user's language."""
    importer = IMPORTERS.get(kind)
    if importer is None:
        raise Http404
    if not importer.allowed(request.user):
        raise PermissionDenied
    writer = tabular.CsvWriter()
    writer.write_row([str(label) for label, _aliases in importer.fields.values()])
    return FileResponse(writer.close(), as_attachment=True, filename=f"{kind}-template.csv")


@require_http_methods(["GET", "POST"])
def import_upload_view(request: HttpRequest) -> HttpResponse:
    importers = importers_for(request.user)
    if not importers:
        raise PermissionDenied
    form = ImportUploadForm(request.POST or None, request.FILES or None, importers=importers)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        suffix = PurePath(upload.name).suffix.lower()
        if suffix not in SUFFIXES:
            form.add_error("file", _("Upload a .csv or .xlsx file."))
        else:
            try:
                # The first rows only: a broken line there shows now; further on, the job reports it.
                _headers, _rows, count = table_preview(upload, upload.name, rows=CHECK_ROWS, max_bytes=CHECK_BYTES)
            except ImportFileError as e:
                form.add_error("file", str(e))
            else:
                token = uuid.uuid4().hex
                # Copied in chunks (a big upload is already a temporary file on disk), never read whole.
                path = default_storage.save(f"imports/{token}{suffix}", upload)
                request.session[f"import-{token}"] = {
                    "path": path,
                    "filename": upload.name,
                    "importer": form.cleaned_data["importer"],
                    "rows": count,
                }
                return redirect("import_mapping", token=token)
    return render(request, "crm/import_upload.html", {"form": form, "importers": importers})


@require_http_methods(["GET", "POST"])
def import_mapping_view(request: HttpRequest, token: str) -> HttpResponse:
    upload = request.session.get(f"import-{token}")
    if upload is None:
        raise Http404
    importer = IMPORTERS[upload["importer"]]
    if not importer.allowed(request.user):
        raise PermissionDenied
    with default_storage.open(upload["path"], "rb") as f:
        headers, preview, _count = table_preview(f, upload["filename"], rows=PREVIEW_ROWS, max_bytes=CHECK_BYTES)
    form = ImportMappingForm(request.POST or None, importer=importer, headers=headers)
    if request.method == "POST" and form.is_valid():
        del request.session[f"import-{token}"]
        job = job_create(
            kind=JobKind(f"{importer.kind}_import"),
            params={**upload, "mapping": form.mapping()},
            created_by=request.user,
        )
        return redirect(job)
    context = {
        "form": form,
        "importer": importer,
        "columns": form.columns(preview),
        "rows": upload["rows"],
        "checked_rows": CHECK_ROWS,
        "filename": upload["filename"],
    }
    return render(request, "crm/import_mapping.html", context)


def import_result(job: Job) -> dict | None:
    """What a finished import's page shows (stored on the job by crm.importers.import_outcome): the
    counts, the first bad rows with their reasons in the viewer's language, the members written."""
    outcome = job.params.get("outcome") if job.is_import and job.succeeded else None
    if not outcome:
        return None
    importer = IMPORTERS.get(job.params.get("importer"))
    language = get_language() or settings.LANGUAGE_CODE
    errors = [{**error, "reason": _said(error["reason"], language)} for error in outcome["errors"]]
    members = importer.members(outcome["members"]) if importer and importer.members else []
    return {
        **outcome,
        "errors": errors,
        "more_errors": outcome["failed"] > len(errors),
        "members": members,
        "members_list": importer.members_list() if importer and importer.members_list else None,
    }


def _said(reason: dict[str, str], language: str) -> str:
    """The reason in `language`, else its base language (zh for zh-hant), else the site's, else any."""
    for code in (language, language.split("-")[0], settings.LANGUAGE_CODE):
        if code in reason:
            return reason[code]
    return next(iter(reason.values()), "")
