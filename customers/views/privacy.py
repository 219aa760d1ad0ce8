"""Data-subject requests on one customer: the export of everything held on them, and erasure."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm.audit import audit_record
from crm.lib.forms import add_service_errors
from crm.models import AuditAction
from customers import data_requests
from customers.access import get_customer_for_user
from customers.forms.privacy import EraseForm, PersonalDataForm
from customers.services.erasure import customer_erase

CONTENT_TYPES = {"json": "application/json", "html": "text/html; charset=utf-8"}


@require_http_methods(["GET", "POST"])
@permission_required("customers.export_personal_data", raise_exception=True)
def personal_data_view(request: HttpRequest, number: int) -> HttpResponse:
    """GET says what the export holds; POST downloads it (a POST: each download is recorded)."""
    customer = get_customer_for_user(request.user, number)
    form = PersonalDataForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        fmt = form.cleaned_data["format"]
        export = data_requests.subject_export(customer)
        content = data_requests.as_json(export) if fmt == "json" else data_requests.as_html(export)
        audit_record(
            actor=request.user,
            customer_id=customer.pk,
            action=AuditAction.EXPORT,
            changes={"kind": "data_subject", "format": fmt},
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="customer-{customer.crm_number}-{stamp}.{fmt}"'
        return response
    status = 400 if form.is_bound else 200
    return render(request, "customers/personal_data.html", {"customer": customer, "form": form}, status=status)


@require_http_methods(["GET", "POST"])
@permission_required("customers.erase_customer", raise_exception=True)
def erase_view(request: HttpRequest, number: int) -> HttpResponse:
    customer = get_customer_for_user(request.user, number, write=True)
    if customer.is_erased:
        messages.info(request, _("This customer's personal data has already been erased."))
        return redirect(customer)
    form = EraseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            erased = customer_erase(
                customer=customer,
                actor=request.user,
                confirm_number=form.cleaned_data["confirm_number"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
            messages.error(request, _("The CRM number typed does not match: nothing was erased."))
        else:
            if erased:
                messages.success(request, _("The customer's personal data has been erased."))
            else:
                messages.info(request, _("This customer's personal data has already been erased."))
            return redirect(customer)
    status = 400 if form.is_bound else 200
    return render(request, "customers/erase.html", {"customer": customer, "form": form}, status=status)
