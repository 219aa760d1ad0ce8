from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm.lib.forms import add_service_errors
from crm.lib.htmx import redirect_after_save, render_form_page
from customers.access import get_customer_for_user
from customers.forms.points import PointsAdjustForm, PointsRedeemForm
from customers.services import membership

BALANCE = {"details": "customers/includes/points_balance.html"}


@require_http_methods(["GET", "POST"])
def points_adjust_view(request: HttpRequest, number: int) -> HttpResponse:
    customer = get_customer_for_user(request.user, number)
    if not request.user.has_perm("customers.adjust_points"):
        raise PermissionDenied
    form = PointsAdjustForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            entry = membership.points_adjust(customer=customer, actor=request.user, **form.cleaned_data)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(
                request,
                _("Points adjusted by %(points)+d; the balance is now %(balance)s.")
                % {"points": entry.points, "balance": entry.balance_after},
            )
            return redirect_after_save(request, customer.get_absolute_url() + "?tab=points-ledger")
    status = 400 if request.method == "POST" else 200
    context = {
        "form": form,
        "customer": customer,
        "title": _("Adjust points"),
        "form_id": "points-adjust-form",
        **BALANCE,
    }
    return render_form_page(request, "customers/customer_form_page.html", context, status=status)


@require_http_methods(["GET", "POST"])
def points_redeem_view(request: HttpRequest, number: int) -> HttpResponse:
    """At the desk: the member spends points on a gift or discount."""
    customer = get_customer_for_user(request.user, number, write=True)
    form = PointsRedeemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            entry = membership.points_redeem(customer=customer, actor=request.user, **form.cleaned_data)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(
                request,
                _("%(points)s points redeemed; the balance is now %(balance)s.")
                % {"points": -entry.points, "balance": entry.balance_after},
            )
            return redirect_after_save(request, customer.get_absolute_url() + "?tab=points-ledger")
    status = 400 if request.method == "POST" else 200
    context = {
        "form": form,
        "customer": customer,
        "title": _("Redeem points"),
        "form_id": "points-redeem-form",
        **BALANCE,
    }
    return render_form_page(request, "customers/customer_form_page.html", context, status=status)
