"""Finding likely duplicates and merging two customers."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from customers.access import get_customer_for_user
from customers.selectors import customers_visible_to
from customers.services.merge import customer_merge, duplicate_groups


def _may_merge(view):
    view = permission_required("customers.merge_customers", raise_exception=True)(view)
    return permission_required("customers.view_all_customers", raise_exception=True)(view)


@require_GET
@_may_merge
def duplicates_view(request: HttpRequest) -> HttpResponse:
    visible = customers_visible_to(request.user)
    page = Paginator(duplicate_groups(queryset=visible), 20).get_page(request.GET.get("page"))
    keys = [(g["lname"], g["birthday"]) for g in page]
    groups: dict[tuple, list] = {key: [] for key in keys}
    if keys:
        q = Q()
        for lname, birthday in keys:
            q |= Q(lname=lname, birthday=birthday)
        members = visible.annotate(lname=Lower("name")).filter(q).select_related("tier").order_by("crm_number")
        for customer in members:
            groups[(customer.lname, customer.birthday)].append(customer)
    return render(request, "customers/duplicates.html", {"page": page, "groups": list(groups.values())})


@require_http_methods(["GET", "POST"])
@_may_merge
def merge_view(request: HttpRequest) -> HttpResponse:
    """Compare two customers side by side; POST keeps the chosen one and merges the other into it."""
    params = request.POST if request.method == "POST" else request.GET
    try:
        a, b = int(params["a"]), int(params["b"])
    except (KeyError, ValueError):
        return HttpResponseBadRequest(_("Name two customers to merge by their CRM numbers."))
    first = get_customer_for_user(request.user, a, write=True)
    second = get_customer_for_user(request.user, b, write=True)
    if request.method == "POST":
        survivor, other = (first, second) if params.get("keep") == str(a) else (second, first)
        if params.get("keep") not in (str(a), str(b)):
            messages.error(request, _("Choose the customer to keep."))
        else:
            try:
                customer_merge(survivor=survivor, other=other, actor=request.user)
            except ValidationError as e:
                messages.error(request, " ".join(e.messages))
            else:
                messages.success(
                    request,
                    _("%(other)s was merged into %(survivor)s; CRM number %(number)s now opens this customer.")
                    % {"other": other.name, "survivor": survivor.name, "number": other.crm_number_display},
                )
                return redirect(survivor)
    return render(request, "customers/merge.html", {"a": first, "b": second, "pair": [first, second]})
