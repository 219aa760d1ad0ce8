"""The audit log page: managers and admins search who did what, to whom, from where.

It sits in crm/web (the top layer) because a search by CRM number needs the customers app: the platform's
audit table keeps only customer ids.
"""

import datetime
import json

from django import forms
from django.contrib.auth.decorators import permission_required
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from crm.audit import ArchiveError, audit_archive_check, audit_archives
from crm.lib import crm_number
from crm.lib.pagination import CappedPaginator
from crm.models import AuditAction, AuditArchive, AuditEvent
from customers.models import Customer, MergeRecord

PER_PAGE = 50
DETAILS_SHOWN = 160


class AuditSearchForm(forms.Form):
    customer = forms.CharField(label=_("CRM number"), required=False, max_length=40)
    user = forms.CharField(label=_("Staff member or API client"), required=False, max_length=150)
    action = forms.ChoiceField(label=_("Action"), required=False, choices=[("", _("Any"))] + AuditAction.choices)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs["class"] = (
                "form-select form-select-sm" if name == "action" else "form-control form-control-sm"
            )

    def clean_customer(self) -> int | None:
        text = self.cleaned_data["customer"].strip()
        if not text:
            return None
        try:
            number = crm_number.parse(text)
        except crm_number.InvalidCrmNumber:
            number = None
        if number is None:
            raise forms.ValidationError(_("This is not a valid CRM number."))
        return number

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end date is before the start date."))
        return data


def customer_ids(number: int) -> list[int]:
    """The customer a CRM number leads to (its survivor, if it was merged away), and every customer merged into
    it: their entries were recorded against their own ids, which a merge does not rewrite."""
    survivor = Customer.objects.filter(crm_number=number).values_list("pk", flat=True).first()
    if survivor is None:
        survivor = MergeRecord.objects.filter(merged_crm_number=number).values_list("survivor_id", flat=True).first()
    if survivor is None:
        return []
    ids, frontier = {survivor}, [survivor]
    while frontier:
        merged = AuditEvent.objects.filter(action=AuditAction.MERGE, customer_id__in=frontier)
        found = {int(m) for m in merged.values_list("changes__merged_id", flat=True) if m is not None} - ids
        ids |= found
        frontier = list(found)
    return sorted(ids)


def audit_search(data: dict) -> QuerySet[AuditEvent]:
    entries = AuditEvent.objects.all()
    if data.get("customer") is not None:
        entries = entries.filter(customer_id__in=customer_ids(data["customer"]))
    if data.get("user"):
        entries = entries.filter(Q(actor_name=data["user"]) | Q(api_client=data["user"]) | Q(target=data["user"]))
    if data.get("action"):
        entries = entries.filter(action=data["action"])
    zone = timezone.get_current_timezone()
    if data.get("since"):
        entries = entries.filter(at__gte=datetime.datetime.combine(data["since"], datetime.time.min, zone))
    if data.get("until"):
        next_day = data["until"] + datetime.timedelta(days=1)
        entries = entries.filter(at__lt=datetime.datetime.combine(next_day, datetime.time.min, zone))
    return entries.order_by("-at", "-id")


@require_GET
@permission_required("crm.view_auditevent", raise_exception=True)
def audit_log_view(request: HttpRequest) -> HttpResponse:
    form = AuditSearchForm(request.GET or None)
    entries = AuditEvent.objects.none()
    if not request.GET or form.is_valid():
        entries = audit_search(form.cleaned_data if request.GET else {})
    paginator = CappedPaginator(entries, PER_PAGE, cap=10_000)
    page = paginator.get_page(request.GET.get("page"))
    numbers = dict(
        Customer.objects.filter(pk__in={e.customer_id for e in page if e.customer_id}).values_list("pk", "crm_number")
    )
    for entry in page:
        entry.crm_number = numbers.get(entry.customer_id)
        entry.details = json.dumps(entry.changes, ensure_ascii=False, default=str) if entry.changes else ""
        # A role's whole permission list is hundreds of names: the row shows its start, the rest a click away.
        entry.details_short = entry.details[:DETAILS_SHOWN] + "…" if len(entry.details) > DETAILS_SHOWN else ""
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "archives": audit_archives()[:24]}
    return render(request, "crm/audit_log.html", context)


@require_GET
@permission_required("crm.view_auditevent", raise_exception=True)
def audit_archive_download_view(request: HttpRequest, archive_id: int) -> HttpResponse:
    """An archive file as it was written, after its SHA-256 is checked again (a changed file is not served)."""
    archive = get_object_or_404(AuditArchive, pk=archive_id)
    try:
        audit_archive_check(archive)
    except (ArchiveError, FileNotFoundError) as e:
        raise Http404(_("This archive file is missing or has been altered.")) from e
    name = archive.file.name.rsplit("/", 1)[-1]
    return FileResponse(archive.file.open("rb"), as_attachment=True, filename=name)
