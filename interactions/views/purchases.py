from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from crm.audit import audit_record
from crm.lib import coupon_code
from crm.lib.forms import add_service_errors
from crm.lib.htmx import redirect_after_save, render_form_page
from crm.lib.money import format_money
from crm.models import AuditAction
from customers.access import get_customer_for_user
from interactions import services
from interactions.access import get_customer_for_purchase, get_transaction_for_refund
from interactions.exports import transactions_export
from interactions.forms.purchases import RecordPurchaseForm, RefundForm


@require_http_methods(["GET", "POST"])
def transaction_record_view(request: HttpRequest, number: int) -> HttpResponse:
    """The form on a page of its own; for htmx (the customer page's "Record purchase"), the form alone."""
    customer = get_customer_for_purchase(request.user, number)
    form = RecordPurchaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tx = services.transaction_record(customer=customer, actor=request.user, **form.service_kwargs())
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(
                request,
                _("Purchase of %(amount)s recorded; %(points)s points earned.")
                % {"amount": format_money(tx.amount, tx.currency), "points": tx.points_earned},
            )
            if tx.discount:
                messages.info(
                    request,
                    _("Coupon %(code)s took %(discount)s off.")
                    % {"code": coupon_code.display(tx.coupon_code), "discount": format_money(tx.discount, tx.currency)},
                )
            if tx.flagged:
                messages.warning(request, _("Flagged for review: %(reason)s") % {"reason": tx.flag_reason_text})
            return redirect_after_save(request, customer.get_absolute_url() + "?tab=purchases")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "customer": customer, "title": _("Record purchase"), "form_id": "record-purchase-form"}
    return render_form_page(request, "customers/customer_form_page.html", context, status=status)


@require_http_methods(["GET", "POST"])
def transaction_refund_view(request: HttpRequest, number: int, transaction_id: int) -> HttpResponse:
    """The confirmation: GET shows the purchase and the form (a page, or the form alone for htmx); only POST refunds."""
    tx = get_transaction_for_refund(request.user, number, transaction_id)
    customer = tx.customer
    form = RefundForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tx = services.transaction_refund(
                transaction=tx,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(
                request,
                _("Refund recorded; %(points)s points taken back in total.") % {"points": tx.points_reversed},
            )
            return redirect_after_save(request, customer.get_absolute_url() + "?tab=purchases")
    status = 400 if request.method == "POST" else 200
    context = {
        "form": form,
        "transaction": tx,
        "customer": customer,
        "title": _("Refund purchase #%(id)s") % {"id": tx.pk},
        "form_id": "refund-form",
        "details": "interactions/includes/refund_details.html",
    }
    return render_form_page(request, "interactions/refund_form.html", context, status=status)


@require_GET
def transaction_export_view(request: HttpRequest, number: int) -> FileResponse:
    customer = get_customer_for_user(request.user, number)
    if not request.user.has_perm("customers.export_customers"):
        raise PermissionDenied
    fmt = request.GET.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        return HttpResponseBadRequest(_("Choose CSV or Excel."))
    content, extension = transactions_export(customer=customer, fmt=fmt)
    audit_record(actor=request.user, customer_id=customer.pk, action=AuditAction.EXPORT, changes={"purchases": fmt})
    return FileResponse(content, as_attachment=True, filename=f"purchases-{customer.crm_number}.{extension}")
