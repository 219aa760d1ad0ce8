"""Finding likely duplicates and merging two customers."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from customers.access import get_customer_for_user
from customers.forms.merge import MergeForm
from customers.models import Customer
from customers.selectors import customers_visible_to
from customers.services.merge import PICKABLE, customer_merge, duplicate_groups, merge_blank


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
    """Compare two customers detail by detail; POST keeps the chosen one, with the values ticked, and merges
    the other into it."""
    params = request.POST if request.method == "POST" else request.GET
    try:
        a, b = int(params["a"]), int(params["b"])
    except (KeyError, ValueError):
        return HttpResponseBadRequest(_("Name two customers to merge by their CRM numbers."))
    first = get_customer_for_user(request.user, a, write=True)
    second = get_customer_for_user(request.user, b, write=True)
    form = MergeForm(request.POST if request.method == "POST" else None, first=first, second=second)
    if form.is_bound:
        if form.is_valid():
            survivor, other = form.survivor_and_other()
            try:
                customer_merge(survivor=survivor, other=other, actor=request.user, picks=form.picks())
            except ValidationError as e:
                messages.error(request, " ".join(e.messages))
            else:
                messages.success(
                    request,
                    _("%(other)s merged into %(survivor)s; CRM number %(other)s now opens %(name)s.")
                    % {
                        "other": other.crm_number_display,
                        "survivor": survivor.crm_number_display,
                        "name": survivor.name,
                    },
                )
                return redirect(survivor)
        else:
            refused = form.non_field_errors() or [_("Choose, for each detail shown, whose value to keep.")]
            messages.error(request, _("Choose the customer to keep.") if "keep" in form.errors else " ".join(refused))
    context = {"a": first, "b": second, "form": form, "rows": _rows(form), "summary": _summary(form)}
    return render(request, "customers/merge.html", context)


def _rows(form: MergeForm) -> list[dict]:
    """One row per detail, both values side by side (blank ones shown as a dash, so rows never shift)."""
    first, second = form.pair
    rows = []
    for field in PICKABLE:
        model_field = Customer._meta.get_field(field)
        rows.append(
            {
                "field": field,
                "label": model_field.verbose_name,
                "kind": field if field in ("mobile", "email", "birthday", "gender") else "text",
                "values": [
                    {
                        "customer": c,
                        "value": getattr(c, field),
                        "blank": merge_blank(c, field),
                        "checked": form.chosen(field) == str(c.crm_number),
                    }
                    for c in (first, second)
                ],
            }
        )
    return rows


def _summary(form: MergeForm) -> list[dict]:
    """What is not picked (the merge combines it), side by side like the details."""
    pair = form.pair
    return [
        {"label": _("Tier"), "values": [str(c.tier) if c.tier else "" for c in pair]},
        {"label": _("Points"), "values": [str(c.points_balance) for c in pair]},
        {"label": _("Registered"), "values": [date_format(c.registered_on) if c.registered_on else "" for c in pair]},
    ]
